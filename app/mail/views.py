"""Pages of the mail package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mail", __name__)
