from django.urls import path

from . import public, status, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("staff/files/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("<slug:slug>/", views.start, name="start"),
    path("<slug:slug>/licence/", views.consent, name="consent"),
    path("<slug:slug>/licence/declined/", views.declined, name="declined"),
    path("<slug:slug>/about-you/", views.about, name="about"),
    path("<slug:slug>/evidence/", views.evidence, name="evidence"),
    path("<slug:slug>/files/", views.files, name="files"),
    path("<slug:slug>/check-your-answers/", views.check, name="check"),
    path("<slug:slug>/submitted/", views.confirmation, name="confirmation"),
    path("<slug:slug>/closed/", views.closed, name="closed"),
    path("<slug:slug>/credits/", public.credits, name="credits"),
    path("<slug:slug>/open-data/", public.open_data, name="open_data"),
    path(
        "<slug:slug>/open-data/datapackage.json",
        public.open_data_package,
        name="open_data_package",
    ),
    path("<slug:slug>/open-data/contributions.csv", public.open_data_csv, name="open_data_csv"),
    path("<slug:slug>/open-data/contributions.json", public.open_data_json, name="open_data_json"),
    path("<slug:slug>/status/", status.status_page, name="status_page"),
    path("<slug:slug>/status/<str:token>/", status.open_link, name="status"),
]
