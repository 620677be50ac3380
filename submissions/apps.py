from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "submissions"

    def ready(self) -> None:
        # Connects the sign-in signal that starts a short staff session, before any request.
        from . import (
            emails,  # noqa: F401  (queues the receipt when a submission is submitted)
            ratelimits,  # noqa: F401  (registers its deploy check)
            staff_sessions,  # noqa: F401
        )
