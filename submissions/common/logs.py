"""Logging filters: the tokens of emailed links never reach a log file."""

import logging
import re

# /<slug>/return/<token>/ (save and come back later) and /<slug>/status/<token>/ (status page).
LINK_TOKEN = re.compile(r"(/(?:return|status)/)[^/?#\s\"']+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return LINK_TOKEN.sub(REDACTED, text)


class RedactLinkTokens(logging.Filter):
    """Rewrites a record with link tokens replaced, in its message and its traceback; the record
    is always kept.

    On every handler (settings.LOGGING), not on loggers: a logger's filter misses the records
    its children pass up, such as django.security.csrf's "Forbidden (CSRF cookie not set.):
    /x/return/<token>/" or an exception whose message quotes the path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted once, here, as the handler's formatter would: it reuses exc_text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
