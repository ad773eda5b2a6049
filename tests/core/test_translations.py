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


def test_the_russian_catalogue_keeps_the_projects_terms():
    """An indicator is «показатель»: a figure of the dashboards was translated so too («Показатель регионального
    среднего», «являются показателями страны»), which read as indicators. Skip logic is «логика переходов»
    (once «логика пропуска»), an area «направление» (once «области»), "don't know" «Затрудняюсь ответить»."""
    import re

    with (ROOT / "app" / "translations" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = [(m.id if isinstance(m.id, str) else m.id[0],
                      " ".join(m.string) if isinstance(m.string, tuple) else m.string) for m in read_po(fh) if m.id]
    wrong = []
    for english, russian in catalogue:
        if re.search(r"\bfigures?\b", english) and not re.search(r"\bindicators?\b", english) \
                and re.search(r"показател", russian, re.I):
            wrong.append((english, "figure is «значение», not «показатель»"))
        if "skip logic" in english and not re.search(r"логик\w* переходов", russian):
            wrong.append((english, "skip logic is «логика переходов»"))
        if re.search(r"\bareas?\b", english) and re.search(r"\bобласт", russian, re.I):
            wrong.append((english, "an area is «направление»"))
        if re.search(r"don[’']t know", english, re.I) and re.search(r"«не знаю»", russian, re.I):
            wrong.append((english, "“don't know” is «Затрудняюсь ответить»"))
    assert wrong == []
