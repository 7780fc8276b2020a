"""The OpenAPI document of /api/v1, built from the routes and their docstrings."""

from __future__ import annotations

import re

from flask import current_app

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def document() -> dict:
    """Return the OpenAPI 3.1 document for the API's routes."""
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        view = current_app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view)
    return {
        "openapi": "3.1.0",
        "info": {"title": "G-Share API", "version": "1"},
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
        "security": [{"token": []}],
        "paths": paths,
    }


def _operation(rule, view) -> dict:
    params = [
        {
            "name": arg,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if _is_int(rule, arg) else "string"},
        }
        for arg in sorted(rule.arguments)
    ]
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "operationId": rule.endpoint.removeprefix("api.")
        + "_"
        + "_".join(sorted(rule.methods - {"HEAD", "OPTIONS"})).lower(),
        "summary": (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else "",
        "parameters": params,
        "responses": {"200": {"description": "ok"}, "4XX": error},
    }


def _is_int(rule, arg: str) -> bool:
    return f"<int:{arg}>" in rule.rule
