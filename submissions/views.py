"""The contributor's journey, from the start page to the confirmation."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .models import Attachment, Call


def home(request: HttpRequest) -> HttpResponse:
    calls = list(Call.objects.open_at(timezone.now()))
    return render(request, "submissions/home.html", {"calls": calls})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


@login_required
@permission_required("submissions.view_submission", raise_exception=True)
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Stream an uploaded file to staff who may view submissions; never a public URL."""
    attachment = get_object_or_404(Attachment, pk=pk)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
    )
