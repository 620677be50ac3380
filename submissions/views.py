"""The contributor's journey, from the start page to the confirmation."""

from collections.abc import Callable
from datetime import datetime
from functools import wraps

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from .access import visible_attachments
from .forms import AboutYouForm, ConsentForm, EvidenceForm, FilesForm
from .journey import STEP_NUMBERS, STEPS, first_unfinished, may_visit, previous_step
from .models import AttachmentLimitReached, Call, Submission
from .storage import is_s3
from .uploads import content_disposition

SESSION_DRAFTS = "drafts"  # {call slug: draft token}; the token never appears in a URL


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the app answers. Touches no database on purpose."""
    return HttpResponse("ok", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    calls = list(Call.objects.open_at(timezone.now()))
    if len(calls) == 1:
        return redirect("start", calls[0].slug)
    return render(request, "submissions/home.html", {"calls": calls})


def _draft_token(request: HttpRequest, call: Call) -> str | None:
    return request.session.get(SESSION_DRAFTS, {}).get(call.slug)


def _remember_draft(request: HttpRequest, call: Call, submission: Submission) -> None:
    drafts = request.session.get(SESSION_DRAFTS, {})
    drafts[call.slug] = submission.token
    request.session[SESSION_DRAFTS] = drafts


def _forget_draft(request: HttpRequest, call: Call) -> None:
    drafts = request.session.get(SESSION_DRAFTS, {})
    if drafts.pop(call.slug, None) is not None:
        request.session[SESSION_DRAFTS] = drafts


def _load_submission(request: HttpRequest, call: Call) -> Submission | None:
    """The session's submission for this call; an unknown or tampered token is forgotten."""
    token = _draft_token(request, call)
    if not token:
        return None
    try:
        return Submission.objects.get(call=call, token=token)
    except Submission.DoesNotExist:
        _forget_draft(request, call)
        return None


def _published_call(slug: str) -> Call:
    call = get_object_or_404(Call.objects.published(), slug=slug)
    if timezone.now() < call.opens_at:
        raise Http404("This call is not open yet")
    return call


def _step_context(call: Call, step: str, now: datetime, **extra) -> dict:
    return {
        "call": call,
        "step_number": STEP_NUMBERS[step],
        "step_count": len(STEPS),
        "back_url_name": previous_step(step) or "start",
        "is_late": not call.is_on_time(now),
        **extra,
    }


StepView = Callable[[HttpRequest, Call, Submission, datetime], HttpResponse]


def journey_step(step: str) -> Callable[[StepView], Callable[..., HttpResponse]]:
    """Load the call and the session's draft, and judge the deadline, before every step."""

    def decorator(view: StepView) -> Callable[..., HttpResponse]:
        @wraps(view)
        @require_http_methods(["GET", "POST"])
        def wrapper(request: HttpRequest, slug: str) -> HttpResponse:
            call = _published_call(slug)
            now = timezone.now()
            if not call.accepts_submissions(now):
                return redirect("closed", call.slug)
            submission = _load_submission(request, call)
            if submission is None:
                return redirect("start", call.slug)
            if submission.is_submitted:
                return redirect("confirmation", call.slug)
            if not may_visit(submission, step):
                return redirect(first_unfinished(submission).url_name, call.slug)
            return view(request, call, submission, now)

        return wrapper

    return decorator


def _posted(request: HttpRequest):
    """The POST data to bind a form to, even when empty (an empty POST must show errors)."""
    return request.POST if request.method == "POST" else None


def _next_or_check(request: HttpRequest, call: Call, next_step: str) -> HttpResponse:
    """After saving a step: back to check-your-answers when the contributor came from there."""
    if request.POST.get("return_to") == "check":
        return redirect("check", call.slug)
    return redirect(next_step, call.slug)


