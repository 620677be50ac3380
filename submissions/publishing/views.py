"""The call's public pages after a release: the credits, each contribution's page and how to
cite it, the open data of every release, and a feed of releases.

Everything here reads the latest release (or the one named), never the review status: a
reviewer's "Included in toolkit" changes nothing public until a call manager publishes. Before
the first release, and while a call manager hides them (`Call.credits_hidden`), they are "not
found". The data files are served as they were built, with an ETag, so a repeat download is a
304 and a crowd of readers costs a query each.
"""

import json
import threading

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from ..common.site import absolute
from ..models import Call, PublicContribution, Release, ReleaseEntry
from . import opendata
from .citation import bibtex, citation_text, csl_json
from .credits import attribution
from .redaction import by_part, public_answer, public_links

CREDITS_PER_PAGE = 1000
FILES = {
    opendata.CSV_NAME: ("csv", "text/csv; charset=utf-8"),
    opendata.JSON_NAME: ("json", "application/json; charset=utf-8"),
    opendata.PACKAGE_NAME: ("package", "application/json; charset=utf-8"),
}
# A cache (a browser, a proxy) may keep a copy but asks each time whether it changed: a
# takedown reaches every reader at once, and the answer "not modified" costs a query.
CACHE_CONTROL = "public, no-cache"


def public_call(slug: str) -> tuple[Call, Release]:
    """The call and its latest release, or "not found"."""
    call = get_object_or_404(public_calls(), slug=slug)
    release = Release.objects.filter(call=call).order_by("-number").first()
    if release is None:
        raise Http404("Nothing from this call has been published")
    release.call = call
    return call, release


def public_calls():
    return Call.objects.published().filter(credits_hidden=False)


def latest_public_release(slug: str) -> Release:
    """The call's latest release with its call, in one query (a 304 costs just that)."""
    release = (
        Release.objects.filter(call__in=public_calls().filter(slug=slug))
        .select_related("call")
        .order_by("-number")
        .first()
    )
    if release is None:
        raise Http404("Nothing from this call has been published")
    return release


def numbered_release(call: Call, number: int) -> Release:
    release = get_object_or_404(Release, call=call, number=number)
    release.call = call
    return release


