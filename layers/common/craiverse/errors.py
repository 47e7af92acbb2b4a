"""The API's one exception hierarchy: each error carries its HTTP status and contract error code.

`craiverse.api` is the only place that turns these into the `{error, code, details}` envelope.
"""

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "SERVER_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, "details": self.details}


class ValidationError(ApiError):
    status = 400
    code = "VALIDATION_ERROR"
    default_message = "Request validation failed"

    @classmethod
    def for_field(cls, field: str, message: str, kind: str = "invalid") -> "ValidationError":
        return cls(details={"fields": [{"field": field, "message": message, "type": kind}]})


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"
    default_message = "Invalid or missing API key"


class InsufficientCredits(ApiError):
    status = 402
    code = "INSUFFICIENT_CREDITS"
    default_message = "Not enough credits"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"
    default_message = "Insufficient permissions"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Resource not found"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"
    default_message = "Request conflicts with an earlier one"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body is too large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Content-Type must be application/json"


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests"


class ServerError(ApiError):
    """Anything the caller did not cause. The message never carries internals."""


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is busy; retry with the same Idempotency-Key"
