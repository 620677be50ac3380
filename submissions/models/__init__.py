"""The app's models, one module per part of the product; import them from here."""

from .call import Call, CallQuerySet, CallReviewer, Question, Theme, consent_hash
from .links import ContributorLink, hash_link_token
from .outbox import OutgoingEmail, default_retry_until
from .review import ExportRecord, ReviewChange
from .submission import (
    CONSENT_FIELDS,
    CONTRIBUTOR,
    CREDIT_FIELDS,
    MAX_CO_CONTRIBUTORS,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    SUBMIT_FIELDS,
    Attachment,
    AttachmentLimitReached,
    CheckedFile,
    NotADraft,
    Submission,
    attachment_key,
    new_draft_token,
    new_reference,
    submitted,
)
from .tally import (
    TALLY_KEYS,
    SubmissionTally,
    kept_by_triggers,
    tally_count,
    tally_days,
    tally_rows,
)

__all__ = [
    "CONSENT_FIELDS",
    "CONTRIBUTOR",
    "CREDIT_FIELDS",
    "MAX_CO_CONTRIBUTORS",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "SUBMIT_FIELDS",
    "TALLY_KEYS",
    "Attachment",
    "AttachmentLimitReached",
    "Call",
    "CallQuerySet",
    "CallReviewer",
    "CheckedFile",
    "ContributorLink",
    "ExportRecord",
    "NotADraft",
    "OutgoingEmail",
    "Question",
    "ReviewChange",
    "Submission",
    "SubmissionTally",
    "Theme",
    "attachment_key",
    "consent_hash",
    "default_retry_until",
    "hash_link_token",
    "kept_by_triggers",
    "new_draft_token",
    "new_reference",
    "submitted",
    "tally_count",
    "tally_days",
    "tally_rows",
]
