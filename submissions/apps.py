from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "submissions"

    def ready(self) -> None:
        from . import ratelimits  # noqa: F401  (registers its deploy check)
