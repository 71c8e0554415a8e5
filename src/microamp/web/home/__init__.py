"""The home companion: a phone-first web app for one household (`microamp home`)."""

from microamp.web.home.app import create_home_app

__all__ = ["create_home_app"]
