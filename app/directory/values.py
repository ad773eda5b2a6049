"""Checking and normalising the values people type into the directory, shared by the pages and the import.

No Flask request or database: the web forms, the CLI and the Excel import apply the same rules. The reasons an
e-mail address is refused are lazy translations (rendered in the reader's language when shown), because
email-validator explains them in English only.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.i18n import _l

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


def _reason_patterns():
    """(pattern of email-validator's English message, translated reason); the first match wins."""
    return [
        (r"must have an @-sign", _l("the @ sign is missing")),
        (r"instead of a regular at-sign", _l("it has a look-alike character instead of the @ sign")),
        (r"something before the @-sign", _l("there is nothing before the @ sign")),
        (r"something after the @-sign", _l("there is nothing after the @ sign")),
        (r"two periods in a row", _l("it has two periods in a row")),
        (r"(start|end) with a|immediately (after|before)|period and a hyphen",
         _l("a period or hyphen is in the wrong place")),
        (r"should have a period", _l("the part after the @ sign is not a domain name such as example.org")),
        (r"top-level domain|special-use or reserved", _l("the part after the @ sign cannot receive e-mail")),
        (r"too long", _l("it is too long")),
        (r"display name|angle bracket|anything after the email|[Qq]uot",
         _l("write the address alone, without a name, quotes or brackets")),
    ]


#: An item of email-validator's list of refused characters: a quoted character, a code point or a Unicode name.
_CHARACTER_ITEM = re.compile(r"'(.)'|U\+([0-9A-F]{4,6})|([A-Z][A-Z0-9 \-]*[A-Z0-9])")


def _refused_characters(detail: str) -> tuple[list[str], bool]:
    """The characters named at the end of email-validator's message (shown as typed, or as U+XXXX when
    invisible), and whether one of them is a space."""
    _head, colon, tail = detail.partition(": ")
    if not colon:
        return [], False
    shown, space = [], False
    for match in _CHARACTER_ITEM.finditer(tail):
        quoted, code, name = match.groups()
        try:
            char = quoted or (chr(int(code, 16)) if code else unicodedata.lookup(name))
        except (KeyError, ValueError):
            continue
        if char.isspace():
            space = True
        else:
            shown.append(char if char.isprintable() else f"U+{ord(char):04X}")
    return shown, space


def email_reason(detail: str):
    """Why an address was refused, in the reader's language (a lazy string), from email-validator's English
    message; an unusual reason gives a general hint rather than English text."""
    if "character" in detail and "at-sign" not in detail:
        shown, space = _refused_characters(detail)
        if shown:
            return _l("it contains characters that are not allowed: %(chars)s", chars=" ".join(shown))
        if space:
            return _l("it contains a space")
        return _l("it contains characters that are not allowed")
    for pattern, reason in _reason_patterns():
        if re.search(pattern, detail):
            return reason
    return _l("check it for typing mistakes")


class EmailError(ValueError):
    """An e-mail address was refused: `reason` says why in the reader's language (lazy), `detail` is
    email-validator's English explanation (for logs)."""

    def __init__(self, value: str, detail: str):
        super().__init__(f"not a valid e-mail address: {value!r} ({detail})")
        self.value = value
        self.detail = detail
        self.reason = email_reason(detail)


def normalise_text(value: str | None) -> str:
    """A text as meant rather than as pasted: invisible format characters (zero-width spaces and joiners, byte
    order marks, soft hyphens, direction marks) removed, Unicode NFC form; other spaces are kept as they are."""
    text = "".join(ch for ch in (value or "") if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFC", text)


def clean_text(value: str | None) -> str:
    """A single-line text: normalised (see `normalise_text`), surrounding spaces removed, and runs of spaces
    (non-breaking ones included) and line breaks made one space."""
    return " ".join(normalise_text(value).split())


def normalise_email(value: str | None) -> str:
    """Check an address's syntax (no DNS look-up) and return it normalised and lower-cased.

    Internationalised addresses (a Cyrillic local part or domain) and plus signs are valid, as in
    app.auth.services.normalise_email. Invisible characters pasted with the address are dropped first.
    """
    text = clean_text(value)
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
