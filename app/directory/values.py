"""Checking and normalising the values people type into the directory, shared by the pages and the import.

Pure code (email-validator only; no Flask, no database), so the web forms, the CLI and the Excel import
apply the same rules.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

#: Longest values the columns hold (models.py).
MAX_ACRONYM = 40
MAX_AGENCY_NAME = 500
MAX_CONTACT_NAME = 200
MAX_POSITION = 200
MAX_EMAIL = 254
MAX_PHONE = 60

#: Words accepted for yes and no (compared after lower-casing), in English and Russian.
YES_WORDS = frozenset({"yes", "y", "true", "1", "да", "д"})
NO_WORDS = frozenset({"no", "n", "false", "0", "нет", "н"})


class EmailError(ValueError):
    """An e-mail address was refused; `reason` is email-validator's explanation (English)."""

    def __init__(self, value: str, reason: str):
        super().__init__(f"not a valid e-mail address: {value!r} ({reason})")
        self.value = value
        self.reason = reason


def clean_text(value: str | None) -> str:
    """A single-line text: surrounding spaces removed, runs of spaces and line breaks made one space."""
    return " ".join((value or "").split())


def normalise_email(value: str | None) -> str:
    """Check an address's syntax (no DNS look-up) and return it normalised and lower-cased.

    Internationalised addresses (a Cyrillic local part or domain) and plus signs are valid, as in
    app.auth.services.normalise_email.
    """
    text = (value or "").strip()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise EmailError(text, str(exc)) from exc
    return result.normalized.lower()


def parse_yes_no(value) -> bool | None:
    """True or False for a yes/no value (yes, no, да, нет, true, false, 1, 0); None when blank.

    Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = clean_text(str(value)).casefold()
    if not text:
        return None
    if text in YES_WORDS:
        return True
    if text in NO_WORDS:
        return False
    raise ValueError(f"not yes or no: {value!r}")
