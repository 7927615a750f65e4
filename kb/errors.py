"""One small exception tree; each error knows its HTTP status and a stable code."""

from __future__ import annotations


class KbError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(KbError):
    status = 400
    code = "bad_request"


class InvalidRecord(BadRequest):
    status = 422
    code = "invalid_record"


class Unauthorized(KbError):
    status = 401
    code = "unauthorized"


class Forbidden(KbError):
    status = 403
    code = "forbidden"


class NotFound(KbError):
    status = 404
    code = "not_found"


class PayloadTooLarge(KbError):
    status = 413
    code = "payload_too_large"


class IndexMismatch(KbError):
    """The saved index was built by another model or disagrees with the store."""

    status = 409
    code = "index_mismatch"
