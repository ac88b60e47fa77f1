"""The HTML login page with the same per-address rate limit as the API token endpoint (hardening, issue 9).

Django's stock LoginView has no throttle, so a password could be guessed at full speed through the form. Every
POST counts against the caller's address in the cache (``LABELGATE_LOGIN_RATE``, default 20/min, shared with the
token endpoint's rate); past the limit the page answers 429 with Retry-After and does not check the password.
"""

import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate() -> tuple[int, int]:
    text = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]
    count, period = text.split("/")
    return int(count), _PERIODS[period[0]]


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        limit, period = _rate()
        window = int(time.time() // period)
        key = f"html-login:{request.META.get('REMOTE_ADDR', '')}:{window}"
        cache.add(key, 0, timeout=period)
        try:
            attempts = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=period)
            attempts = 1
        if attempts > limit:
            response = HttpResponse(
                "Too many login attempts; wait a minute and try again.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(period)
            return response
        return super().post(request, *args, **kwargs)
