"""Which calls a member of staff may review: calls are kept apart (docs/security.md, "Calls kept
apart"). Every staff page and count goes through the one rule here.

Superusers and call managers (the "review every call" permission) see every call. A reviewer
sees the calls they are assigned to; one with no assignment at all sees nothing, or the seeded
call when settings.UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL says so (`reviewable_calls`). Pages read
those calls once per request (`calls_for`, one small query) and filter by their ids
(`visible_submissions`, `visible_attachments`, `of_reviewable_calls`): plain values, which the
planner estimates from its statistics like any other filter.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.http import HttpRequest

from ..models import Attachment, Call, CallReviewer, Submission

# request.user: a member of staff (the default User model) or a visitor who has not logged in.
AnyUser = AbstractUser | AnonymousUser

REVIEW_EVERY_CALL = "submissions.review_every_call"
# Created by migration 0002; the quick start's only call.
SEEDED_CALL_SLUG = "what-works-social-media"


def sees_every_call(user: AnyUser) -> bool:
    return user.is_active and user.has_perm(REVIEW_EVERY_CALL)


def sees_drafts(user: AnyUser) -> bool:
    """Drafts are unfinished and unchecked: call managers (who may change calls) and superusers
    see them, to answer a contributor or clear litter; reviewers never do."""
    return user.is_active and user.has_perm("submissions.change_call")


def reviewable_calls(user: AnyUser) -> QuerySet[Call]:
    """The rule: the calls whose submissions this user may see, export and download."""
    calls = Call.objects.all()
    if sees_every_call(user):
        return calls
    if not user.is_active or not user.is_authenticated:
        return calls.none()
    assigned = CallReviewer.objects.filter(reviewer_id=user.pk)
    allowed: Combinable | Q = Exists(assigned.filter(call_id=OuterRef("pk")))
    if settings.UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL:
        allowed |= Q(slug=SEEDED_CALL_SLUG) & ~Exists(assigned)
    return calls.filter(allowed)


def calls_for(request: HttpRequest) -> list[Call]:
    """The calls this user may review, by title, read once per request (a page asks often)."""
    cached = getattr(request, "_reviewable_calls", None)
    if cached is None:
        cached = list(reviewable_calls(request.user).order_by("title"))
        request._reviewable_calls = cached  # type: ignore[attr-defined]  # a per-request cache
    return cached


def of_reviewable_calls(request: HttpRequest, call: str = "call") -> Q:
    """A condition on rows whose call (reached by the lookup `call`: "pk" for calls themselves)
    this user reviews; for staff who see every call, no condition at all."""
    if sees_every_call(request.user):
        return Q()
    return Q(**{f"{call}__in": [c.pk for c in calls_for(request)]})


def visible_submissions(
    request: HttpRequest, submissions: QuerySet | None = None, *, path: str = ""
) -> QuerySet:
    """The submissions (of `submissions`, all by default) this member of staff may see: those of
    the calls they review, and drafts only for those who see drafts.

    With `path` ("submission__", "submissions__"), the same rule on the submissions reached from
    another model's queryset, given as `submissions`.
    """
    rows = Submission.objects.all() if submissions is None else submissions
    if not sees_drafts(request.user):
        rows = rows.filter(**{f"{path}state": Submission.State.SUBMITTED})
    return rows.filter(of_reviewable_calls(request, f"{path}call"))


def visible_attachments(request: HttpRequest) -> QuerySet[Attachment]:
    """The files of the submissions this member of staff may see (drafts' files for nobody)."""
    files = Attachment.objects.filter(submission__state=Submission.State.SUBMITTED)
    return visible_submissions(request, files, path="submission__")
