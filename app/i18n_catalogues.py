"""Catalogue maintenance used by `make translations` and the tests.

`python -m app.i18n_catalogues fill-source LANG` copies each message id into the catalogue of the
language the ids are written in (English), so that catalogue is complete by construction;
`python -m app.i18n_catalogues check` lists entries that are untranslated or fuzzy in any catalogue.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def fill_source(lang: str = "en") -> int:
    """Set msgstr = msgid for every entry of `lang`; returns how many entries changed."""
    path = _path(lang)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    changed = 0
    for message in catalog:
        if not message.id:
            continue
        wanted = message.id if not message.pluralizable else tuple(message.id)
        if message.string != wanted or message.fuzzy:
            message.string = wanted
            message.flags.discard("fuzzy")
            changed += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)
    return changed


def problems() -> list[str]:
    """Untranslated or fuzzy entries of every catalogue, as 'lang: msgid' lines."""
    found = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parts[-3]
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                found.append(f"{lang}: {msgid}")
    return found


def main(argv: list[str]) -> int:
    """Command line: fill-source LANG | check."""
    if argv[:1] == ["fill-source"]:
        print(f"{fill_source(argv[1] if len(argv) > 1 else 'en')} entries filled")
        return 0
    if argv[:1] == ["check"]:
        issues = problems()
        for line in issues:
            print(line)
        return 1 if issues else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
