"""A call's outcome, in the admin: the synthesis pack for the What Works event (its themes and
order, the print view and the PDF), what the event learned per theme, the public outcome page
and the toolkit's publication, which emails the contributors.

Staff who may read the call's submissions see these screens (a reviewer only for the calls they
are assigned to: any other call is "not found"); reviewers may choose the pack and write notes;
publishing a note, the outcome page or the toolkit is a call manager's (they may change calls).
"""

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ...common.storage import is_s3
from ...common.text import whole_number
from ...common.wording import LONDON
from ...models import (
    Call,
    NothingReleased,
    OutgoingEmail,
    Release,
    ReleaseEntry,
    Submission,
    SynthesisNote,
    SynthesisNoteChange,
    SynthesisPackPdf,
    Theme,
)
from ...outbox.queue import toolkit_audience
from ...publishing.pack import (
    ThemeChoice,
    build_pack,
    options_for,
    pack_html,
    theme_choices,
)
from ...publishing.pack_file import pdf_status, request_pdf
from ..access import reviewable_calls
from ..history import person
from ..staff_files import content_disposition
from .outcome_forms import (
    PackOptionsForm,
    SynthesisNoteForm,
    ToolkitForm,
    informing_candidates,
)

if TYPE_CHECKING:
    _CallAdmin = admin.ModelAdmin[Call]
else:
    _CallAdmin = object

MAY_WRITE = "submissions.change_submission"
MAY_PUBLISH = "submissions.change_call"
# Seconds between the outcome screen's updates while the worker queues the toolkit's emails.
TOOLKIT_REFRESH = 5


def call_for(request: HttpRequest, object_id: str) -> Call:
    """The call, if this member of staff may read its submissions; else "not found"."""
    if not request.user.has_perm("submissions.view_submission"):
        raise PermissionDenied
    if (pk := whole_number(object_id)) is None:
        raise Http404
    call = reviewable_calls(request.user).filter(pk=pk).first()
    if call is None:
        raise Http404("No such call among the calls you review")
    return call


def staff_name(request: HttpRequest) -> str:
    """How the signed-in member of staff is named in histories (the admin lets in no one else)."""
    user = request.user
    return person(user) if isinstance(user, AbstractUser) else ""


@dataclass
class Audience:
    """Whom marking the toolkit published would email, by address, and what is not released."""

    release: Release | None  # the call's latest release: None, and the button refuses
    in_release: int = 0  # people with a contribution in it: told of the toolkit
    others: int = 0  # every other contributor (thanked if the call manager chooses)
    unreleased: int = 0  # contributions a release would add: thanked, not credited, until then


def audience(call: Call) -> Audience:
    """Counted as the outbox would queue them (outbox/queue.py toolkit_audience())."""
    release = Release.latest_of(call)
    if release is None:
        return Audience(None)
    kinds = Counter(kind for kind, _, _ in toolkit_audience(call, release, thank_others=True))
    in_release = ReleaseEntry.objects.filter(
        release=release, contribution__submission=OuterRef("pk")
    )
    unreleased = Submission.objects.publishable(call).exclude(Exists(in_release)).count()
    return Audience(
        release,
        kinds[OutgoingEmail.Kind.TOOLKIT_PUBLISHED],
        kinds[OutgoingEmail.Kind.THANK_YOU],
        unreleased,
    )


