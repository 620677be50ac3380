from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("staff/files/<int:pk>/", views.attachment_download, name="attachment_download"),
]
