from django.apps import AppConfig


class KindsConfig(AppConfig):
    """Holds the task kinds' labelling widgets (templates/kinds/<kind>/, static/kinds/<kind>/); no models."""

    name = "kinds"
