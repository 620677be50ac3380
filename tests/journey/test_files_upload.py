"""The files step: contributors add and remove files; bad files are refused at the field."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import HttpResponse

from submissions.journey.uploads import UploadLimitsMiddleware
from submissions.models import Attachment, Submission

from .. import samples
from ..contributor import url
from ..factories import make_attachment
from ..files import BOUNDARY, draft_at_files_step, multipart, upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def errors_at_field(response) -> list[str]:
    """The messages shown under the files field (crispy-forms' invalid-feedback)."""
    page = response.content.decode()
    found = re.findall(r'<(?:p|span|strong) id="error_\d+_id_files"[^>]*>(.*?)</', page, re.S)
    return [re.sub(r"<[^>]+>", "", text).strip() for text in found]


def assert_refused(response, *fragments: str) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "<title>Error: Your files" in page
    shown = " ".join(errors_at_field(response))
    for fragment in fragments:
        assert fragment in shown, shown
    assert not Attachment.objects.exists()


@pytest.fixture
def draft(client, seeded_call):
    draft_at_files_step(client, seeded_call)
    return Submission.objects.get()


def test_a_contributor_attaches_a_pdf_and_a_slide_deck_and_sees_them_listed(
    client, seeded_call, draft, attachments_root
):
    pptx = samples.ooxml("pptx")
    response = upload(client, seeded_call, [("Report 2017.pdf", samples.PDF), ("Talk.pptx", pptx)])
    assert response.status_code == 302
    assert response.url == url(seeded_call, "files")

    page = client.get(url(seeded_call, "files")).content.decode()
    assert "Report 2017.pdf" in page
    assert "Talk.pptx" in page
    assert "You have added 2 of 5 files." in page

    pdf, deck = Attachment.objects.order_by("id")
    assert (pdf.original_name, pdf.size, pdf.content_type) == (
        "Report 2017.pdf",
        len(samples.PDF),
        "application/pdf",
    )
    assert pdf.sha256 == hashlib.sha256(samples.PDF).hexdigest()
    assert deck.content_type.endswith("presentationml.presentation")
    # Stored under a random key, never under the contributor's name.
    assert re.fullmatch(r"attachments/[0-9a-f]{32}", pdf.file.name)
    assert (attachments_root / pdf.file.name).read_bytes() == samples.PDF

    check = client.get(url(seeded_call, "check")).content.decode()
    assert "Report 2017.pdf" in check
    assert f"({len(samples.PDF)} bytes)" in check
    assert "Talk.pptx" in check


def test_files_are_added_across_several_visits_and_continue_goes_to_check(
    client, seeded_call, draft
):
    upload(client, seeded_call, [("notes.txt", samples.TXT)])
    upload(client, seeded_call, [("figures.csv", samples.CSV), ("chart.png", samples.png())])
    response = upload(client, seeded_call, [("letter.docx", samples.ooxml("docx"))], "continue")
    assert response.url == url(seeded_call, "check")
    assert sorted(draft.attachments.values_list("original_name", flat=True)) == [
        "chart.png",
        "figures.csv",
        "letter.docx",
        "notes.txt",
    ]


def test_every_allowed_type_is_accepted(client, seeded_call, draft):
    seeded_call.max_files = 20
    seeded_call.save()
    files = [
        ("a.pdf", samples.PDF),
        ("b.docx", samples.ooxml("docx")),
        ("c.doc", samples.ole("WordDocument")),
        ("d.odt", samples.odt()),
        ("e.pptx", samples.ooxml("pptx")),
        ("f.xlsx", samples.ooxml("xlsx")),
        ("g.csv", samples.CSV),
        ("h.txt", samples.TXT),
        ("i.rtf", samples.RTF),
        ("j.png", samples.png()),
        ("k.jpg", samples.JPEG),
        ("l.JPEG", samples.JPEG + b"\x00"),
    ]
    response = upload(client, seeded_call, files)
    assert response.status_code == 302, errors_at_field(response)
    assert draft.attachments.count() == len(files)


def test_a_contributor_removes_a_file(
    client, seeded_call, draft, attachments_root, django_capture_on_commit_callbacks
):
    upload(client, seeded_call, [("keep.pdf", samples.PDF), ("drop.png", samples.png())])
    drop = Attachment.objects.get(original_name="drop.png")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/{seeded_call.slug}/files/remove/", {"remove": drop.pk})
    assert response.url == url(seeded_call, "files")
    assert list(draft.attachments.values_list("original_name", flat=True)) == ["keep.pdf"]
    assert not (attachments_root / drop.file.name).exists()
    assert "drop.png" not in client.get(url(seeded_call, "files")).content.decode()


def test_another_drafts_file_cannot_be_removed_by_guessing_its_id(client, seeded_call, draft):
    other = Submission.objects.create(call=seeded_call)
    upload(client, seeded_call, [("mine.pdf", samples.PDF)])
    theirs = make_attachment(other, original_name="theirs.pdf")
    client.post(f"/{seeded_call.slug}/files/remove/", {"remove": theirs.pk})
    assert Attachment.objects.filter(pk=theirs.pk).exists()


def test_a_disguised_executable_is_refused_at_the_field_naming_the_file(client, seeded_call, draft):
    response = upload(client, seeded_call, [("report.pdf", samples.EXE)])
    assert_refused(response, "“report.pdf” is a program or script, which cannot be uploaded")
    # The error summary links to the field.
    assert 'href="#id_files"' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("slides.docx", samples.ELF),
        ("readme.txt", samples.SCRIPT),
        ("data.csv", b"<script>alert(1)</script>"),
        ("page.txt", b"<!DOCTYPE html><html><body>hi</body></html>"),
    ],
)
def test_programs_and_scripts_renamed_to_an_allowed_extension_are_refused(
    client, seeded_call, draft, name, content
):
    assert_refused(upload(client, seeded_call, [(name, content)]), f"“{name}” is a program")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.pdf", samples.png(), "“photo.pdf” is not a PDF, although its name ends in .pdf"),
        ("scan.png", samples.JPEG, "“scan.png” is not a PNG image"),
        ("binary.txt", b"\x01\x02\x03\x04binary", "“binary.txt” is not a text file"),
        ("old.doc", samples.ole("MsiTable"), "“old.doc” is not a Word 97-2003 document"),
        ("page.html", b"<p>hello</p>", "“page.html” is not a type of file you can upload"),
        ("noextension", samples.PDF, "“noextension” is not a type of file you can upload"),
    ],
)
def test_content_that_does_not_match_the_name_is_refused(
    client, seeded_call, draft, name, content, message
):
    assert_refused(upload(client, seeded_call, [(name, content)]), message)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.docx", samples.ooxml("docx", main_part=False)),
        ("macros.docx", samples.ooxml("docx", macros=True)),
        ("deck.pptx", samples.ooxml("docx")),
        ("sheet.xlsx", samples.PDF),
        ("truncated.pptx", samples.ooxml("pptx")[:300]),
        ("zip.docx", b"PK\x03\x04" + b"\x00" * 200),
    ],
)
def test_an_office_file_that_is_not_a_valid_package_is_refused(
    client, seeded_call, draft, name, content
):
    response = upload(client, seeded_call, [(name, content)])
    assert_refused(response, f"“{name}” is not a")


