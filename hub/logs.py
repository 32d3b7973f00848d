"""JSON-lines logging, each line with the request id it was logged in (two libraries).

Every line on stderr is one JSON object: `time` (UTC, RFC 3339 with microseconds), `level`,
`logger`, `request_id` (`-` outside a request), `message`, and `exception` (the traceback) when
there is one; fields given with `extra=` are added. python-json-logger's orjson formatter writes
it; asgi-correlation-id's logging filter puts on every record the request id its middleware
(`hub.middleware.request_ids`) took from the request or made.

`config` is a `logging.config.dictConfig` dictionary: `hub serve` gives it to uvicorn, which
applies it in the main process and again in each worker, so uvicorn's own lines (its access
line included) are JSON too and carry the request id.

They replaced a hand-written formatter and middleware: `python -m bench.request_id_logging`
(CPU per request, in-process, interleaved) measured the request-id layer at 2.6-5.1 µs against
1.3-3.2 µs, an access line at 8.4-8.9 µs against 8.3 µs, a line with a traceback at 38-41 µs
against 40-44 µs (two runs); a request's id and access line together +1.9 to +2.4 µs, 1.2-1.8% of
`{ __typename }` through the whole app (139-156 µs without HTTP; over HTTP a request costs more,
so the share is smaller).
"""

from __future__ import annotations

import logging.config
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

# LogRecord attributes under the names the lines use
_FIELDS = {"levelname": "level", "name": "logger", "correlation_id": "request_id", "exc_info": "exception"}
# not copied as extra fields: the standard record attributes, and uvicorn's ANSI-coloured copy of its message
_NOT_EXTRA = [*RESERVED_ATTRS, "color_message"]


def config(level: str = "info") -> dict[str, Any]:
    """The hub's logging as a `logging.config.dictConfig` dictionary: JSON lines on stderr."""
    quiet = max(logging.WARNING, logging.getLevelName(level.upper()))
    return {
        "version": 1,
        "disable_existing_loggers": False,  # the hub's module loggers exist before this runs
        "filters": {"request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"}},
        "formatters": {"json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": ["levelname", "name", "correlation_id", "message"],
            "rename_fields": _FIELDS,
            "reserved_attrs": _NOT_EXTRA,
            "timestamp": "time",
        }},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "alembic": {"level": quiet},  # their start-up chatter is not the hub's news
            "casbin": {"level": quiet},
        },
    }
