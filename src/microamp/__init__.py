"""microamp: an open microcurrent facial system."""

__version__ = "0.1.0"
