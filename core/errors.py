"""Domain exceptions. The API layer maps them to HTTP; services never know about HTTP."""


class ApplicationError(Exception):
    status_code = 400

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None, extra: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    status_code = 400


class NotFound(ApplicationError):
    status_code = 404


class Forbidden(ApplicationError):
    status_code = 403


class Conflict(ApplicationError):
    status_code = 409


class ServiceUnavailable(ApplicationError):
    status_code = 503
