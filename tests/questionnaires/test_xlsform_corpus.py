"""Every real XLSForm of the shared corpus imports, or is refused with messages naming a sheet and a row.

The corpus lives outside the repository (../shared/corpus/xlsforms, other licences): these tests read it in
place and are skipped when it is absent. Run with `-s` to see the summary printed by the last test.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from pyxform.xls2xform import convert

from app.questionnaires.xlsform import export_xlsform_bytes, import_xlsform

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "xlsforms"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".xlsx", ".xls")) if CORPUS.is_dir() \
    else []
LOCATED = re.compile(r"^\S.* row \d+: \S")  # "<sheet> row <n>: ..."
LOCATED_OR_SHEET = re.compile(r"^\S.* (row \d+|sheet): \S")

pytestmark = pytest.mark.skipif(not FILES, reason=f"XLSForm corpus not found at {CORPUS}")

#: Outcome per file, filled by the parametrized test and printed by test_corpus_summary.
OUTCOMES: dict[str, tuple[str, list[str], list[str]]] = {}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_form_imports_or_is_refused_with_located_messages(path: Path):
    result = import_xlsform(path.read_bytes(), path.name)  # any exception escaping the import fails the test
    for message in result.skipped + result.notes:
        assert LOCATED_OR_SHEET.match(message), message
    if result.problems:
        assert result.definition is None
        for message in result.problems:
            assert LOCATED.match(message), message
        OUTCOMES[path.name] = ("refused", [m.feature for m in result.problems],
                               [m.feature for m in result.skipped])
        return
    definition = result.definition
    assert definition is not None
    assert sum(len(s.questions) for s in definition.sections) > 0
    # what we imported survives our own export (which pyxform converts) and re-import unchanged
    content = export_xlsform_bytes(definition)
    convert(content, warnings=[], validate=False, file_type=".xlsx")
    again = import_xlsform(content, "again.xlsx")
    assert not again.problems, again.problems
    assert again.definition.to_dict() == definition.to_dict()
    OUTCOMES[path.name] = ("skipped parts" if result.skipped else "full", [],
                           [m.feature for m in result.skipped])


def test_corpus_summary():
    if not OUTCOMES:
        pytest.skip("run together with the corpus tests")
    kinds = Counter(kind for kind, _, _ in OUTCOMES.values())
    refusals = Counter(f for _, problems, _ in OUTCOMES.values() for f in set(problems))
    skips = Counter(f for _, _, skipped in OUTCOMES.values() for f in set(skipped))
    print(f"\nXLSForm corpus: {len(OUTCOMES)} files: {kinds['full']} imported fully, "
          f"{kinds['skipped parts']} imported with skipped parts, {kinds['refused']} refused")
    print("most common refusal reasons (files):", refusals.most_common(5))
    print("most common skipped features (files):", skips.most_common(10))
    assert sum(kinds.values()) == len(OUTCOMES)
