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


def duration(seconds: float) -> str:
    """'5 seconds', '40 seconds', '1 minute', '12 minutes', '1 hour 5 minutes': for how long
    something took or will take, to the nearest 5 seconds under a minute, else the minute."""
    if seconds < 57.5:
        rounded = max(5, int(5 * round(seconds / 5)))
        return f"{rounded} seconds"
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'' if minutes == 1 else 's'}")
    return " ".join(parts)


def time_of_day(value: datetime | None) -> str:
    """'10:06am' in Europe/London: a time on the day just named."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def masked_email(address: str) -> str:
    """An address shown to whoever opens a link, enough to recognise one's own and no more:
    "j•••@example.org". Empty for no address."""
    local, at, domain = address.rpartition("@")
    if not at:
        return ""
    return f"{local[:1]}•••@{domain}"
