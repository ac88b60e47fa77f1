"""Turn a lost database connection into a clear 503 instead of a 500 traceback."""

import logging

from django.db import OperationalError, connection
from django.http import JsonResponse

from config.health import health

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        logger.warning("database unavailable: %s", exception)
        # Drop the broken connection so the next request reconnects without a process restart.
        connection.close_if_unusable_or_obsolete()
        response = JsonResponse(
            {"detail": "The database is temporarily unavailable; nothing was changed. Retry shortly."},
            status=503,
        )
        response["Retry-After"] = "5"
        return response


class HealthCheckMiddleware:
    """Answer ``/healthz/`` before host validation and the HTTPS redirect.

    Container and load-balancer probes call ``http://127.0.0.1:8000/healthz/``: with ``ALLOWED_HOSTS`` set to the
    public name and ``LABELGATE_HTTPS=1`` the request would otherwise get a 400 (unknown host) or a redirect to
    https, and the probe would report a healthy server as down. The answer reveals nothing but readiness.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz/":
            return health(request)
        return self.get_response(request)
