"""The contributor's journey, from the start page to the confirmation."""

from collections.abc import Callable
from copy import copy
from datetime import datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ..common import ratelimits
from ..common.text import whole_number
from ..models import Call, NotADraft, Submission, new_holder
from .drafts import (
    HeldElsewhere,
    forget_draft,
    load_draft,
    open_call,
    open_step,
    posted,
    published_call,
    remember_draft,
)
from .forms import (
    ADD_CO_CONTRIBUTOR,
    AboutYouForm,
    ConsentForm,
    EvidenceForm,
    FilesForm,
    add_another_url,
    co_rows_asked,
)
from .steps import STEP_NUMBERS, STEPS, first_unfinished, previous_step


def _changing(request: HttpRequest) -> bool:
    """Whether the contributor came from check-your-answers to change an answer.

    The only place that reads `return_to`: the Change links carry it in the query string and
    the step's form sends it back as a hidden field.
    """
    return (request.POST.get("return_to") or request.GET.get("return_to")) == "check"


def _step_context(call: Call, step: str, now: datetime, *, changing: bool = False, **extra) -> dict:
    """While changing an answer, Back and the button lead back to check-your-answers."""
    return {
        "call": call,
        "step_number": STEP_NUMBERS[step],
        "step_count": len(STEPS),
        "back_url_name": "check" if changing else previous_step(step) or "start",
        "changing": changing,
        "is_late": not call.is_on_time(now),
        **extra,
    }


StepView = Callable[[HttpRequest, Call, Submission, datetime], HttpResponse]


def journey_step(step: str) -> Callable[[StepView], Callable[..., HttpResponse]]:
    """Open the call and the session's draft at this step (drafts.open_step) before the view."""

    def decorator(view: StepView) -> Callable[..., HttpResponse]:
        @wraps(view)
        @never_cache  # the contributor's own answers: no cache may keep them
        @require_http_methods(["GET", "POST"])
        def wrapper(request: HttpRequest, slug: str) -> HttpResponse:
            opened = open_step(request, slug, step)
            if isinstance(opened, HttpResponse):
                return opened
            return view(request, *opened)

        return wrapper

    return decorator


def _next_or_check(request: HttpRequest, call: Call, next_step: str) -> HttpResponse:
    """After saving a step: back to check-your-answers when the contributor came from there,
    or on to the next step."""
    if _changing(request):
        return redirect("check", call.slug)
    return redirect(next_step, call.slug)


# "Save and come back later", and the button offered when part of the page could not be saved:
# the link now, without the answers marked invalid.
SAVE_FOR_LATER = "save_for_later"
WITHOUT_INVALID = "without_invalid"


def _saving_for_later(request: HttpRequest) -> bool:
    return request.method == "POST" and SAVE_FOR_LATER in request.POST


def _save_for_later(
    request: HttpRequest, call: Call, submission: Submission, form: Any, columns: dict
) -> HttpResponse | None:
    """Save and come back later is never refused: what is valid is saved, then the person is
    asked where to send the link.

    When an answer is invalid (an email address mistyped, an answer too long), it is not
    saved, and None shows the page again with it at its field, the text as typed: correct it
    and save again, or take the link now without it. Dropping what someone typed without a
    word, or refusing to save anything, would both lose their work.
    """
    if columns and not submission.update_draft(**columns):
        return redirect("confirmation", call.slug)
    if form.errors and request.POST[SAVE_FOR_LATER] != WITHOUT_INVALID:
        return None
    return redirect("resume_request", call.slug)


def start(request: HttpRequest, slug: str) -> HttpResponse:
    call = published_call(slug, Call.objects.published().with_credits_shown())
    # A browser holding a draft is offered to continue it, at the first unfinished step.
    held_elsewhere = False
    try:
        draft = load_draft(request, call) if request.session.session_key else None
    except HeldElsewhere:
        draft, held_elsewhere = None, True
    if draft is not None and draft.is_submitted:
        draft = None
    context = start_context(call, timezone.now(), draft, held_elsewhere=held_elsewhere)
    return render(request, "submissions/start.html", context)