def start(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    now = timezone.now()
    context = {
        "call": call,
        "questions": list(call.questions.all()),
        "accepts": call.accepts_submissions(now),
        "is_late": not call.is_on_time(now),
    }
    return render(request, "submissions/start.html", context)


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    now = timezone.now()
    if not call.accepts_submissions(now):
        return redirect("closed", call.slug)
    submission = _load_submission(request, call)
    if submission is not None and submission.is_submitted:
        # A new submission after a finished one starts afresh.
        submission = None
    initial = {"consent": "yes"} if submission and submission.consent_given_at else {}
    form = ConsentForm(_posted(request), call=call, initial=initial)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["consent"] == "no":
            # Nothing the person typed is kept once they decline.
            if submission is not None:
                submission.delete()
            _forget_draft(request, call)
            return redirect("declined", call.slug)
        if submission is None:
            submission = Submission(call=call)
        submission.record_consent(call, at=now)
        submission.save()
        _remember_draft(request, call, submission)
        return _next_or_check(request, call, "about")
    context = _step_context(call, "consent", now, form=form)
    return render(request, "submissions/consent.html", context)


def declined(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    return render(request, "submissions/declined.html", {"call": call})


@journey_step("about")
def about(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    form = AboutYouForm(_posted(request), instance=submission)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _next_or_check(request, call, "evidence")
    # The instance holds what was typed, valid or not: preview that.
    context = _step_context(call, "about", now, form=form, credit_previews=_previews(submission))
    return render(request, "submissions/about.html", context)


def _previews(submission: Submission) -> dict[str, str]:
    """The credit line each choice would give, from the details entered so far."""
    name = submission.name or "Your Name"
    organisation = submission.organisation or "Your Organisation"
    probe = Submission(name=name, organisation=organisation)
    previews = {}
    for value, _label in Submission.Credit.choices:
        probe.credit_preference = value
        previews[value] = probe.credit_line()
    return previews


@journey_step("evidence")
def evidence(
    request: HttpRequest, call: Call, submission: Submission, now: datetime
) -> HttpResponse:
    questions = list(call.questions.all())
    initial = EvidenceForm.initial_for(submission, questions)
    form = EvidenceForm(_posted(request), questions=questions, initial=initial)
    if request.method == "POST" and form.is_valid():
        submission.answers = form.answers()
        submission.links = form.cleaned_data["links"]
        submission.save(update_fields=["answers", "links", "updated_at"])
        return _next_or_check(request, call, "files")
    context = _step_context(call, "evidence", now, form=form)
    return render(request, "submissions/evidence.html", context)


def _files_url(call: Call, return_to: str | None) -> str:
    url = reverse("files", args=[call.slug])
    return f"{url}?return_to=check" if return_to == "check" else url


@journey_step("files")
def files(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    existing = list(submission.attachments.all())
    return_to = request.POST.get("return_to") or request.GET.get("return_to")
    if request.method == "POST" and "remove" in request.POST:
        remove = request.POST["remove"]
        if remove.isdigit():
            # Scoped to this draft: another draft's file id removes nothing.
            submission.attachments.filter(pk=int(remove)).delete()
        return redirect(_files_url(call, return_to))
    form = FilesForm(_posted(request), request.FILES or None, call=call, existing=existing)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["files"]:
                submission.add_files(form.cleaned_data["files"])
        except AttachmentLimitReached:
            form.add_error(
                "files",
                ValidationError(
                    f"You can add up to {call.max_files} files; remove one to add another",
                    code="too_many_files",
                ),
            )
        except IntegrityError:
            # Another tab added the same file a moment ago; the unique constraint caught it.
            form.add_error(
                "files",
                ValidationError("You have already added one of these files", code="duplicate"),
            )
        else:
            if request.POST.get("action") == "add":
                return redirect(_files_url(call, return_to))
            return _next_or_check(request, call, "check")
        existing = list(submission.attachments.all())
    context = _step_context(
        call, "files", now, form=form, attachments=existing, return_to=return_to
    )
    return render(request, "submissions/files.html", context)


@journey_step("check")
def check(request: HttpRequest, call: Call, submission: Submission, now: datetime) -> HttpResponse:
    if request.method == "POST":
        submission.submit(at=now)
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


def confirmation(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    submission = _load_submission(request, call)
    if submission is None:
        return redirect("start", call.slug)
    if not submission.is_submitted:
        return redirect(first_unfinished(submission).url_name, call.slug)
    return render(
        request, "submissions/confirmation.html", {"call": call, "submission": submission}
    )


def closed(request: HttpRequest, slug: str) -> HttpResponse:
    call = _published_call(slug)
    if call.accepts_submissions(timezone.now()):
        return redirect("start", call.slug)
    return render(request, "submissions/closed.html", {"call": call})


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
@require_safe
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A file, for staff who may view submissions: streamed from disk, or a presigned S3 URL.

    Anonymous visitors are sent to log in and others get a 403 before the id is looked up,
    so a guessed id tells them nothing.
    """
    # Another call's file is a 404, like a missing one (calls are kept apart: access.py).
    attachment = get_object_or_404(visible_attachments(request.user), pk=pk)
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
        response: HttpResponse = HttpResponseRedirect(url)
    else:
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError:
            raise Http404("The file is missing from storage") from None
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    return response
