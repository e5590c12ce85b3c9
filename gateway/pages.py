"""The HTML pages, kept importable here: the staff console (/console) and the API
documentation (/api/v1/docs) live in the gateway/console package."""
from .console import console, docs

__all__ = ["console", "docs"]
