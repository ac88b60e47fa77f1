"""``/favicon.ico``: browsers ask for it on every page whatever the markup says; answer with the SVG icon."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=3600, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Resolved per request: the static URL carries the manifest hash, which a deploy may change.
    return HttpResponseRedirect(static("favicon.svg"))
