"""Releases in the admin: a call's release page, where a call manager sees what the next
release will add, change and remove, and publishes it; and each submission's redactions.

Both are for call managers (they may change calls): "Included in toolkit" is a reviewer's
decision, publishing it is theirs.
"""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from ...common.text import whole_number
from ...models import Call, PublicContribution, Redaction, Release, Submission
from ...models.releases import is_released
from ...publishing.redaction import by_part, public_answer, public_links
from ...publishing.release_job import in_background, job_status, request_release
from ...publishing.releases import latest_release, pending_changes, publish_release
from ..access import reviewable_calls, visible_submissions
from .staff_forms import StaffTextMixin

PUBLISH = "submissions.change_call"

if TYPE_CHECKING:
    _CallAdmin = admin.ModelAdmin[Call]
    _SubmissionAdmin = admin.ModelAdmin[Submission]
else:
    _CallAdmin = _SubmissionAdmin = object


class PublishForm(StaffTextMixin, forms.Form):
    error_labels = {"notes": "What changed"}

    number = forms.IntegerField(widget=forms.HiddenInput)
    notes = forms.CharField(
        label="What changed (public, shown with the release and in its feed)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
    checked = forms.BooleanField(
        label="I have read what this release adds and changes, and redacted what must not be "
        "published",
        error_messages={
            "required": "Confirm that you have read what this release adds and changes"
        },
    )


class ReleasesAdminMixin(_CallAdmin):
    """Adds /admin/submissions/call/<id>/releases/ and a link to it in the list of calls."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.releases_view)
        return [
            path("<path:object_id>/releases/", view, name="submissions_call_releases"),
            *super().get_urls(),
        ]

    @admin.display(description="Releases")
    def releases_link(self, obj: Call) -> str:
        url = reverse("admin:submissions_call_releases", args=[obj.pk])
        return format_html('<a href="{}">Releases</a>', url)

    def releases_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not request.user.has_perm(PUBLISH):
            raise PermissionDenied
        if (pk := whole_number(object_id)) is None:
            raise Http404
        call = get_object_or_404(reviewable_calls(request.user), pk=pk)
        latest = latest_release(call)
        next_number = (latest.number if latest else 0) + 1
        job = job_status(call, latest)
        if job.in_progress and request.method != "POST":
            # While the worker publishes: its progress, no preview (nothing to press meanwhile).
            return self.job_page(request, call, job, next_number)
        changes = pending_changes(call)
        form = PublishForm(initial={"number": next_number})
        if request.method == "POST":
            form = PublishForm(request.POST)
            if form.is_valid():
                if form.cleaned_data["number"] != next_number:
                    return self.publish(request, call, form)  # refused there, with a message
                if not changes and latest is not None:
                    form.add_error(None, f"Nothing has changed since release {latest.number}.")
                elif not changes:
                    form.add_error(None, "Nothing to publish: no contribution is included yet.")
                else:
                    return self.publish(request, call, form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Releases: {call.title}",
            "call": call,
            "releases": list(Release.objects.filter(call=call).order_by("-number")),
            "changes": changes,
            "next_number": next_number,
            "form": form,
            "job": job,
            "changelist_url": reverse("admin:submissions_submission_changelist"),
        }
        return TemplateResponse(request, "admin/submissions/call/releases.html", context)

    def job_page(self, request: HttpRequest, call: Call, job, next_number: int) -> HttpResponse:
        still = request.GET.get("updates") == "off"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Releases: {call.title}",
            "call": call,
            "releases": list(Release.objects.filter(call=call).order_by("-number")),
            "next_number": next_number,
            "job": job,
            "refresh": 0 if still else job.refresh,
            "still": still,
        }
        return TemplateResponse(request, "admin/submissions/call/releases.html", context)

    def publish(self, request: HttpRequest, call: Call, form: PublishForm) -> HttpResponse:
        number = form.cleaned_data["number"]
        notes = form.cleaned_data["notes"]
        total = Submission.objects.publishable(call).count()
        if in_background(total):
            job, started = request_release(
                call, number=number, by=request.user, notes=notes, total=total
            )
            if started:
                messages.success(
                    request,
                    f"Release {number} is being published by the service's worker: "
                    f"{total} contributions. This page shows how far it has got; nothing is "
                    "public until all of it is.",
                )
            else:
                messages.error(
                    request,
                    f"Release {job.number} is already being published (a second press, or "
                    "another call manager): nothing was started again.",
                )
            return redirect("admin:submissions_call_releases", call.pk)
        release = publish_release(call, number=number, by=request.user, notes=notes)
        if release is None:
            messages.error(
                request,
                f"Release {number} was already published (a second press, or another call "
                "manager): nothing was published again.",
            )
        else:
            messages.success(
                request,
                f"Release {release.number} published: {release.contribution_count} "
                f"contributions, {release.added_count} new (their contributors will be told by "
                "email).",
            )
        return redirect("admin:submissions_call_releases", call.pk)


def publication_context(submission: Submission) -> dict:
    """For the submission's page: where it is published, and its redactions (two queries)."""
    found = list(
        PublicContribution.objects.filter(submission=submission)
        .order_by("entries__release__number")
        .values_list("public_id", "entries__release__number")
    )
    return {
        "public_id": found[0][0] if found else "",
        # A contribution taken off every release has its id and no release (a NULL).
        "published_in": [n for _, n in found if n is not None],  # type: ignore[redundant-expr]  # the stubs miss the LEFT JOIN
        "redaction_count": submission.redactions.count(),
    }


# --- Redactions ------------------------------------------------------------------------------


class RedactionForm(StaffTextMixin, forms.Form):
    error_labels = {"text": "The words to redact", "note": "The note"}

    part = forms.ChoiceField(label="Where")
    text = forms.CharField(
        label="Words to redact",
        required=False,
        max_length=2000,
        help_text="Every occurrence in that answer or link, ignoring case. Leave empty to "
        "redact the whole of it.",
    )
    reason = forms.ChoiceField(label="Reason", choices=Redaction.Reason.choices)
    note = forms.CharField(
        label="Note (staff only; needed for “Other”)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )

    def __init__(self, *args, submission: Submission, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts: dict[str, str] = {}
        choices = []
        for question in submission.call.questions.all():
            part = Redaction.answer_part(question)
            self.texts[part] = submission.answers.get(str(question.pk), "")
            if self.texts[part]:
                choices.append((part, f"Answer to question {question.position}"))
        for n, link in enumerate(submission.links):
            self.texts[Redaction.link_part(n)] = link
            choices.append((Redaction.link_part(n), f"Link {n + 1}: {link[:60]}"))
        self.fields["part"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None
        part, text = cleaned.get("part"), cleaned.get("text", "")
        if part and text and text.casefold() not in self.texts[part].casefold():
            self.add_error(
                "text",
                forms.ValidationError(
                    "These words are not in that answer or link: copy them exactly.",
                    code="not_found",
                ),
            )
        if cleaned.get("reason") == Redaction.Reason.OTHER and not cleaned.get("note"):
            self.add_error(
                "note",
                forms.ValidationError("Say why in the note", code="note_required"),
            )
        return cleaned


class RedactionsAdminMixin(_SubmissionAdmin):
    """Adds /admin/submissions/submission/<id>/redactions/ (and .../<r>/remove/)."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/redactions/",
                wrap(self.redactions_view),
                name="submissions_submission_redactions",
            ),
            path(
                "<path:object_id>/redactions/<int:redaction_id>/remove/",
                wrap(self.remove_redaction_view),
                name="submissions_submission_remove_redaction",
            ),
            *super().get_urls(),
        ]

    def redactable(self, request: HttpRequest, object_id: str) -> Submission:
        if not request.user.has_perm(PUBLISH):
            raise PermissionDenied
        if (pk := whole_number(object_id)) is None:
            raise Http404
        submissions = visible_submissions(request, Submission.objects.select_related("call"))
        return get_object_or_404(submissions, pk=pk, state=Submission.State.SUBMITTED)

    @staticmethod
    def public_preview(submission: Submission) -> dict:
        grouped = by_part(submission.redactions.all())
        questions = list(submission.call.questions.all())
        return {
            "answers": [
                (q, public_answer(q.pk, submission.answers.get(str(q.pk), ""), grouped))
                for q in questions
            ],
            "links": public_links(submission.links, grouped),
            "questions": {q.pk: q for q in questions},
        }

    @staticmethod
    def redaction_rows(submission: Submission, questions: dict) -> list[tuple[Redaction, str]]:
        return [(r, r.describe(questions)) for r in submission.redactions.all()]

    @method_decorator(require_http_methods(["GET", "POST"]))
    def redactions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        submission = self.redactable(request, object_id)
        form = RedactionForm(submission=submission)
        released = is_released(submission)
        if request.method == "POST" and not released:
            form = RedactionForm(request.POST, submission=submission)
            if form.is_valid():
                made = Redaction.add(
                    submission,
                    part=form.cleaned_data["part"],
                    text=form.cleaned_data["text"],
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
                if made is None:
                    messages.error(request, "It was released meanwhile: nothing was redacted.")
                else:
                    messages.success(request, "Redacted. The public text below shows it.")
                return redirect("admin:submissions_submission_redactions", submission.pk)
        preview = self.public_preview(submission)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Redactions: {submission.reference}",
            "submission": submission,
            "released": released,
            "form": form,
            "redactions": self.redaction_rows(submission, preview["questions"]),
            "preview": preview,
        }
        return TemplateResponse(request, "admin/submissions/submission/redactions.html", context)

    @method_decorator(require_POST)
    def remove_redaction_view(
        self, request: HttpRequest, object_id: str, redaction_id: int
    ) -> HttpResponse:
        submission = self.redactable(request, object_id)
        redaction = get_object_or_404(Redaction, pk=redaction_id, submission=submission)
        redaction.submission = submission
        if redaction.remove(by=request.user):
            messages.success(request, "The redaction was removed.")
        else:
            messages.error(request, "It is released: withhold it first to change its redactions.")
        return redirect("admin:submissions_submission_redactions", submission.pk)
