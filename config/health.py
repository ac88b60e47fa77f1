from django.db import connection
from django.http import JsonResponse


def health(request):
    """Liveness + database readiness for load balancers and docker-compose health checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means not ready
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
