"""The submissions list's filters: state, files, theme, reviewer, call, and a date range."""

import contextlib
from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from ...common.text import whole_number
from ...common.wording import LONDON
from ...models import Attachment, Submission, Theme
from ..access import calls_for, sees_drafts
from ..history import person


def staff_users() -> QuerySet:
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class StateFilter(admin.SimpleListFilter):
    """Submitted only, unless a reviewer asks for drafts: drafts are unfinished and unchecked."""

    title = "state"
    parameter_name = "state"
    default = Submission.State.SUBMITTED

    def lookups(self, request, model_admin):
        if not sees_drafts(request.user):
            return []  # reviewers see submitted ones only (SubmissionAdmin.get_queryset)
        return [("submitted", "Submitted"), ("draft", "Drafts"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or self.default
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup} if lookup != self.default else {},
                    [] if lookup != self.default else [self.parameter_name],
                ),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or self.default
        if value == "all":
            return queryset
        return queryset.filter(state=value)


class HasFilesFilter(admin.SimpleListFilter):
    title = "has files"
    parameter_name = "has_files"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        has_files = Exists(Attachment.objects.filter(submission=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has_files)
        if self.value() == "no":
            return queryset.filter(~has_files)
        return queryset


class ThemeFilter(admin.SimpleListFilter):
    """By theme, as EXISTS: the stock filter joins and adds DISTINCT over every column."""

    title = "theme"
    parameter_name = "theme"

    def lookups(self, request, model_admin):
        return [("none", "No theme"), *((str(t.pk), t.name) for t in Theme.objects.all())]

    def queryset(self, request, queryset):
        value = self.value()
        tagged = Submission.themes.through.objects.filter(submission=OuterRef("pk"))
        if value == "none":
            return queryset.filter(~Exists(tagged))
        if value and (theme_id := whole_number(value)) is not None:
            return queryset.filter(Exists(tagged.filter(theme_id=theme_id)))
        return queryset


class AssignedReviewerFilter(admin.SimpleListFilter):
    title = "assigned reviewer"
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        return [
            ("me", "Me"),
            ("nobody", "Nobody"),
            *((str(user.pk), person(user)) for user in staff_users()),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_reviewer=request.user)
        if value == "nobody":
            return queryset.filter(assigned_reviewer__isnull=True)
        if value and (reviewer_id := whole_number(value)) is not None:
            return queryset.filter(assigned_reviewer_id=reviewer_id)
        return queryset


class SubmittedBetweenFilter(admin.ListFilter):
    """Submitted from one day to another (both included), in UK days, typed as dates."""

    title = "submitted between"
    template = "admin/submissions/submission/date_range_filter.html"
    params = ("submitted_from", "submitted_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.raw = {}
        self.dates: dict[str, date] = {}
        for name in self.params:
            if name in params:
                value = params.pop(name)[-1].strip()
                self.raw[name] = value
                # A bad date is shown as an error in the filter box, not a server error.
                with contextlib.suppress(ValueError):
                    self.dates[name] = date.fromisoformat(value)
                self.used_parameters[name] = value

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.params)

    @property
    def invalid(self) -> list[str]:
        return [name for name, value in self.raw.items() if value and name not in self.dates]

    def queryset(self, request, queryset):
        if "submitted_from" in self.dates:
            start = datetime.combine(self.dates["submitted_from"], time(), LONDON)
            queryset = queryset.filter(submitted_at__gte=start)
        if "submitted_to" in self.dates:
            end = datetime.combine(self.dates["submitted_to"] + timedelta(days=1), time(), LONDON)
            queryset = queryset.filter(submitted_at__lt=end)
        return queryset

    def choices(self, changelist):
        # One "choice": the little form, carrying every other active parameter along.
        keep = {k: v for k, v in changelist.params.items() if k not in self.params and k != "p"}
        yield {
            "from": self.raw.get("submitted_from", ""),
            "to": self.raw.get("submitted_to", ""),
            "invalid": self.invalid,
            "hidden": [(key, value) for key, values in keep.items() for value in _as_list(values)],
            "reset_query_string": changelist.get_query_string(remove=[*self.params, "p"]),
            "selected": bool(self.dates),
        }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


class CallFilter(admin.SimpleListFilter):
    """By call, among the calls this user may review; the list offers it only for two or more."""

    title = "call"
    # The stock filter's parameter, so links from the overview and bookmarks keep working.
    parameter_name = "call__id__exact"

    def lookups(self, request, model_admin):
        return [(str(call.pk), call.title) for call in calls_for(request)]

    def has_output(self):
        # Django applies only the filters it shows: shown when chosen, so a link still filters.
        return len(self.lookup_choices) > 1 or self.value() is not None

    def queryset(self, request, queryset):
        value = self.value()
        if value and (call_id := whole_number(value)) is not None:
            return queryset.filter(call_id=call_id)
        return queryset


class WithdrawalRequestedFilter(admin.SimpleListFilter):
    """Submissions whose contributor asked, on their status page, for them to be withdrawn."""

    title = "withdrawal requested"
    parameter_name = "withdrawal"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(withdrawal_requested_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(withdrawal_requested_at__isnull=True)
        return queryset
