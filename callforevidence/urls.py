from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("submissions.urls")),
]

handler403 = "submissions.views.permission_denied"
handler404 = "submissions.views.page_not_found"
handler500 = "submissions.views.server_error"
