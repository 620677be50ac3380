"""Template filters for the journey: dates in UK time, in words, and plain-text paragraphs."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()
LONDON = ZoneInfo("Europe/London")


@register.filter
def uk_time(value: datetime | None) -> str:
    """'Tuesday 6 March 2018, 11:59pm UK time', in Europe/London whatever the server's zone."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local:%A} {local.day} {local:%B %Y}, {hour}:{local:%M}{suffix} UK time"


@register.filter
def paragraphs(text: str) -> SafeString:
    """Blank-line separated paragraphs; a run of lines starting '- ' becomes a list. Escaped."""
    blocks = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = format_html_join("", "<li>{}</li>", ((line[2:],) for line in lines))
            blocks.append(format_html("<ul>{}</ul>", items))
        else:
            blocks.append(format_html("<p>{}</p>", " ".join(lines)))
    return mark_safe("\n".join(blocks))  # noqa: S308 - every block was built by format_html


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def described_by(field) -> str:
    """The ids of a field's hint and error message, for its aria-describedby."""
    ids = [f"{field.auto_id}_helptext"] if field.help_text else []
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    return " ".join(ids)