def test_an_empty_file_is_refused(client, seeded_call, draft):
    response = upload(client, seeded_call, [("empty.pdf", b"")])
    assert_refused(response, "“empty.pdf” is empty")


def test_a_file_over_the_calls_size_limit_is_refused(client, seeded_call, draft):
    big = samples.PDF + b"0" * (10 * MB)
    response = upload(client, seeded_call, [("big.pdf", big)])
    assert_refused(response, "“big.pdf” is 10 MB; each file must be 10 MB or smaller")


def test_the_size_limit_is_the_calls_own(client, seeded_call, draft):
    seeded_call.max_file_size = 100
    seeded_call.save()
    response = upload(client, seeded_call, [("report.pdf", samples.PDF + b"0" * 200)])
    assert_refused(response, "each file must be 100 bytes or smaller")


def test_more_files_than_the_call_allows_are_refused(client, seeded_call, draft):
    upload(client, seeded_call, [("one.pdf", samples.PDF), ("two.txt", samples.TXT)])
    files = [(f"{n}.csv", samples.CSV + str(n).encode()) for n in range(4)]
    response = upload(client, seeded_call, files)
    assert response.status_code == 200
    assert errors_at_field(response) == [
        "You can add up to 5 files; you have added 2, so choose 3 or fewer"
    ]
    assert draft.attachments.count() == 2


