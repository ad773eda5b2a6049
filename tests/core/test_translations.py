"""Every UI string is in every catalogue and translated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import ROOT


def test_catalogues_are_complete():
    from app.i18n_catalogues import problems

    assert problems() == []


def test_every_extracted_string_is_in_the_russian_catalogue(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-k", "_", "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    for lang in ("ru", "en"):
        with (ROOT / "app" / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalogue = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(fh) if m.id}
        missing = sorted(extracted - catalogue.keys())
        assert missing == [], f"{lang}: run `make translations` and translate: {missing[:10]}"
