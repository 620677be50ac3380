"""How times and file sizes read, everywhere: the journey, emails, the admin and commands."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, timezone

# The one time zone the service judges and shows times in (settings.TIME_ZONE too).
LONDON = ZoneInfo("Europe/London")


def uk_time(value: datetime | None) -> str:
    """'Tuesday 6 March 2018, 11:59pm UK time', in Europe/London whatever the server's zone."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local:%A} {local.day} {local:%B %Y}, {hour}:{local:%M}{suffix} UK time"


def uk_time_short(value: datetime | None) -> str:
    """'6 Mar 2018, 23:59' in Europe/London: for admin columns headed "(UK time)"."""
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value, LONDON), "j M Y, H:i")


def human_size(size: int) -> str:
    """'512 bytes', '12 KB', '2.4 MB', '10 MB'."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def masked_email(address: str) -> str:
    """An address shown to whoever opens a link, enough to recognise one's own and no more:
    "j•••@example.org". Empty for no address."""
    local, at, domain = address.rpartition("@")
    if not at:
        return ""
    return f"{local[:1]}•••@{domain}"