def test_the_upload_field_goes_once_the_limit_is_reached(client, seeded_call, draft):
    seeded_call.max_files = 1
    seeded_call.save()
    upload(client, seeded_call, [("one.pdf", samples.PDF)])
    page = client.get(url(seeded_call, "files")).content.decode()
    assert 'type="file"' not in page
    response = upload(client, seeded_call, [("two.txt", samples.TXT)])
    assert errors_at_field(response) == [
        "You have already added 1 files, the most you can add; remove one to add another"
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd.pdf", "The name of “passwd.pdf” includes folder names"),
        ("C:\\Users\\jane\\report.pdf", "The name of “report.pdf” includes folder names"),
        ("report\x07.pdf", "The name of “report.pdf” contains control characters"),
        ("evil\u202efdp.exe", "The name of “evilfdp.exe” contains control characters"),
        ("a" * 296 + ".pdf", "is too long; rename it to 200 characters or fewer"),
        ("..", "A file has no name"),
    ],
)
def test_a_file_name_that_is_not_a_plain_name_is_refused(client, seeded_call, draft, name, message):
    response = upload(client, seeded_call, [(name, samples.PDF)])
    assert_refused(response, message)


def test_the_same_file_twice_is_refused(client, seeded_call, draft):
    upload(client, seeded_call, [("report.pdf", samples.PDF)])
    response = upload(client, seeded_call, [("copy of report.pdf", samples.PDF)])
    assert errors_at_field(response) == [
        "“copy of report.pdf” is the same file as “report.pdf”, which you have already added"
    ]
    assert draft.attachments.count() == 1


def test_one_bad_file_among_several_adds_none_and_says_so(client, seeded_call, draft):
    response = upload(client, seeded_call, [("good.pdf", samples.PDF), ("bad.pdf", samples.EXE)])
    assert_refused(response, "“bad.pdf” is a program", "No files were added")


def test_names_are_escaped_wherever_they_are_shown(client, seeded_call, draft):
    name = "<img src=x onerror=alert(1)>.pdf"
    upload(client, seeded_call, [(name, samples.PDF)])
    for step in ("files", "check"):
        page = client.get(url(seeded_call, step)).content.decode()
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    response = upload(client, seeded_call, [(name.replace(".pdf", ".txt"), samples.EXE)])
    assert "<img src=x" not in response.content.decode()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, seeded_call, draft):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    response = client.generic(
        "POST",
        url(seeded_call, "files"),
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_TYPE="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * MB),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "The files you chose are too large" in page
    assert "60 MB or less" in page


def test_files_stream_to_a_temporary_file_and_keep_the_name_as_sent(rf):
    body = multipart([("C:\\Users\\jane\\small.txt", samples.TXT)], action="add")
    request = rf.post("/any/files/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    received = {}

    def view(request):
        received["file"] = request.FILES["files"]
        return HttpResponse("ok")

    UploadLimitsMiddleware(view)(request)
    upload_ = received["file"]
    # On disk from the first byte, even though it is far below FILE_UPLOAD_MAX_MEMORY_SIZE.
    assert isinstance(upload_, TemporaryUploadedFile)
    assert upload_.read() == samples.TXT
    assert upload_.sent_name == "C:\\Users\\jane\\small.txt"
    assert upload_.name == "small.txt"


def test_adding_files_makes_a_fixed_number_of_queries(
    client, seeded_call, draft, django_assert_max_num_queries
):
    files = [("a.pdf", samples.PDF), ("b.txt", samples.TXT), ("c.csv", samples.CSV)]
    # Session, call, draft, existing files; then the lock, the count and one insert per file.
    with django_assert_max_num_queries(9 + len(files)):
        response = upload(client, seeded_call, files)
    assert response.status_code == 302


def test_removing_a_file_takes_a_post(client, seeded_call, draft):
    upload(client, seeded_call, [("keep.pdf", samples.PDF)])
    response = client.get(
        f"/{seeded_call.slug}/files/remove/", {"remove": draft.attachments.get().pk}
    )
    assert response.status_code == 405
    assert draft.attachments.count() == 1
