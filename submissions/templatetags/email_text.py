"""Filters for plain-text emails: what a contributor typed is set apart from our words."""

from django import template

register = template.Library()


@register.filter
def quoted(text: object) -> str:
    """Every line prefixed with "> ", so typed text can never pass for the service's own."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(f"> {line}" if line else ">" for line in lines)
