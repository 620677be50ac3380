"""Every public URL of the service (the admin's are the admin's own)."""

from django.urls import path

from .journey import pages, resume, views
from .publishing import outcome, status
from .publishing import views as publishing
from .review import staff_files

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("staff/files/<int:pk>/", staff_files.attachment_download, name="attachment_download"),
    # Site pages come before the calls' slugs (no call may be named like them).
    path("accessibility/", pages.accessibility, name="accessibility"),
    path("cookies/", pages.cookies, name="cookies"),
    path("privacy/", pages.privacy, name="privacy"),
    path("<slug:slug>/", views.start, name="start"),
    path("<slug:slug>/licence/", views.consent, name="consent"),
    path("<slug:slug>/licence/declined/", views.declined, name="declined"),
    path("<slug:slug>/licence/delete-answers/", views.delete_answers, name="delete_answers"),
    path("<slug:slug>/about-you/", views.about, name="about"),
    path("<slug:slug>/evidence/", views.evidence, name="evidence"),
    path("<slug:slug>/files/", views.files, name="files"),
    path("<slug:slug>/files/remove/", views.remove_file, name="remove_file"),
    path("<slug:slug>/check-your-answers/", views.check, name="check"),
    path("<slug:slug>/submitted/", views.confirmation, name="confirmation"),
    path("<slug:slug>/closed/", views.closed, name="closed"),
    path("<slug:slug>/save/", resume.resume_request, name="resume_request"),
    path("<slug:slug>/save/sent/", resume.resume_sent, name="resume_sent"),
    path("<slug:slug>/return/", resume.resume_confirm, name="resume_confirm"),
    path("<slug:slug>/return/<str:token>/", resume.resume, name="resume"),
    path(
        "<slug:slug>/continued-elsewhere/",
        resume.continued_elsewhere,
        name="continued_elsewhere",
    ),
    path("<slug:slug>/credits/", publishing.credits, name="credits"),
    path(
        "<slug:slug>/contributions/<str:public_id>/",
        publishing.contribution,
        name="contribution",
    ),
    path(
        "<slug:slug>/contributions/<str:public_id>/cite.<str:style>",
        publishing.citation,
        name="citation",
    ),
    path("<slug:slug>/outcome/", outcome.outcome, name="outcome"),
    path("<slug:slug>/open-data/", publishing.open_data, name="open_data"),
    path("<slug:slug>/open-data/releases.atom", publishing.ReleasesFeed(), name="releases_feed"),
    path(
        "<slug:slug>/open-data/releases/<int:number>/",
        publishing.release_page,
        name="release_page",
    ),
    path(
        "<slug:slug>/open-data/releases/<int:number>/<str:name>",
        publishing.release_file,
        name="release_file",
    ),
    path("<slug:slug>/open-data/<str:name>", publishing.open_data_file, name="open_data_file"),
    path("<slug:slug>/status/", status.status_page, name="status_page"),
    path("<slug:slug>/status/<str:token>/", status.open_link, name="status"),
]
