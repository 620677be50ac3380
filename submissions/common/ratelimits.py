"""Rate limits per client address (and per email address), counted on the shared cache.

Each limit has a name; its rate comes from settings.RATE_LIMITS (env RATE_LIMIT_<NAME>).
Counts live in the default cache: Redis in production, so every app server shares them.
"""

import contextlib
import ipaddress
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import cast

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The visitor's address: from X-Forwarded-For only behind TRUSTED_PROXY_COUNT proxies.

    Each trusted proxy appends the address it received from, so the client is the entry that
    many places from the right; anything further left was written by the client and may be forged.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        # One household or laptop gets a whole /64; counting per address would be no limit.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


# Mail systems that deliver "j.a.n.e@gmail.com" to jane@gmail.com.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox(address: str) -> str:
    """The address as the mail system sees it, for counting per inbox: `"Jane"@Example.ORG.`,
    `jane+x@example.org` and `jane@example.org` reach one mailbox, and are one key.

    Quotes and quoted pairs come off the local part (`"ja\\ne"` is `jane`), a subaddress after
    `+` goes, case is folded (few mail systems tell `Jane` from `jane`), the domain loses a final
    dot and is written in IDNA (punycode), full-width letters become plain (NFKC), and Gmail's
    dots are dropped. Not a way to rewrite where an email goes: only what is counted.
    """
    text = unicodedata.normalize("NFKC", address).strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    local = _unquoted(local).split("+", 1)[0].lower()
    domain = domain.strip().rstrip(".").lower()
    # A domain no mail system would deliver to is counted as written.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def _unquoted(local: str) -> str:
    """A local part without its quoting: `"ja"."ne"` is `ja.ne`, `"ja\\ne"` is `jane`."""
    out, quoted, escaped = [], False, False
    for char in local:
        if escaped:
            out.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        else:
            out.append(char)
    return "".join(out)


def _address_key(request: HttpRequest) -> str:
    return client_address(request)


def _email_key(request: HttpRequest) -> str:
    return request.POST.get("email", "")


@dataclass(frozen=True)
class Limit:
    name: str
    key: Callable[[HttpRequest], str]
    doing: str  # finishes "You have tried to ... too many times"
    per: str  # "from this address" / "with this email address"
    per_mailbox: bool = False  # the key is an email address, counted as mailbox() sees it


LIMITS = {
    limit.name: limit
    for limit in (
        Limit("draft", _address_key, "start a new submission", "from your address"),
        Limit("upload", _address_key, "upload files", "from your address"),
        Limit("submit", _address_key, "send a submission", "from your address"),
        # For the save-and-return link: both apply to the same request.
        Limit("resume_address", _address_key, "ask for a link by email", "from your address"),
        Limit(
            "resume_email",
            _email_key,
            "ask for a link by email",
            "for this email address",
            per_mailbox=True,
        ),
    )
}


@dataclass(frozen=True)
class Refusal:
    limit: Limit
    retry_after: int  # seconds


def count(request: HttpRequest, *names: str, email: str | None = None) -> Refusal | None:
    """Count this request against each named limit; the longest wait if any is exceeded.

    A per-mailbox limit counts `email` when given (an address the view chose, not one typed),
    else the form's `email` field.
    """
    refusals = []
    for name in names:
        limit = LIMITS[name]
        value = limit.key(request)
        if limit.per_mailbox:
            value = mailbox(value if email is None else email)
        if not value:
            continue
        try:
            usage = get_usage(
                request,
                group=f"cfe:{name}",
                key=lambda group, request, value=value: value,
                rate=settings.RATE_LIMITS[name],
                increment=True,
            )
        except Exception:
            # A cache outage must not stop a contributor; the limit is back with the cache.
            logger.exception("Could not count the %s rate limit", name)
            continue
        if usage and usage["should_limit"]:
            refusals.append(Refusal(limit, max(usage["time_left"], 1)))
    return max(refusals, key=lambda r: r.retry_after, default=None)


