"""The clinic web app: pages (Jinja2 + HTMX), a live session console, and the JSON API."""

from microamp.web.app import create_app
from microamp.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
