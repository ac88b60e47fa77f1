"""The 404 of an unmatched URL: API paths answer the API's error body, as the schema documents every 404;
pages keep Django's own page."""

from django.http import JsonResponse
from django.views import defaults


def not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