class OutcomeAdminMixin(_CallAdmin):
    """Adds the outcome screens under /admin/submissions/call/<id>/ and a link in the list."""

    def get_urls(self):
        def view(function, name: str, route: str):
            return path(route, self.admin_site.admin_view(function), name=name)

        return [
            view(self.outcome_view, "submissions_call_outcome", "<path:object_id>/outcome/"),
            view(self.pack_options_view, "submissions_call_pack", "<path:object_id>/pack/"),
            view(
                self.pack_print_view, "submissions_call_pack_print", "<path:object_id>/pack/print/"
            ),
            view(self.pack_pdf_view, "submissions_call_pack_pdf", "<path:object_id>/pack/pdf/"),
            view(
                self.pack_pdf_file_view,
                "submissions_call_pack_pdf_file",
                "<path:object_id>/pack/pdf/file/",
            ),
            view(
                self.note_view,
                "submissions_call_note",
                "<path:object_id>/notes/<int:theme_id>/",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="After the event")
    def outcome_link(self, obj: Call) -> str:
        url = reverse("admin:submissions_call_outcome", args=[obj.pk])
        return format_html('<a href="{}">Outcome and pack</a>', url)

    def _context(self, request: HttpRequest, call: Call, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "call": call,
            "may_write": request.user.has_perm(MAY_WRITE),
            "may_publish": request.user.has_perm(MAY_PUBLISH),
        }

    # --- The hub: notes, the outcome page, the toolkit ---------------------------------------

    def outcome_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        call = call_for(request, object_id)
        here = reverse("admin:submissions_call_outcome", args=[call.pk])
        toolkit_form = ToolkitForm(
            initial={
                "toolkit_url": call.toolkit_url,
                "thank_other_contributors": call.thank_other_contributors,
            }
        )
        if request.method == "POST":
            if not request.user.has_perm(MAY_PUBLISH):
                raise PermissionDenied
            action = request.POST.get("action")
            if action == "publish_outcome":
                call.publish_outcome()
                messages.success(request, "The outcome page is published.")
                return redirect(here)
            if action == "unpublish_outcome":
                call.unpublish_outcome()
                messages.success(request, "The outcome page is no longer public.")
                return redirect(here)
            if action == "toolkit":
                toolkit_form = ToolkitForm(request.POST)
                if toolkit_form.is_valid():
                    self._save_toolkit(request, call, toolkit_form)
                    return redirect(here)
            else:
                return redirect(here)
        emails = OutgoingEmail.objects.filter(call=call)
        notes = {note.theme_id: note for note in SynthesisNote.objects.filter(call=call)}
        themes = [choice for choice in theme_choices(call) if choice.id]
        # Themes with a note but no contribution in the pack any more keep their note.
        offered = {choice.id for choice in themes}
        for theme in Theme.objects.filter(pk__in=notes.keys() - offered).order_by("name"):
            themes.append(ThemeChoice(theme.pk, theme.name))
        queueing = call.toolkit_published_at is not None and call.toolkit_emails_done_at is None
        # A person who asked the screen to stop updating itself (WCAG 2.2.1).
        still = request.GET.get("updates") == "off"
        context = {
            **self._context(request, call, f"Outcome: {call.title}"),
            "refresh": TOOLKIT_REFRESH if queueing and not still else 0,
            "still": still,
            "themes": [(choice, notes.get(choice.id)) for choice in themes],
            "toolkit_form": toolkit_form,
            "toolkit_emails": emails.filter(kind=OutgoingEmail.Kind.TOOLKIT_PUBLISHED).count(),
            "thank_you_emails": emails.filter(kind=OutgoingEmail.Kind.THANK_YOU).count(),
            # Only while it can still be pressed: it reads every contribution of the call.
            "audience": None if call.toolkit_published_at else audience(call),
            "pdf": SynthesisPackPdf.objects.filter(call=call).first(),
        }
        return TemplateResponse(request, "admin/submissions/call/outcome.html", context)

    def _save_toolkit(self, request: HttpRequest, call: Call, form: ToolkitForm) -> None:
        url = form.cleaned_data["toolkit_url"]
        if call.toolkit_published_at is None:
            try:
                marked = call.mark_toolkit_published(
                    url, form.cleaned_data["thank_other_contributors"], by=staff_name(request)
                )
            except NothingReleased:
                messages.error(
                    request,
                    "Nothing was sent and the toolkit is not marked published: this call has no "
                    "release yet. Publish a release first (Releases), so that each email can "
                    "give its contributor's credit line and page as published.",
                )
                return
            if marked:
                # The worker queues the emails (outbox/queue.py queue_toolkit_job): minutes for
                # a big call, too long for a request. This screen shows how far it has got, and
                # once the worker is done review/poll_status.js changes the message's second
                # sentence (data-of-status, data-while) to data-then, the message not reloaded.
                messages.success(
                    request,
                    format_html(
                        "The toolkit is marked published and the outcome page is public. "
                        '<span data-of-status="toolkit-emails" data-while="queueing" '
                        'data-then="{}">{}</span>',
                        "All the emails to contributors are queued: this page says how many.",
                        "The emails to contributors are being queued: this page shows how many.",
                    ),
                )
                return
        call.change_toolkit_url(url)
        messages.info(
            request,
            "The toolkit was already marked published: its link is updated and nobody is "
            "emailed again.",
        )

    # --- The pack -----------------------------------------------------------------------------

    def pack_options_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        call = call_for(request, object_id)
        options = options_for(call)
        pdf = SynthesisPackPdf.objects.filter(call=call).first()
        choices = theme_choices(call, chosen=options)
        form = PackOptionsForm(
            initial={"include_shortlisted": options.include_shortlisted}, choices=choices
        )
        if request.method == "POST":
            if not request.user.has_perm(MAY_WRITE):
                raise PermissionDenied
            form = PackOptionsForm(request.POST, choices=choices)
            if form.is_valid():
                saved = form.save(call, by_name=staff_name(request))
                message = "The pack's themes and order are saved."
                if pdf is not None and pdf.ready and not pdf.same_options(saved):
                    message += (
                        " The PDF made before is out of date: download it again to remake it."
                    )
                messages.success(request, message)
                return redirect("admin:submissions_call_pack", call.pk)
        context = {
            **self._context(request, call, f"Synthesis pack: {call.title}"),
            "form": form,
            "options": options,
            "pdf": pdf,
            "pdf_options_changed": pdf is not None and pdf.ready and not pdf.same_options(options),
        }
        return TemplateResponse(request, "admin/submissions/call/pack_options.html", context)

    def pack_print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        call = call_for(request, object_id)
        pack = build_pack(call, options_for(call))
        links = {
            "pdf": reverse("admin:submissions_call_pack_pdf", args=[call.pk]),
            "options": reverse("admin:submissions_call_pack", args=[call.pk]),
        }
        response = HttpResponse(pack_html(pack, links=links))
        response["Cache-Control"] = "private, no-store"
        return response

    def pack_pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The PDF's page: where it is and, when ready, its download. POST asks the worker for
        one ("download": a new one unless the ready one is up to date; "again": a new one);
        nothing starts while one is being made."""
        call = call_for(request, object_id)
        here = reverse("admin:submissions_call_pack_pdf", args=[call.pk])
        if request.method == "POST":
            again = request.POST.get("action") == "again"
            pdf, started = request_pdf(call, by_name=staff_name(request), again=again)
            if not again and not started and pdf.ready:
                # "Download the PDF" with one up to date: that one, at once.
                return redirect("admin:submissions_call_pack_pdf_file", call.pk)
            if not started and pdf.in_progress:
                messages.info(
                    request,
                    "This PDF was already being prepared: pressing again starts no other.",
                )
            return redirect(here)
        context = {
            **self._context(request, call, f"The synthesis pack's PDF: {call.title}"),
            "status": pdf_status(call),
            # A person who asked the page to stop updating itself (WCAG 2.2.1).
            "still": request.GET.get("updates") == "off",
        }
        return TemplateResponse(request, "admin/submissions/call/pack_pdf.html", context)

    def pack_pdf_file_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        """The ready PDF, for staff who may see the call's pack; else back to its page."""
        call = call_for(request, object_id)
        pdf = SynthesisPackPdf.objects.filter(call=call, state=SynthesisPackPdf.State.READY).first()
        if pdf is None or not pdf.file.name:
            return redirect("admin:submissions_call_pack_pdf", call.pk)
        storage, name = pdf.file.storage, pdf.file.name
        made = (pdf.finished_at or pdf.requested_at).astimezone(LONDON)
        disposition = content_disposition(f"synthesis-pack-{call.slug}-{made:%Y-%m-%d}.pdf")
        response: HttpResponseBase
        if is_s3(storage):
            # The bucket serves the bytes; the URL is signed for this file and expires soon.
            url = storage.url(
                name,
                parameters={
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": "application/pdf",
                },
            )
            response = HttpResponseRedirect(url)
        else:
            try:
                handle = storage.open(name, "rb")
            except FileNotFoundError:
                raise Http404("The PDF is missing from storage") from None
            response = FileResponse(handle, content_type="application/pdf")
            response["Content-Disposition"] = disposition
        response["Cache-Control"] = "private, no-store"
        return response

    # --- A theme's synthesis note ---------------------------------------------------------------

    def note_view(self, request: HttpRequest, object_id: str, theme_id: int) -> HttpResponse:
        call = call_for(request, object_id)
        theme = Theme.objects.filter(pk=theme_id).first()
        if theme is None:
            raise Http404("No such theme")
        note = SynthesisNote.objects.filter(call=call, theme=theme).first()
        current = list(note.informed_by.values_list("pk", flat=True)) if note else []
        candidates = informing_candidates(call, theme, current)
        may_publish = request.user.has_perm(MAY_PUBLISH)
        initial = (
            {"text": note.text, "informed_by": current, "published": note.published} if note else {}
        )
        form = SynthesisNoteForm(
            initial=initial,
            candidates=candidates,
            may_publish=may_publish,
        )
        if request.method == "POST":
            if not request.user.has_perm(MAY_WRITE):
                raise PermissionDenied
            form = SynthesisNoteForm(
                request.POST,
                initial=initial,
                candidates=candidates,
                may_publish=may_publish,
            )
            if form.is_valid():
                changes = SynthesisNote.record(
                    call,
                    theme,
                    text=form.cleaned_data["text"],
                    informed_by=form.cleaned_data["informed_by"],
                    published=form.cleaned_data["published"] if may_publish else None,
                    by=request.user,
                    by_name=staff_name(request),
                )
                saved = f"{len(changes)} change{'' if len(changes) == 1 else 's'} saved"
                messages.success(request, f"What the event learned about {theme}: {saved}.")
                return redirect("admin:submissions_call_outcome", call.pk)
        history = (
            SynthesisNoteChange.objects.filter(note=note)
            if note
            else SynthesisNoteChange.objects.none()
        )
        context = {
            **self._context(request, call, f"What the event learned: {theme}"),
            "theme": theme,
            "note": note,
            "form": form,
            "changes": list(history),
        }
        return TemplateResponse(request, "admin/submissions/call/synthesis_note.html", context)
