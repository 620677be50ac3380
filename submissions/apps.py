from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "submissions"

    def ready(self) -> None:
        # Each import connects something before the first request.
        from .common import checks, ratelimits  # noqa: F401  (register their checks)
        from .outbox import queue  # noqa: F401  (queues the receipt when a submission is sent)
        from .publishing import releases  # noqa: F401  (an erasure or a withdrawal takes it down)
        from .review import admin, staff_sessions  # noqa: F401  (the admin; staff sign-in)
