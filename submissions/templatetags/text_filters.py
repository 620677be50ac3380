"""Template filters for the journey: dates in UK time, in words, and plain-text paragraphs."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from submissions.common.wording import duration, human_size, time_of_day, uk_time

register = template.Library()


register.filter("uk_time", uk_time)
register.filter("filesize", human_size)
register.filter("duration", duration)
register.filter("time_of_day", time_of_day)


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
def described_by(field) -> str:
    """The ids of a field's hint and error message, for its aria-describedby."""
    ids = [f"{field.auto_id}_helptext"] if field.help_text else []
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    return " ".join(ids)