def public(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = CACHE_CONTROL
    return response


def conditional_page(request: HttpRequest, response: HttpResponse) -> HttpResponseBase:
    """A rendered page with an ETag of its bytes: a reader who has them gets a 304."""
    set_response_etag(response)
    public(response)
    conditional = get_conditional_response(request, etag=response["ETag"], response=response)
    return conditional or response


@require_safe
def credits(request: HttpRequest, slug: str) -> HttpResponseBase:
    """submissions/credits.html: each credited contribution of the latest release, by name,
    linked to its page; a page of CREDITS_PER_PAGE at a time."""
    call, release = public_call(slug)
    ordered = ReleaseEntry.objects.filter(release=release).order_by(
        "anonymous", "sort_key", "position"
    )
    paginator = Paginator(ordered.values_list("pk", flat=True), CREDITS_PER_PAGE)
    paginator.count = release.contribution_count  # known: no COUNT over the release
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404("No such page of credits") from error
    # The page's entries found along the index alone (its OFFSET), then joined to their public
    # ids: joining before the OFFSET took 0.6 s for the last page of 300,000.
    entries = ordered.filter(pk__in=page.object_list).values_list(
        "credit_line", "contribution__public_id"
    )
    groups: list[tuple[str, list[str]]] = []  # one credit line, its contributions' ids
    for line, public_id in entries:
        if groups and groups[-1][0] == line:
            groups[-1][1].append(public_id)
        else:
            groups.append((line, [public_id]))
    context = {
        "call": call,
        "release": release,
        "groups": groups,
        "page": page,
        "attribution": attribution(call),
    }
    return conditional_page(request, render(request, "submissions/credits.html", context))


def contribution_entry(
    slug: str, public_id: str
) -> tuple[Call, PublicContribution, ReleaseEntry | None, Release]:
    """A contribution, the latest release that holds it (None: no longer published) and the
    call's latest release."""
    call, latest = public_call(slug)
    contribution = get_object_or_404(
        PublicContribution.objects.select_related("first_release", "submission"),
        call=call,
        public_id=public_id,
    )
    entry = (
        ReleaseEntry.objects.filter(contribution=contribution)
        .select_related("release")
        .order_by("-release__number")
        .first()
    )
    if entry is not None:
        entry.release.call = call
    return call, contribution, entry, latest


@require_safe
def contribution(request: HttpRequest, slug: str, public_id: str) -> HttpResponseBase:
    """submissions/contribution.html: one contribution as released, and how to cite it; 410
    once it is no longer published (withdrawn, erased or withheld)."""
    call, contribution, entry, latest = contribution_entry(slug, public_id)
    if entry is None or contribution.submission is None:
        response = render(request, "submissions/contribution_gone.html", {"call": call}, status=410)
        return public(response)
    submission = contribution.submission
    grouped = by_part(submission.redactions.all())
    answers = [
        (
            column,
            public_answer(
                column["question"], submission.answers.get(str(column["question"]), ""), grouped
            ),
        )
        for column in entry.release.columns
    ]
    context = {
        "call": call,
        "contribution": contribution,
        "entry": entry,
        "latest": latest,
        "answers": answers,
        "links": [
            (link, link.startswith(("https://", "http://")) and "[redacted" not in link)
            for link in public_links(submission.links, grouped)
        ],
        "citation": citation_text(call, contribution, entry),
    }
    return conditional_page(request, render(request, "submissions/contribution.html", context))


@require_safe
def citation(request: HttpRequest, slug: str, public_id: str, style: str) -> HttpResponseBase:
    """How to cite a contribution, as BibTeX (cite.bib) or CSL-JSON (cite.json)."""
    if style not in ("bib", "json"):
        raise Http404("No such citation format")
    call, contribution, entry, _ = contribution_entry(slug, public_id)
    if entry is None or contribution.submission is None:
        raise Http404("No longer published")
    if style == "bib":
        body, content_type = (
            bibtex(call, contribution, entry),
            "application/x-bibtex; charset=utf-8",
        )
    else:
        body = json.dumps(csl_json(call, contribution, entry), ensure_ascii=False, indent=2) + "\n"
        content_type = "application/vnd.citationstyles.csl+json; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{public_id}.{style}"'
    response["Access-Control-Allow-Origin"] = "*"
    return conditional_page(request, response)


@require_safe
def open_data(request: HttpRequest, slug: str) -> HttpResponseBase:
    call, release = public_call(slug)
    return release_page_response(request, call, release, latest=release)


@require_safe
def release_page(request: HttpRequest, slug: str, number: int) -> HttpResponseBase:
    call, latest = public_call(slug)
    return release_page_response(request, call, numbered_release(call, number), latest=latest)


def release_page_response(
    request: HttpRequest, call: Call, release: Release, latest: Release
) -> HttpResponseBase:
    """submissions/open_data.html: what a release holds, its files, and every release."""
    context = {
        "call": call,
        "release": release,
        "latest": latest,
        "releases": list(Release.objects.filter(call=call).order_by("-number")),
        "attribution": attribution(call),
    }
    return conditional_page(request, render(request, "submissions/open_data.html", context))


@require_safe
def open_data_file(request: HttpRequest, slug: str, name: str) -> HttpResponseBase:
    """The latest release's file: the same bytes (and ETag) as at its own numbered address."""
    return file_response(request, latest_public_release(slug), name)


@require_safe
def release_file(request: HttpRequest, slug: str, number: int, name: str) -> HttpResponseBase:
    # The call and this release: no need of the latest (a release at all) to find this one.
    call = get_object_or_404(public_calls(), slug=slug)
    return file_response(request, numbered_release(call, number), name)


def file_response(request: HttpRequest, release: Release, name: str) -> HttpResponseBase:
    """A data file as built: 304 for a reader who has these bytes; otherwise its segments."""
    if name not in FILES:
        raise Http404("No such file")
    kind, content_type = FILES[name]
    if kind == "package":
        body = release.package.encode()
        etag = opendata.etag([opendata.sha256(body)])
    else:
        etag = release.csv_etag if kind == "csv" else release.json_etag
    last_modified = int(release.changed_at.timestamp())
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        response: HttpResponseBase = not_modified
    elif kind == "package":
        response = HttpResponse(body, content_type=content_type)
    elif not DOWNLOADS.acquire(blocking=False):
        # Every download slot of this process is busy: say when to come back rather than
        # take a thread the journey needs (see docs/publishing.md, "A crowd of readers").
        response = HttpResponse(
            "Busy: try again in a moment.\n", status=503, content_type="text/plain"
        )
        response["Retry-After"] = "2"
        return response
    else:
        segments = list(release.segments.order_by("index"))
        response = DownloadResponse(
            opendata.file_chunks(release, segments, kind), content_type=content_type
        )
        response["Content-Length"] = str(opendata.file_size(release, segments, kind))
        response["Content-Disposition"] = f'inline; filename="{name}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # Open data: any site or notebook may read it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return public(response)


# How many data files one server process streams at once; more wait for a 503's Retry-After.
DOWNLOADS = threading.BoundedSemaphore(settings.OPEN_DATA_DOWNLOADS_PER_PROCESS)


class DownloadResponse(StreamingHttpResponse):
    """A streamed data file that gives its download slot back when the server closes it (every
    WSGI server closes every response, also when the client goes away)."""

    slot_held = True

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.slot_held:
                self.slot_held = False
                DOWNLOADS.release()


class ReleasesFeed(Feed):
    """An Atom feed of a call's releases, newest first, so that others can follow the call."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Call:
        call, _release = public_call(slug)
        return call

    def title(self, call: Call) -> str:
        return f"{call.title}: releases"

    def subtitle(self, call: Call) -> str:
        return f"Each release of the contributions to “{call.title}”, as open data."

    def link(self, call: Call) -> str:
        return absolute(reverse("open_data", args=[call.slug]))

    def feed_url(self, call: Call) -> str:
        return absolute(reverse("releases_feed", args=[call.slug]))

    def author_name(self) -> str:
        return settings.ORGANISATION_NAME

    def feed_copyright(self, call: Call) -> str:
        return f"{call.licence_name} ({call.licence_id})"

    def items(self, call: Call):
        return Release.objects.filter(call=call).select_related("call").order_by("-number")

    def item_title(self, release: Release) -> str:
        return f"Release {release.number}"

    def item_description(self, release: Release) -> str:
        count = release.contribution_count
        text = (
            f"Release {release.number}: {count} contribution{'s' if count != 1 else ''}, "
            f"{release.added_count} new."
        )
        if release.amended_at:
            text += " Amended since: contributions taken off it (withdrawn or withheld)."
        return text + (f" {release.notes}" if release.notes else "")

    def item_link(self, release: Release) -> str:
        return absolute(reverse("release_page", args=[release.call.slug, release.number]))

    def item_pubdate(self, release: Release):
        return release.published_at

    def item_updateddate(self, release: Release):
        return release.changed_at

    def __call__(self, request, *args, **kwargs):
        return public(super().__call__(request, *args, **kwargs))
