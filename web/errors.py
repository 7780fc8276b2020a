"""Map gshare's errors once: an HTML page with a sentence to act on, or a JSON error."""

from __future__ import annotations

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from gshare.core import errors
from web.context import failed, login_manager

STATUS = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.NameInvalid: 400,
    errors.NameTaken: 409,
    errors.InvalidMove: 400,
    errors.QuotaExceeded: 413,
    errors.UploadIncomplete: 400,
    errors.StorageDown: 503,
    errors.Quarantined: 403,
    errors.Conflict: 409,
    errors.InvalidInput: 400,
    errors.FactorNeeded: 403,
    errors.RangeNotSatisfiable: 416,
    errors.TooManyAttempts: 429,
    errors.Busy: 503,
}

SENTENCES = {
    "not_found": _l("This item does not exist, or you may not see it."),
    "permission_denied": _l("Your role here does not allow this. Ask a manager of the folder."),
    "name_invalid": _l("That name cannot be used. Avoid '/' and leave it not empty."),
    "name_invalid.direction": _l(
        "A name cannot contain invisible characters that change the direction of text "
        "(such as U+202E): they can make a program's name look like a document's."
    ),
    "name_invalid.blocked_ending": _l(
        "Files ending in %(ending)s may not be shared, so a file cannot be renamed to it. "
        "Choose another name."
    ),
    "name_taken": _l("An item with that name already exists here. Choose another name."),
    "invalid_move": _l("That move is not possible."),
    "quota_exceeded": _l(
        "The space has no room left for this file. Delete files or ask "
        "an administrator for more room."
    ),
    "upload_incomplete": _l(
        "The upload ended before all its bytes arrived; nothing was saved. Try again."
    ),
    "storage_unavailable": _l(
        "The file store does not answer; nothing was saved. Try again in a moment."
    ),
    "quarantined": _l("This version was found infected and is quarantined."),
    "conflict": _l("This conflicts with what is there now. Reload the page and try again."),
    "invalid": _l("A value given is not valid. Check the form and try again."),
    "invalid.password": _l("The password is not right."),
    "invalid.csv_missing": _l("Choose a CSV file first."),
    "invalid.csv_too_large": _l("The CSV file is larger than 1 MB: split it."),
    "invalid.csv_encoding": _l(
        "The file is not UTF-8 text: save it from the spreadsheet as 'CSV UTF-8'."
    ),
    "invalid.code": _l("That code is not right. Check the app's clock and try again."),
    "invalid.no_factor": _l("Add an authenticator app or a security key first."),
    "invalid.key_unreadable": _l("The security key's answer could not be read. Try again."),
    "invalid.key_expired": _l(
        "This request to the security key was already answered or is too old. Try again."
    ),
    "invalid.key_refused": _l("The security key's answer was not for this site or was changed."),
    "invalid.key_unknown": _l("This security key is not one of yours."),
    "invalid.key_cloned": _l(
        "This security key's counter went back: it may have been copied. "
        "It was refused; tell your administrator."
    ),
    "invalid.key_taken": _l("This security key is already registered."),
    "factor_needed": _l("Confirm your second factor again first."),
    "range_not_satisfiable": _l("The requested part of the file lies outside it."),
    "password_too_short": _l("A link password needs at least %(minimum)s characters."),
    "too_many_attempts": _l(
        "Too many wrong passwords were tried. Try again in %(minutes)s minutes."
    ),
    "busy": _l("Too many passwords are being checked; the server is busy. Try again shortly."),
    "csrf": _l("The form was too old or came from elsewhere. Reload the page and try again."),
    "unauthorized": _l("Please sign in first."),
    "error": _l("Something went wrong. Try again in a moment."),
}


def install(app: Flask) -> None:
    """Register the handlers for domain errors, CSRF failures and HTTP errors."""
    app.register_error_handler(errors.GshareError, _domain)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    login_manager.unauthorized_handler(_unauthorized)


def sentence(exc: errors.GshareError) -> str:
    """Return the sentence to show for a domain error, in the reader's language."""
    if str(get_locale()) == "en" and str(exc):
        return str(exc)
    specific = SENTENCES.get(f"{exc.code}.{exc.detail.get('reason')}")
    text = str(specific or SENTENCES.get(exc.code, SENTENCES["error"]))
    return text % exc.detail if "%(" in text else text


def respond(code: str, message: str, status: int):
    """Answer an error as JSON for the API and scripts, as a page for people."""
    failed()
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", message=message, status=status), status


def wants_json() -> bool:
    """Return whether the caller is a script (the API, or fetch asking for JSON)."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


RETRY_AFTER_SECONDS = 5  # a store that does not answer: clients and scripts wait, then retry


def _domain(exc: errors.GshareError):
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    body, status = respond(exc.code, sentence(exc), status)
    retry = exc.detail.get("retry_after") or (RETRY_AFTER_SECONDS if status == 503 else None)
    if retry is not None:
        return body, status, {"Retry-After": str(retry)}
    return body, status


def _csrf(exc: CSRFError):
    return respond("csrf", str(SENTENCES["csrf"]), 400)


def _http(exc: HTTPException):
    if exc.code == 401:
        return _unauthorized()
    code = {404: "not_found", 403: "permission_denied", 413: "too_large"}.get(exc.code, "error")
    message = SENTENCES.get(code) or exc.description
    return respond(code, str(message), exc.code or 500)


def _unauthorized():
    if wants_json():
        return respond("unauthorized", str(SENTENCES["unauthorized"]), 401)
    failed()
    return redirect(url_for("auth.login", next=request.full_path))
