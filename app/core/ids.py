"""Record ids taken from a request: the primary keys are INTEGER columns (32 bits on PostgreSQL), so a larger
number in a URL or a form names nothing. It is refused as such (404, or "no such ...") before it reaches the
database, which would fail on it (SQLite: OverflowError; PostgreSQL: "integer out of range")."""

from __future__ import annotations

import re

from flask import abort, request
from werkzeug.routing import IntegerConverter

#: The largest id an INTEGER primary key holds.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """The app's `<int:...>` URL parts: 0 to MAX_ID; a larger number is a page that does not exist (404)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def form_id(name: str) -> int | None:
    """The id in the posted form field `name`: None when the field is absent or empty; 404 when it holds anything
    but a number from 1 to MAX_ID (an id that cannot name a record, rather than a field left out)."""
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    if not is_record_id(text):
        abort(404)
    return int(text)


def is_record_id(text: str) -> bool:
    """Whether a text is an id a record can have: ASCII digits (str.isdigit also takes "²", which int() refuses)
    making a number from 1 to MAX_ID."""
    return re.fullmatch(r"[0-9]{1,10}", text) is not None and 1 <= int(text) <= MAX_ID
