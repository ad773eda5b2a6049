"""Magic-link tokens: random, 256 bits, stored only as a SHA-256 hash. Pure: no Flask, no database."""

from __future__ import annotations

import hashlib
import secrets

#: Bytes of randomness in a token (256 bits; the issue asks for at least 128).
TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any database look-up (URL-safe base64 of the expected length)."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
