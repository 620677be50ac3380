"""Which calls a member of staff may review: calls are kept apart (see README, "Calls kept apart").

Superusers and call managers (the "review every call" permission) see every call. A reviewer
sees the calls they are assigned to; one with no assignment at all sees nothing, or the seeded
call when settings.UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL says so. Each helper returns a lazy
queryset, so the check is a subquery of the query it guards, never a query of its own.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable

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
    """The calls whose submissions this user may see, export and download."""
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


def visible_submissions(user: AnyUser, queryset: QuerySet[Submission]) -> QuerySet:
    if sees_every_call(user):
        return queryset
    return queryset.filter(call__in=reviewable_calls(user).values("pk"))


def visible_attachments(user: AnyUser) -> QuerySet[Attachment]:
    attachments = Attachment.objects.all()
    if sees_every_call(user):
        return attachments
    return attachments.filter(submission__call__in=reviewable_calls(user).values("pk"))
