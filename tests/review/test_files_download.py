"""Only staff who may view submissions can download a file; nobody else, by any URL."""

import pytest
from django.urls import reverse

from submissions.models import Attachment

from .. import samples
from ..factories import make_attachment, make_reviewer, make_user

pytestmark = pytest.mark.django_db


def stored_pdf(name: str = "Évidence “final”.pdf") -> Attachment:
    return make_attachment(content=samples.PDF, original_name=name)


def download_url(pk: int) -> str:
    return reverse("attachment_download", args=[pk])


def test_staff_with_permission_download_the_file_under_its_original_name(client):
    attachment = stored_pdf()
    client.force_login(make_reviewer(every_call=True))
    response = client.get(download_url(attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="Evidence final.pdf"; '
        "filename*=UTF-8''%C3%89vidence%20%E2%80%9Cfinal%E2%80%9D.pdf"
    )
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_admin_links_each_file_of_a_submission_to_the_download(client):
    attachment = stored_pdf(name="Talk <slides>.pptx")
    client.force_login(make_reviewer(every_call=True))
    page = client.get(
        reverse("admin:submissions_submission_change", args=[attachment.submission_id])
    ).content.decode()
    assert f'href="{download_url(attachment.pk)}"' in page
    assert "Talk &lt;slides&gt;.pptx" in page


@pytest.mark.parametrize("existing", [True, False])
def test_anonymous_visitors_are_sent_to_log_in_for_every_file_url(client, existing):
    pk = stored_pdf().pk if existing else 987654
    response = client.get(download_url(pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login") + "?next=")


@pytest.mark.parametrize("existing", [True, False])
@pytest.mark.parametrize("staff", [True, False])
def test_users_without_permission_get_a_403_for_every_file_url(client, existing, staff):
    pk = stored_pdf().pk if existing else 987654
    client.force_login(make_user("exporter", staff=staff, perms=("export_submissions",)))
    response = client.get(download_url(pk))
    assert response.status_code == 403
    assert "You do not have permission to see this page" in response.content.decode()


def test_a_file_has_no_public_url(attachments_root, settings):
    attachment = stored_pdf()
    with pytest.raises(NotImplementedError):
        attachment.file.url  # noqa: B018
    # Kept outside every folder the site serves.
    stored = attachments_root / attachment.file.name
    assert stored.read_bytes() == samples.PDF
    for served in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not stored.is_relative_to(served)
