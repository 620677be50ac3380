"""The admin: where staff review submissions and run calls.

Importing this package registers every ModelAdmin (SubmissionsConfig.ready() does).
"""

from django.conf import settings
from django.contrib import admin

from . import calls, emails, export, submissions, users  # noqa: F401 - each registers its ModelAdmins

# The admin names the service and who runs it, not "Django administration".
admin.site.site_header = f"{settings.SERVICE_NAME} · {settings.ORGANISATION_NAME}"
admin.site.site_title = f"{settings.SERVICE_NAME} · {settings.ORGANISATION_NAME}"
admin.site.index_title = "Review and manage calls"
# The navigation sidebar took 300 px of a 1280 px screen from the submissions list, pushing
# the status, files and reviewer columns off-screen; the breadcrumbs and home page remain.
admin.site.enable_nav_sidebar = False
