"""Pages of the campaigns package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("campaigns", __name__)
