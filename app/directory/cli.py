"""`flask directory ...`: the Excel template and the bulk import of agencies and contacts."""

from __future__ import annotations

from flask.cli import AppGroup

directory_cli = AppGroup("directory", help="Partner directory: agencies and contacts.")
