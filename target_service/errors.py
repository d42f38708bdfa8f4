"""The one error shape of the API: ``{"error": CODE, "message": TEXT, "status": N}``."""

from __future__ import annotations

import orjson
from starlette.responses import Response


class ApiError(Exception):
    """A request the API refuses; becomes a JSON error response."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(status: int, code: str, message: str) -> bytes:
    return orjson.dumps({"error": code, "message": message, "status": status})


def error_response(error: ApiError) -> Response:
    return Response(error_body(error.status, error.code, error.message), error.status,
                    headers=error.headers, media_type="application/json")
