"""The call's public pages after review: its credits and its open data.

Both exist from the moment one submission is included in the toolkit, unless a call manager
hides them for that call (`Call.credits_hidden`); before that they are "not found".
"""

import json
from typing import TypeVar

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from ..models import Call
from . import opendata
from .credits import attribution, credits_for


def public_call(slug: str) -> Call:
    call = get_object_or_404(Call.objects.published().with_credits_shown(), slug=slug)
    if not call.credits_shown:  # annotated by with_credits_shown()
        raise Http404("Nothing from this call has been published")
    return call


_Response = TypeVar("_Response", bound=HttpResponseBase)


def _open_data_headers(response: _Response) -> _Response:
    # Open data: any site or notebook may read it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def credits(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/credits.html: every credit line, the unnamed counted, the licence."""
    call = public_call(slug)
    context = {"call": call, "credits": credits_for(call), "attribution": attribution(call)}
    return render(request, "submissions/credits.html", context)


@require_safe
def open_data(request: HttpRequest, slug: str) -> HttpResponse:
    """submissions/open_data.html: what the open data holds, with links to its three files."""
    call = public_call(slug)
    context = {
        "call": call,
        "count": opendata.published(call).count(),
        "questions": list(call.questions.all()),
        "attribution": attribution(call),
    }
    return render(request, "submissions/open_data.html", context)


@require_safe
def open_data_package(request: HttpRequest, slug: str) -> HttpResponse:
    call = public_call(slug)
    body = json.dumps(opendata.datapackage(call), ensure_ascii=False, indent=2)
    return _open_data_headers(HttpResponse(body, content_type="application/json; charset=utf-8"))


@require_safe
def open_data_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    call = public_call(slug)
    response = StreamingHttpResponse(
        opendata.csv_chunks(call), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{opendata.CSV_NAME}"'
    return _open_data_headers(response)


@require_safe
def open_data_json(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    call = public_call(slug)
    response = StreamingHttpResponse(
        opendata.json_chunks(call), content_type="application/json; charset=utf-8"
    )
    return _open_data_headers(response)
