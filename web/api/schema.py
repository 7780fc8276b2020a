"""The OpenAPI 3.1 document of /api/v1, built from the routes and the payloads each declares
with `@takes` (validation.py): the schemas requests are checked against are the ones shown."""

from __future__ import annotations

import re

from flask import current_app
from pydantic.json_schema import models_json_schema

import web.api.payloads as payloads
from web.api.validation import TOKEN, Contract

REF = "#/components/schemas/{model}"
BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def document() -> dict:
    """Return the OpenAPI 3.1 document for the API's routes."""
    operations = []
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        contract = getattr(current_app.view_functions[rule.endpoint], "contract", Contract())
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations.append((rule, method, contract))
    components = _components(op[2] for op in operations)
    paths: dict = {}
    for rule, method, contract in operations:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        paths.setdefault(path, {})[method.lower()] = _operation(rule, method, contract)
    return {
        "openapi": "3.1.0",
        "info": {"title": "G-Share API", "version": "1"},
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
        },
        "security": [{"token": []}],
        "paths": paths,
    }


def _components(contracts) -> dict:
    models = {(payloads.Error, "serialization")}
    for contract in contracts:
        if contract.body:
            models.add((contract.body, "validation"))
        if contract.answer:
            models.add((contract.answer, "serialization"))
    _, schemas = models_json_schema(sorted(models, key=lambda m: m[0].__name__), ref_template=REF)
    return schemas["$defs"]


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _operation(rule, method: str, contract: Contract) -> dict:
    view = current_app.view_functions[rule.endpoint]
    operation = {
        "operationId": rule.endpoint.removeprefix("api.") + "_" + method.lower(),
        "summary": (view.__doc__ or "").strip().splitlines()[0] if view.__doc__ else "",
        "parameters": _path_parameters(rule) + _query_parameters(contract.query),
        "responses": _responses(contract),
    }
    if rule.endpoint == "api.openapi":
        operation["security"] = []
    if contract.body:
        content = {"application/json": {"schema": _ref(contract.body)}}
        operation["requestBody"] = {"required": True, "content": content}
    elif contract.raw_body:
        operation["requestBody"] = {"required": True, "content": BYTES}
    return operation


def _path_parameters(rule) -> list[dict]:
    def schema(arg: str) -> dict:
        if f"<int:{arg}>" in rule.rule:
            return {"type": "integer", "minimum": 0, "maximum": payloads.MAX_ID}
        if arg == "token":
            return {"type": "string", "pattern": f"^{TOKEN.pattern}$"}
        return {"type": "string", "enum": sorted(_choices(rule, arg))}

    return [
        {"name": arg, "in": "path", "required": True, "schema": schema(arg)}
        for arg in sorted(rule.arguments)
    ]


def _choices(rule, arg: str) -> list[str]:
    """The values of an `any(...)` converter (move, copy)."""
    found = re.search(rf"<any\(([^)]*)\):{arg}>", rule.rule)
    return [choice.strip() for choice in found.group(1).split(",")] if found else []


def _query_parameters(model) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field}
        for name, field in schema["properties"].items()
    ]


def _responses(contract: Contract) -> dict:
    error = {
        "description": "refused",
        "content": {"application/json": {"schema": _ref(payloads.Error)}},
    }
    if contract.raw_answer:
        answers = {
            "200": {"description": "the file", "content": BYTES},
            "206": {"description": "part of the file", "content": BYTES},
        }
    elif contract.status == 204:
        answers = {"204": {"description": "done"}}
    else:
        schema = _ref(contract.answer) if contract.answer else {"type": "object"}
        answers = {
            str(contract.status): {
                "description": "ok",
                "content": {"application/json": {"schema": schema}},
            }
        }
    return {**answers, "4XX": error, "503": dict(error, description="the file store is down")}
