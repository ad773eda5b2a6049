"""What several `flask ...` commands check the same way: an interface language asked for with --lang, and a
file to write with -o (its folder is created, as `flask reports` always did)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from app.core.ids import MAX_ID

#: An id or version number given on the command line: a number the database's INTEGER columns hold (a larger one
#: made PostgreSQL fail with "integer out of range" and the command print a traceback).
RECORD_ID = click.IntRange(max=MAX_ID)


def interface_language(_ctx, _param, value: str | None) -> str | None:
    """Click callback of a --lang naming the language of messages or of a report: one of LOCALES (None: the
    default, which the command resolves; a default given to click would be checked too)."""
    if value is None:
        return None
    locales = current_app.config["LOCALES"]
    if value not in locales:
        raise click.BadParameter(f"{value!r} is not one of the interface languages ({', '.join(locales)})")
    return value


#: Extensions that say what a file holds: a name ending in another one than the file written is refused.
DATA_EXTENSIONS = (".xlsx", ".xls", ".xlsm", ".ods", ".csv", ".tsv", ".yaml", ".yml", ".json")


def output_file(path: str | Path, extension: str | None = None) -> Path:
    """The file to write, with its folder created when it does not exist yet. With `extension` (".xlsx"), a name
    ending in another of DATA_EXTENSIONS is refused: a workbook named data.csv opens as garbage."""
    path = Path(path)
    suffix = path.suffix.lower()
    if extension is not None and suffix in DATA_EXTENSIONS and suffix != extension:
        raise click.UsageError(f"{path.name}: the file written is {extension[1:].upper()}, not {suffix[1:].upper()}; "
                               f"name it {path.stem}{extension}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
