"""lotse — cross-agency case management and integration management for municipalities."""

__version__ = "0.1.0"
