"""Staff download a submitted file: the response, and the header that names the file."""

import re
import unicodedata
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from ..common.storage import is_s3
from .access import visible_attachments


def _may_download_files(user) -> bool:
    # As the admin itself decides: active staff only, whatever their groups' permissions say.
    return user.is_active and user.is_staff and user.has_perm("submissions.view_submission")


@login_required
@require_safe
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A submitted file, for active staff who may view submissions: from disk, or presigned S3.

    Anonymous visitors are sent to log in and others get a 403 before the id is looked up,
    so a guessed id tells them nothing. A draft's files are nobody's to read yet: 404.
    """
    if not _may_download_files(request.user):
        raise PermissionDenied
    # Another call's file is a 404, like a missing one (calls are kept apart: access.py), and
    # so is a draft's.
    attachment = get_object_or_404(visible_attachments(request), pk=pk)
    storage, name = attachment.file.storage, attachment.file.name
    disposition = content_disposition(attachment.original_name)
    if is_s3(storage):
        # The bucket serves the bytes; the URL is signed for this file and expires in a minute.
        url = storage.url(
            name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": attachment.content_type,
            },
        )
        response: HttpResponseBase = HttpResponseRedirect(url)
    else:
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404("The file is missing from storage") from None
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    return response


# Not django.utils.http.content_disposition_header: for a name outside ASCII it sends only
# filename*, with no plain filename for clients that ignore RFC 5987, and it passes an ASCII
# name through with only quotes and backslashes escaped. The download tests pin both.
def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9 ._()\-]", "_", ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
