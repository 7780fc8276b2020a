"""Errors raised by the scanner adapter; no socket or library error escapes the package."""


class ScannerError(Exception):
    """Raise when clamd answers something unexpected, such as a reply ending in ERROR."""


class ScannerUnavailable(ScannerError):
    """Raise when clamd cannot be reached, times out, or drops the connection."""


class ScanLimitExceeded(ScannerError):
    """Raise when clamd refuses to scan all of a stream because it hit one of its limits."""
