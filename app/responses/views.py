"""Pages of the responses package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("responses", __name__)