def start_context(
    call: Call, now: datetime, draft: Submission | None = None, held_elsewhere: bool = False
) -> dict:
    """What the start page shows of a call at `now`; staff preview it with this too
    (review/admin/calls.py). `call` needs `credits_shown` (CallQuerySet.with_credits_shown)."""
    return {
        "call": call,
        "questions": list(call.questions.all()),
        "accepts": call.accepts_submissions(now),
        "is_late": not call.is_on_time(now),
        "draft": draft,
        "held_elsewhere": held_elsewhere,
        "continue_url_name": first_unfinished(draft).url_name if draft else None,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    opened = open_call(slug)
    if isinstance(opened, HttpResponse):
        return opened
    call, now = opened
    try:
        submission = load_draft(request, call)
    except HeldElsewhere:
        # Continued in another browser: "Start now" here starts a new submission.
        submission = None
    if submission is not None and submission.is_submitted:
        # A new submission after a finished one starts afresh.
        submission = None
    initial = {"consent": "yes"} if submission and submission.consent_given_at else {}
    form = ConsentForm(posted(request), call=call, initial=initial)
    changing = _changing(request)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["consent"] == "no":
            if submission is not None and submission.has_entries():
                # One click must not delete a whole draft: ask first, keep it until then.
                url = reverse("delete_answers", args=[call.slug])
                return redirect(f"{url}?return_to=check" if changing else url)
            # Nothing the person typed is kept once they decline; a submission already sent
            # (in another tab, a moment ago) is not a draft to throw away.
            if submission is not None and not submission.delete_draft():
                return redirect("confirmation", call.slug)
            forget_draft(request, call)
            return redirect("declined", call.slug)
        if submission is None and (refused := ratelimits.refuse(request, "draft")):
            return refused
        if form.cleaned_data["homepage"]:
            # Only a bot fills the hidden field: it sees the usual next page, nothing is kept.
            return redirect("about", call.slug)
        if submission is None:
            # A new draft, held by this browser from the start.
            holder, digest = new_holder()
            submission = Submission(call=call, holder_sha256=digest)
            submission.record_consent(call, at=now)
            submission.save()
            remember_draft(request, call, submission, holder)
        else:
            submission.record_consent(call, at=now)
            if not submission.update_draft(**submission.consent_columns()):
                return redirect("confirmation", call.slug)
        return _next_or_check(request, call, "about")
    context = _step_context(call, "consent", now, changing=changing, form=form)
    return render(request, "submissions/consent.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def delete_answers(request: HttpRequest, slug: str) -> HttpResponse:
    """ "This will delete your answers": a draft is deleted only once the person confirms."""
    call = published_call(slug)
    try:
        submission = load_draft(request, call)
    except HeldElsewhere:
        return redirect("continued_elsewhere", call.slug)
    if submission is None or submission.is_submitted:
        return redirect("start", call.slug)
    if request.method == "POST":
        # Under the row lock: a submission sent from another tab a moment ago is not deleted.
        if not submission.delete_draft():
            return redirect("confirmation", call.slug)
        forget_draft(request, call)
        return redirect("declined", call.slug)
    changing = _changing(request)
    keep_url = reverse("check" if changing else "consent", args=[call.slug])
    if changing:
        keep_url += "?return_to=check"
    context = {"call": call, "keep_url": keep_url, "changing": changing}
    return render(request, "submissions/delete_answers.html", context)


def declined(request: HttpRequest, slug: str) -> HttpResponse:
    call = published_call(slug)
    return render(request, "submissions/declined.html", {"call": call})


@journey_step("about")
def about(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    # "Add another co-contributor" without JavaScript saves as "Save and come back later"
    # does (what is valid, never refused for an answer not given yet), then shows one more row.
    adding = ADD_CO_CONTRIBUTOR in request.POST
    for_later = _saving_for_later(request) or adding
    # A copy: the form's instance takes what was typed, valid or not; `submission` stays as saved.
    form = AboutYouForm(
        posted(request),
        instance=copy(submission),
        for_later=for_later,
        co_rows=co_rows_asked(request),
    )
    if adding:
        form.is_valid()
        columns = form.columns_for_later(submission)
        if columns and not submission.update_draft(**columns):
            return redirect("confirmation", call.slug)
        if not form.errors:
            url = reverse("about", args=[call.slug])
            return redirect(add_another_url(url, co_rows_asked(request), _changing(request)))
        # An invalid answer stays at its field, the row asked for shown all the same.
    elif for_later:
        form.is_valid()
        if saved := _save_for_later(
            request, call, submission, form, form.columns_for_later(submission)
        ):
            return saved
    elif request.method == "POST" and form.is_valid():
        # Only this step's columns, and only while it is a draft (never `form.save()`).
        if not submission.update_draft(**form.columns()):
            return redirect("confirmation", call.slug)
        return _next_or_check(request, call, "evidence")
    # The form's instance holds what was typed, valid or not: preview that.
    context = _step_context(
        call,
        "about",
        now,
        changing=_changing(request),
        form=form,
        credit_previews=_previews(form.instance),
        saving_for_later=_saving_for_later(request),
    )
    return render(request, "submissions/about.html", context)


def _previews(submission: Submission) -> dict[str, str]:
    """The credit line each choice would give, from the details entered so far."""
    # Placeholders until a name is given; after that, no organisation means none (independent).
    name = submission.name or "Your Name"
    organisation = submission.organisation if submission.name else "Your Organisation"
    return {
        value: Submission.credit_line_for(value, name, organisation, submission.co_contributors)
        for value, _label in Submission.Credit.choices
    }


@journey_step("evidence")
def evidence(
    request: HttpRequest, call: Call, submission: Submission, now: datetime
) -> HttpResponse:
    questions = list(call.questions.all())
    initial = EvidenceForm.initial_for(submission, questions)
    for_later = _saving_for_later(request)
    form = EvidenceForm(posted(request), questions=questions, initial=initial, for_later=for_later)
    if for_later:
        form.is_valid()
        if saved := _save_for_later(
            request, call, submission, form, form.columns_for_later(submission)
        ):
            return saved
    elif request.method == "POST" and form.is_valid():
        if not submission.update_draft(answers=form.answers(), links=form.cleaned_data["links"]):
            return redirect("confirmation", call.slug)
        return _next_or_check(request, call, "files")
    context = _step_context(
        call, "evidence", now, changing=_changing(request), form=form, saving_for_later=for_later
    )
    return render(request, "submissions/evidence.html", context)


def _files_url(call: Call, changing: bool) -> str:
    url = reverse("files", args=[call.slug])
    return f"{url}?return_to=check" if changing else url


@journey_step("files")
def files(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    existing = list(submission.attachments.all())
    changing = _changing(request)
    uploading = request.method == "POST" and bool(request.FILES)
    if uploading and (refused := ratelimits.refuse(request, "upload")):
        return refused
    for_later = _saving_for_later(request)
    form = FilesForm(
        posted(request), request.FILES or None, call=call, existing=existing, for_later=for_later
    )
    if request.method == "POST":
        added = False
        if form.is_valid():
            try:
                added = form.add_to(submission)
            except NotADraft:
                return redirect("confirmation", call.slug)
        if for_later:
            if saved := _save_for_later(request, call, submission, form, {}):
                return saved
        elif added and request.POST.get("action") == "add":
            return redirect(_files_url(call, changing))
        elif added:
            return _next_or_check(request, call, "check")
        existing = list(submission.attachments.all())
    context = _step_context(
        call,
        "files",
        now,
        changing=changing,
        form=form,
        attachments=existing,
        saving_for_later=for_later,
    )
    return render(request, "submissions/files.html", context)


@require_POST
@journey_step("files")
def remove_file(
    request: HttpRequest, call: Call, submission: Submission, now: datetime
) -> HttpResponse:
    """The Remove button beside each file: back to the files step, one file fewer."""
    remove = request.POST.get("remove", "")
    if (file_id := whole_number(remove)) is not None and not submission.remove_attachment(file_id):
        return redirect("confirmation", call.slug)
    return redirect(_files_url(call, _changing(request)))


@journey_step("check")
def check(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    if request.method == "POST":
        if refused := ratelimits.refuse(request, "submit"):
            return refused
        # Timed under its row lock, not at `now`: see Submission.submit().
        submission.submit()
        return redirect("confirmation", call.slug)
    questions = list(call.questions.all())
    context = _step_context(
        call,
        "check",
        now,
        submission=submission,
        answers=submission.answered_questions(questions),
        attachments=list(submission.attachments.all()),
    )
    return render(request, "submissions/check.html", context)


@never_cache
def confirmation(request: HttpRequest, slug: str) -> HttpResponse:
    """The reference, for the browser that sent the evidence (never one that lost the draft)."""
    call = published_call(slug)
    try:
        submission = load_draft(request, call)
    except HeldElsewhere:
        return redirect("continued_elsewhere", call.slug)
    if submission is None:
        return redirect("start", call.slug)
    if not submission.is_submitted:
        return redirect(first_unfinished(submission).url_name, call.slug)
    return render(
        request, "submissions/confirmation.html", {"call": call, "submission": submission}
    )


def closed(request: HttpRequest, slug: str) -> HttpResponse:
    call = published_call(slug, Call.objects.published().with_credits_shown())
    if call.accepts_submissions(timezone.now()):
        return redirect("start", call.slug)
    return render(request, "submissions/closed.html", {"call": call})
