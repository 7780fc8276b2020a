"""Check every API request against its declared payloads, in one place.

A route says what it takes and gives with `@takes(...)`; the body and the query reach the view
as pydantic models, and anything else is refused with 400 and
`{"error": {"code": "invalid", "message", "field", "reason"}}` before the view runs. schema.py
reads the same declaration to write the OpenAPI document.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from flask import jsonify, request
from flask_babel import gettext
from pydantic import BaseModel, ValidationError

from gshare.core.errors import NotFound
from web.api.blueprint import bp
from web.context import failed

MAX_JSON_BYTES = 64 * 1024  # a JSON body is a handful of fields; files go as raw bytes
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


class InvalidRequest(Exception):
    """A request the API refuses before doing anything: which field, and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Contract:
    """What a route takes (JSON body, query, raw bytes) and what it answers with."""

    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    status: int = 200
    raw_body: bool = False  # the request body is the file's bytes
    raw_answer: bool = False  # the answer is the file's bytes (200 or 206)


def takes(**contract) -> callable:
    """Declare a route's payloads; the view gets `body=` and `query=` already checked."""
    declared = Contract(**contract)

    def wrap(view):
        @functools.wraps(view)
        def checked(**kwargs):
            if declared.body is not None:
                kwargs["body"] = read_body(declared.body)
            if declared.query is not None:
                kwargs["query"] = read_query(declared.query)
            return view(**kwargs)

        checked.contract = declared
        return checked

    return wrap


def read_body(model: type[BaseModel]) -> BaseModel:
    """Return the request's JSON object checked against the model (no body reads as {})."""
    if request.content_length and request.content_length > MAX_JSON_BYTES:
        raise InvalidRequest("body", f"A JSON body holds at most {MAX_JSON_BYTES} bytes.")
    data = request.get_data(cache=True)
    if data.strip() and request.mimetype != "application/json":
        raise InvalidRequest("body", "Send the body as JSON, with Content-Type application/json.")
    return _checked(model.model_validate_json, data if data.strip() else b"{}")


def read_query(model: type[BaseModel]) -> BaseModel:
    """Return the query parameters checked against the model."""
    return _checked(model.model_validate, request.args.to_dict())


def _checked(validate, data) -> BaseModel:
    try:
        return validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidRequest(field, first["msg"]) from None


@bp.url_value_preprocessor
def _check_path(endpoint, values) -> None:
    """Answer 404 for tokens no upload could have (ids too large to name anything match no
    route: web.RowId)."""
    for name, value in (values or {}).items():
        if name == "token" and not TOKEN.fullmatch(value):
            raise NotFound("This item does not exist, or you may not see it.")


@bp.errorhandler(InvalidRequest)
def _refuse(exc: InvalidRequest):
    failed()
    reason = exc.reason.rstrip(".")
    message = gettext("%(field)s is not valid: %(reason)s.", field=exc.field, reason=reason)
    error = {"code": "invalid", "message": message, "field": exc.field, "reason": exc.reason}
    return jsonify(error=error), 400
