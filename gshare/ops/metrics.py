"""Prometheus metrics through prometheus-client: requests, their latency and errors by route,
scans by outcome and duration, and (computed when scraped) the parts' health and the scan
queue's depth and age.

A node runs several processes (gunicorn's web and S3 workers, the scan worker), so their
counters live in files under `data_dir/metrics` that /metrics adds up (prometheus-client's
multiprocess mode). prometheus-client chooses that mode when it is first imported, so it is
imported here only, and only after `prepare` has named the directory: call `prepare` before
anything observes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from gshare.core.config import Config

_MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
_PID = re.compile(r"_(\d+)\.db$")
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def prepare(config: Config) -> Path:
    """Keep this node's metrics in data_dir/metrics (unless the operator named another place
    in PROMETHEUS_MULTIPROC_DIR), and drop the files of processes that have ended."""
    directory = Path(os.environ.setdefault(_MULTIPROCESS, str(config.data_dir / "metrics")))
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        match = _PID.search(path.name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_MADE = threading.Lock()


def _instruments():
    """Make this process's metrics once (requests are served by several threads at once: two
    first requests racing would register the metrics twice)."""
    with _MADE:
        return _made()


@functools.cache
def _made():
    from prometheus_client import Counter, Histogram

    return {
        "requests": Counter(
            "gshare_http_requests",
            "HTTP requests answered, by listener (web, s3), route, method and status.",
            ["listener", "route", "method", "status"],
        ),
        "latency": Histogram(
            "gshare_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response body.",
            ["listener", "route"],
            buckets=DURATION_BUCKETS,
        ),
        "scans": Counter(
            "gshare_scans", "Scan jobs done by this node's workers, by outcome.", ["outcome"]
        ),
        "scan_duration": Histogram(
            "gshare_scan_duration_seconds",
            "Time a scan worker spent on one job.",
            ["outcome"],
            buckets=DURATION_BUCKETS,
        ),
    }


def observe_request(listener: str, route: str, method: str, status: int, seconds: float) -> None:
    tools = _instruments()
    # The latency first: a scrape that sees the request counted sees its duration too.
    tools["latency"].labels(listener, route).observe(seconds)
    tools["requests"].labels(listener, route, method, str(status)).inc()


def observe_scan(outcome: str, seconds: float) -> None:
    tools = _instruments()
    tools["scan_duration"].labels(outcome).observe(seconds)
    tools["scans"].labels(outcome).inc()


@dataclass(frozen=True)
class Gauge:
    """A gauge computed when scraped: a name, its help, its label names and its samples
    (label values, value)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    samples: tuple[tuple[tuple[str, ...], float], ...] = ()


def exposition(gauges: list[Gauge]) -> tuple[bytes, str]:
    """Return the text Prometheus scrapes and its content type: the counters and histograms
    of every process of this node, then the gauges the caller computed."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    _instruments()
    if _MULTIPROCESS in os.environ:
        from prometheus_client.multiprocess import MultiProcessCollector

        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY

    class Computed:
        def collect(self):
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
                for values, value in gauge.samples:
                    family.add_metric(list(values), value)
                yield family

    computed = CollectorRegistry(auto_describe=False)
    computed.register(Computed())
    return generate_latest(counted) + generate_latest(computed), CONTENT_TYPE_LATEST
