"""Searching submissions: PostgreSQL full-text search, or a plain substring match elsewhere.

On PostgreSQL, Submission.search_document holds the searchable words; the trigger made by
migration 0006_admin_search_document fills it and a GIN index makes matching it fast.
"""

import re

from django.contrib.postgres.search import SearchQuery
from django.db import connections
from django.db.models import Q, QuerySet

from ..models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Submission

SEARCH_CONFIG = "english"
REFERENCE_PATTERN = re.compile(rf"[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")


def prefix_query(text: str) -> SearchQuery | None:
    """Every word must match, each as a prefix, so "soc med" finds "social media"."""
    # Quoting each word makes it a term, never tsquery syntax; quotes and backslashes go.
    words = [re.sub(r"['\\]", " ", word).strip() for word in text.split()]
    terms = [f"'{word}':*" for word in words if word]
    if not terms:
        return None
    return SearchQuery(" & ".join(terms), search_type="raw", config=SEARCH_CONFIG)


def search_submissions(queryset: QuerySet[Submission], text: str) -> QuerySet[Submission]:
    """Submissions whose reference, name, email, organisation or answers match every word."""
    text = text.strip()
    if not text:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        query = prefix_query(text)
        if query is None:
            return queryset
        matches = Q(search_document=query)
        # An exact reference also finds one typed in lower case or with the stemmer's help.
        if REFERENCE_PATTERN.fullmatch(text.upper()):
            matches |= Q(reference=text.upper())
        return queryset.filter(matches)
    for word in text.split():
        queryset = queryset.filter(
            Q(reference__icontains=word)
            | Q(name__icontains=word)
            | Q(email__icontains=word)
            | Q(organisation__icontains=word)
            | Q(answers__icontains=word)
        )
    return queryset
