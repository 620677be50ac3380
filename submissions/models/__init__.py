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
    holder_digest,
    new_draft_token,
    new_holder,
    new_reference,
    submitted,
)

__all__ = [
    "CONSENT_FIELDS",
    "CONTRIBUTOR",
    "CREDIT_FIELDS",
    "MAX_CO_CONTRIBUTORS",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "SUBMIT_FIELDS",
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
    "Theme",
    "attachment_key",
    "consent_hash",
    "default_retry_until",
    "hash_link_token",
    "holder_digest",
    "new_draft_token",
    "new_holder",
    "new_reference",
    "submitted",
]
