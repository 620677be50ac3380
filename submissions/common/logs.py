"""Logging filters: the tokens of emailed links never reach a log file."""

import logging
import re

# /<slug>/return/<token>/ (save and come back later) and /<slug>/status/<token>/ (status page).
LINK_TOKEN = re.compile(r"(/(?:return|status)/)[^/?#\s\"']+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return LINK_TOKEN.sub(REDACTED, text)


class RedactLinkTokens(logging.Filter):
    """Rewrites a record's message with link tokens replaced; the record is always kept.

    For django.request ("Not Found: /x/return/<token>/") and django.server (the development
    server's access log, '"GET /x/return/<token>/ HTTP/1.1" 302 0').
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
