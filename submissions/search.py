"""Searching submissions: PostgreSQL full-text search, or a plain substring match elsewhere.

On PostgreSQL the search expression below must stay identical to the GIN index created by
migration 0004_admin_search_index, or every search reads the whole table (a test checks the plan).
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q, QuerySet

from .models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Submission

SEARCH_CONFIG = "english"
INDEX_NAME = "submission_search"
REFERENCE_PATTERN = re.compile(rf"[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")


class JSONSearchVector(SearchVector):
    """to_tsvector over a jsonb column: its string values only, not its keys or quoting."""

    def as_sql(self, compiler, connection, function=None, template=None):
        config_sql, config_params = compiler.compile(self.config)
        column_sql, column_params = compiler.compile(self.get_source_expressions()[0])
        return f"to_tsvector({config_sql}, {column_sql})", config_params + column_params


def search_vector() -> SearchVector:
    people = SearchVector("reference", "name", "email", "organisation", config=SEARCH_CONFIG)
    return people + JSONSearchVector("answers", config=SEARCH_CONFIG)


def prefix_query(text: str) -> SearchQuery | None:
    """Every word must match, each as a prefix, so "soc med" finds "social media"."""
    words = [re.sub(r"[\\':&|!()<>*]", " ", word).strip() for word in text.split()]
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
        matches = Q(search_match=query)
        # A reference is one "word" of the index; an exact match also finds one typed whole.
        if REFERENCE_PATTERN.fullmatch(text.upper()):
            matches |= Q(reference=text.upper())
        return queryset.alias(search_match=search_vector()).filter(matches)
    for word in text.split():
        queryset = queryset.filter(
            Q(reference__icontains=word)
            | Q(name__icontains=word)
            | Q(email__icontains=word)
            | Q(organisation__icontains=word)
            | Q(answers__icontains=word)
        )
    return queryset
