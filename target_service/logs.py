"""JSON log lines on stdout, one object per line, for uvicorn's loggers and the service's own."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "color_message", "asctime",
}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) == len(_ACCESS_FIELDS):
            entry["message"] = "request"
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        else:
            entry["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _utc_timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn: every logger writes JSON lines to stdout."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "target_service.logs.JsonFormatter"}},
        "handlers": {"stdout": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "target_service": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
        },
    }
