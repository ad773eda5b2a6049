"""Pages of the directory package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directory", __name__)
