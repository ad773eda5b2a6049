"""Ids made from people's names for things: question ids from XLSForm names, questionnaire ids from form ids
and file names, with Cyrillic transliterated ("Численность" -> "chislennost"). The XLSForm import makes them, and
the questionnaire checker suggests them when an id breaks the rules."""

from __future__ import annotations

import re
import unicodedata

#: A question, section, choice... id.
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def make_id(name: str) -> str:
    """A valid id (^[a-z][a-z0-9_]*$) from an XLSForm name: lower case, Cyrillic transliterated ("Численность"
    -> "chislennost"), other characters as _."""
    ident = re.sub(r"[^a-z0-9_]+", "_", transliterate(name.strip())).strip("_")
    ident = re.sub(r"_+", "_", ident)[:70].rstrip("_")
    if ident and not ident[0].isalpha():
        ident = f"q_{ident}"
    return ident if ID_RE.match(ident or "") else ""


#: Cyrillic letters (Russian, Ukrainian, Kazakh, Kyrgyz, Uzbek, Tajik) in Latin letters, for questionnaire
#: ids made from form ids and file names ("Анкета 2024" -> "anketa-2024"). Simple and readable rather than
#: any one standard; letters with accents elsewhere lose them (é -> e), see transliterate.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian
    "є": "ye", "і": "i", "ї": "yi", "ґ": "g",
    # Kazakh, Kyrgyz
    "ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h",
    # Uzbek, Tajik
    "ў": "o", "ҳ": "h", "ҷ": "j", "ӣ": "i", "ӯ": "u",
}
#: Latin letters that Unicode does not decompose into a base letter and an accent.
_LATIN_EXTRA = {"ə": "e", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ħ": "h"}


def transliterate(text: str) -> str:
    """Lower-case `text` in ASCII letters where possible: Cyrillic by _CYRILLIC, accents dropped (é -> e)."""
    text = unicodedata.normalize("NFC", text).lower()  # NFC: file names from macOS come decomposed (и + ̆ = й)
    text = "".join(_CYRILLIC.get(char, _LATIN_EXTRA.get(char, char)) for char in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def make_slug(name: str) -> str:
    """A questionnaire id (^[a-z0-9][a-z0-9_-]*$) from a form_id or file name, Cyrillic transliterated."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", transliterate(name.strip())).strip("-_")
    return slug[:80].rstrip("-_")
