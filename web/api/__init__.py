"""The JSON API under /api/v1 (blueprint.py), its routes (routes.py, uploads.py) and its
OpenAPI description (schema.py)."""

from web.api import live, routes, uploads  # noqa: F401  (each adds its routes to bp)
from web.api.blueprint import bp

__all__ = ["bp"]
