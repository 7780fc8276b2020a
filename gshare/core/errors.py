"""Domain errors raised by services and mapped once per front end (HTML, JSON, S3 XML, CLI)."""


class GshareError(Exception):
    """Base of every error a person can act on; `code` is stable for APIs."""

    code = "error"

    def __init__(self, message: str = "", **detail):
        super().__init__(message or self.__doc__)
        self.detail = detail


class NotFound(GshareError):
    """The item does not exist, or you may not see it."""

    code = "not_found"


class PermissionDenied(GshareError):
    """You may see this item but not do that to it."""

    code = "permission_denied"


class NameInvalid(GshareError):
    """That name cannot be used."""

    code = "name_invalid"


class NameTaken(GshareError):
    """An item with that name already exists here."""

    code = "name_taken"


class InvalidMove(GshareError):
    """That move is not possible."""

    code = "invalid_move"


class QuotaExceeded(GshareError):
    """The space has no room left for this file."""

    code = "quota_exceeded"


class UploadIncomplete(GshareError):
    """The upload ended before all its bytes arrived; nothing was saved."""

    code = "upload_incomplete"


class StorageDown(GshareError):
    """The file store does not answer; nothing was saved. Try again in a moment."""

    code = "storage_unavailable"


class Quarantined(GshareError):
    """This version was found infected and is quarantined."""

    code = "quarantined"


class Conflict(GshareError):
    """The request conflicts with the current state."""

    code = "conflict"


class InvalidInput(GshareError):
    """A value given is not valid."""

    code = "invalid"


class PreconditionFailed(GshareError):
    """The item is not as the request expected it (detail: condition, the one that failed)."""

    code = "precondition_failed"


class NotSupported(GshareError):
    """gshare does not do what the request asks for."""

    code = "not_supported"


class RangeNotSatisfiable(GshareError):
    """The requested byte range lies outside the file."""

    code = "range_not_satisfiable"


class PasswordTooShort(InvalidInput):
    """The password is too short."""

    code = "password_too_short"


class TooManyAttempts(GshareError):
    """Too many wrong attempts; try again later (detail: retry_after seconds, minutes)."""

    code = "too_many_attempts"


class FactorNeeded(GshareError):
    """This needs a second factor proven a few minutes ago: confirm it again."""

    code = "factor_needed"


class Busy(GshareError):
    """The server is busy; try again in a few seconds (detail: retry_after seconds)."""

    code = "busy"
