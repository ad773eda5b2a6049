"""Structured request logging: one JSON line per request, without personal data.

The route's rule (e.g. `/invite/<token>`) is logged rather than the path, so tokens, e-mail
addresses and ids typed into URLs never reach the log; no IP address, no user name, no form data.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Flask, g, request
from flask_login import current_user

logger = logging.getLogger("app.request")


def _role() -> str | None:
    """The role of the signed-in user, or of the API token's owner."""
    if getattr(current_user, "is_authenticated", False):
        return current_user.role
    api_user = g.get("api_user")
    return getattr(api_user, "role", None)


def register(app: Flask) -> None:
    """Log each request when it ends."""
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        started = g.get("request_started")
        record = {
            "event": "request",
            "request_id": g.get("request_id"),
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "(no route)",
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "role": _role(),
        }
        logger.info(json.dumps(record))
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        return response
