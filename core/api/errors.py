"""Map domain exceptions to the API's error shape: {"detail": ...} or {"field": ["message"]}."""

from django.db import OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body: dict = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        if exc.field:
            body["detail"] = exc.message
        if exc.code:
            body["code"] = exc.code
        body.update(exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, OperationalError):
        response = Response(
            {"detail": "The database is temporarily unavailable; nothing was changed. Retry shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "5"
        return response
    return drf_exception_handler(exc, context)
