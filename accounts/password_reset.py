"""Self-service password reset with Django's own views, limited per address and per account.

Limits (cache counters per fixed window, ``LABELGATE_PASSWORD_RESET_RATE``): 5 requests an hour from one IP
address, then the page answers 429; 3 e-mails an hour to one address, after which further requests for it get
the same "check your inbox" page as always but send nothing. The answer never depends on whether the address
has an account (Django's PasswordResetForm sends nothing for an unknown one), so accounts cannot be enumerated.
"""

import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect

PER_IP_DEFAULT = 5
PER_ACCOUNT_DEFAULT = 3
WINDOW_SECONDS = 3600


def _limits() -> tuple[int, int]:
    per_ip, per_account = getattr(
        settings, "LABELGATE_PASSWORD_RESET_RATE", (PER_IP_DEFAULT, PER_ACCOUNT_DEFAULT)
    )
    return int(per_ip), int(per_account)


def _count(key: str) -> int:
    window = int(time.time() // WINDOW_SECONDS)
    full = f"password-reset:{key}:{window}"
    cache.add(full, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(full)
    except ValueError:  # the key expired between add and incr
        cache.set(full, 1, timeout=WINDOW_SECONDS)
        return 1


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def post(self, request, *args, **kwargs):
        per_ip, per_account = _limits()
        if _count(f"ip:{request.META.get('REMOTE_ADDR', '')}") > per_ip:
            response = HttpResponse(
                "Too many password reset requests from this address; wait an hour and try again.",
                status=429,
                content_type="text/plain",
            )
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        email = request.POST.get("email", "").strip().lower()
        if email and _count(f"account:{email}") > per_account:
            # The same page as a sent e-mail: saying "limit reached" would tell that the address was asked for.
            return HttpResponseRedirect(self.get_success_url())
        return super().post(request, *args, **kwargs)
