"""The site's own address, for links that leave it: in emails, exports and open data."""

from django.conf import settings


def absolute(path: str) -> str:
    """An absolute URL for a path on this site (SITE_URL, as the public reaches it)."""
    return settings.SITE_URL.rstrip("/") + path