def too_many_requests(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """The 429 page: what was refused, that the draft is kept, and when to try again."""
    retry_at = timezone.localtime() + timedelta(seconds=refusal.retry_after)
    context = {
        "limit": refusal.limit,
        "retry_at": retry_at,
        "minutes": max(1, -(-refusal.retry_after // 60)),
        "back_url": request.get_full_path(),
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def refuse(request: HttpRequest, *names: str, email: str | None = None) -> HttpResponse | None:
    """The 429 page if this request goes over any of the named limits, else None."""
    refusal = count(request, *names, email=email)
    return too_many_requests(request, refusal) if refusal else None


def rate_limited(*names: str, methods: tuple[str, ...] = ("POST",)):
    """Count requests of these methods against the named limits; over a limit, the 429 page.

    For the save-and-return link's view: @rate_limited("resume_address", "resume_email").
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method in methods:
                refused = refuse(request, *names)
                if refused is not None:
                    return refused
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Headers only a proxy writes. Arriving from a private address (the proxy's own), they mean the
# app is behind a proxy; with TRUSTED_PROXY_COUNT=0, every visitor then has the proxy's address.
FORWARDING_HEADERS = {
    "HTTP_X_FORWARDED_FOR": "X-Forwarded-For",
    "HTTP_X_FORWARDED_PROTO": "X-Forwarded-Proto",
    "HTTP_X_FORWARDED_HOST": "X-Forwarded-Host",
    "HTTP_FORWARDED": "Forwarded",
    "HTTP_X_REAL_IP": "X-Real-IP",
}
UNTRUSTED_PROXY_KEY = "untrusted-proxy-seen"
UNTRUSTED_PROXY_KEPT = 7 * 24 * 60 * 60  # how long check --deploy remembers one (seconds)


def untrusted_proxy(request: HttpRequest) -> str | None:
    """The forwarding header this request came with from a private address, when no proxy is
    trusted (TRUSTED_PROXY_COUNT=0); else None."""
    if settings.TRUSTED_PROXY_COUNT > 0:
        return None
    header = next((name for key, name in FORWARDING_HEADERS.items() if key in request.META), None)
    if header is None:
        return None
    try:
        remote = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    return header if remote.is_private or remote.is_loopback else None


def note_untrusted_proxy(request: HttpRequest, header: str) -> None:
    """Say so in the log, and leave it in the shared cache for `check --deploy` to report."""
    address = request.META["REMOTE_ADDR"]
    logger.warning(
        "Requests arrive from %s (a private address) with %s, but TRUSTED_PROXY_COUNT is 0: "
        "every visitor is counted as that one address by the rate limits and the sign-in "
        "lockout. Set TRUSTED_PROXY_COUNT to the number of proxies in front of the app.",
        address,
        header,
    )
    seen = {"address": address, "header": header, "at": timezone.now().isoformat()}
    try:
        cache.set(UNTRUSTED_PROXY_KEY, seen, UNTRUSTED_PROXY_KEPT)
    except Exception:
        logger.exception("Could not record the untrusted proxy for check --deploy")


@checks.register(checks.Tags.security, deploy=True)
def check_untrusted_proxy(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Behind a proxy that is not trusted, one visitor can lock every staff account and use up
    every rate limit: warn when the app servers have seen one (UntrustedProxyMiddleware)."""
    if settings.TRUSTED_PROXY_COUNT > 0:
        return []
    found: list[checks.CheckMessage] = []
    if settings.SECURE_SSL_REDIRECT:
        found.append(
            checks.Warning(
                "SECURE_SSL_REDIRECT is on but TRUSTED_PROXY_COUNT is 0, so X-Forwarded-Proto is "
                "ignored: behind a proxy that terminates TLS, every request would be redirected "
                "to HTTPS again, for ever.",
                hint="Set TRUSTED_PROXY_COUNT (1 for one proxy). If gunicorn itself serves "
                "HTTPS, this warning does not apply.",
                id="submissions.W003",
            )
        )
    try:
        seen = cache.get(UNTRUSTED_PROXY_KEY)
    except Exception:
        seen = None  # no shared cache to ask: W001 says so
    if seen:
        found.append(
            checks.Warning(
                f"Requests arrived from {seen['address']} (a private address) with "
                f"{seen['header']} (last noted {seen['at']}), but TRUSTED_PROXY_COUNT is 0: "
                "every visitor is counted as that one address, so one client can use up the "
                "rate limits for everyone and lock any staff account.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of the app "
                "(1 for one nginx or load balancer).",
                id="submissions.W002",
            )
        )
    return found


@checks.register(checks.Tags.security, deploy=True)
def check_shared_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    backend = cast(str, settings.CACHES["default"]["BACKEND"])
    if backend.endswith("LocMemCache"):
        return [
            checks.Warning(
                "REDIS_URL is not set: rate limits are counted by each app server process "
                "on its own, so each one allows the full limit.",
                hint="Set REDIS_URL, e.g. redis://127.0.0.1:6379/0.",
                id="submissions.W001",
            )
        ]
    return []
