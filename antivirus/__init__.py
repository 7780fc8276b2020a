"""Scanner adapter (clamd INSTREAM) and content-type detection (python-magic)."""

from antivirus.clamd import ClamdScanner, ScannerVersion, ScanResult, StreamScan
from antivirus.content_type import SNIFF_BYTES, detect_content_type
from antivirus.errors import ScanLimitExceeded, ScannerError, ScannerUnavailable

__all__ = [
    "SNIFF_BYTES",
    "ClamdScanner",
    "ScanLimitExceeded",
    "ScanResult",
    "ScannerError",
    "ScannerUnavailable",
    "ScannerVersion",
    "StreamScan",
    "detect_content_type",
]
