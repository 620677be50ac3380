from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("submissions.urls")),
]

handler403 = "submissions.journey.pages.permission_denied"
handler404 = "submissions.journey.pages.page_not_found"
handler500 = "submissions.journey.pages.server_error"
