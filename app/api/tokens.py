"""API token strings: random, 256 bits, with a recognisable prefix; stored only as a SHA-256 hash. Pure."""

from __future__ import annotations

import re
import secrets

from app.campaigns.tokens import hash_token

__all__ = ["PREFIX", "hash_token", "looks_like_token", "new_token"]

#: Marks our tokens, so secret scanners and people can recognise one ("na" for needs assessment).
PREFIX = "na_"
#: Bytes of randomness (256 bits), as for magic links.
TOKEN_BYTES = 32
_SHAPE = re.compile(r"^na_[A-Za-z0-9_-]{40,64}$")


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database look-up."""
    return bool(_SHAPE.match(value))
