"""What several `flask ...` commands check the same way: an interface language asked for with --lang, and a
file to write with -o (its folder is created, as `flask reports` always did)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app


def interface_language(_ctx, _param, value: str | None) -> str | None:
    """Click callback of a --lang naming the language of messages or of a report: one of LOCALES (None: the
    default, which the command resolves; a default given to click would be checked too)."""
    if value is None:
        return None
    locales = current_app.config["LOCALES"]
    if value not in locales:
        raise click.BadParameter(f"{value!r} is not one of the interface languages ({', '.join(locales)})")
    return value


def output_file(path: str | Path) -> Path:
    """The file to write, with its folder created when it does not exist yet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
