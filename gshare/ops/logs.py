"""Logs on standard error, as text for people or as JSON lines for a log collector
(`[server] log_format`). Every line names the node and the process; a line logged while a
request is served also names the request id, the actor and the route (see `serving`)."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

from gshare.core.config import Config

# What is known of the request being served in this thread: request_id, actor, route.
_REQUEST: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request", default=None)
_FIELDS = ("request_id", "actor", "route")
# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "node", "process_name"}


def configure(config: Config, process_name: str) -> None:
    """Send this process's logs to standard error in the configured format, naming the node
    (`[server] node_name`, or the host name) and the process (serve, web, s3, worker)."""
    handler = logging.StreamHandler()
    handler.addFilter(_Context(config.server.node_name or socket.gethostname(), process_name))
    if config.server.log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(process_name)s %(name)s %(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


@contextlib.contextmanager
def serving(request_id: str) -> Iterator[dict]:
    """Name the request this thread serves in every line logged until the block ends; the
    caller fills in the actor and the route of the yielded dict when it knows them."""
    fields = {"request_id": request_id}
    token = _REQUEST.set(fields)
    try:
        yield fields
    finally:
        _REQUEST.reset(token)


class _Context(logging.Filter):
    def __init__(self, node: str, process_name: str):
        super().__init__()
        self.node, self.process_name = node, process_name

    def filter(self, record: logging.LogRecord) -> bool:
        record.node, record.process_name = self.node, f"{self.process_name}[{os.getpid()}]"
        for name, value in (_REQUEST.get() or {}).items():
            if name in _FIELDS and not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, node, process, pid, the
    request's fields, whatever was passed with `extra=`, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "node": getattr(record, "node", None),
            "process": getattr(record, "process_name", record.processName),
            "pid": record.process,
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
