"""Stored questionnaire versions: load definitions, list, fetch. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from app.core import audit
from app.extensions import db
from app.questionnaires.loader import Problem, load_file
from app.questionnaires.models import Questionnaire, QuestionnaireVersion
from app.questionnaires.schema import Definition


class QuestionnaireError(ValueError):
    """A questionnaire operation was refused; the message says why."""


@dataclass(frozen=True)
class LoadOutcome:
    """What `store_definition` did: "created" (new questionnaire), "new version" or "unchanged"."""

    slug: str
    number: int
    action: str
    source: str

    def __str__(self) -> str:
        if self.action == "unchanged":
            return f"{self.source}: {self.slug} unchanged (version {self.number})"
        if self.action == "created":
            return f"{self.source}: {self.slug} created (version {self.number})"
        return f"{self.source}: {self.slug} changed: version {self.number} stored"


def store_definition(definition: Definition, *, source: str = "", actor=None, channel: str = "web") -> LoadOutcome:
    """Store `definition` as a new frozen version unless the newest version has the same content."""
    content_hash = definition.content_hash()
    questionnaire = db.session.scalar(select(Questionnaire).where(Questionnaire.slug == definition.id))
    action = "new version"
    if questionnaire is None:
        questionnaire = Questionnaire(slug=definition.id)
        db.session.add(questionnaire)
        action = "created"
    latest = questionnaire.latest
    if latest is not None and latest.content_hash == content_hash:
        return LoadOutcome(definition.id, latest.number, "unchanged", source)
    number = (latest.number if latest else 0) + 1
    version = QuestionnaireVersion(
        number=number, definition=definition.to_dict(), content_hash=content_hash, source=source,
        title=dict(definition.title) if isinstance(definition.title, dict) else {"en": str(definition.title)},
        created_by_id=getattr(actor, "id", None),
    )
    questionnaire.versions.append(version)
    db.session.flush()
    audit.record("questionnaire.version_stored", actor=actor, object_type="questionnaire_version",
                 object_id=version.id, new={"slug": definition.id, "number": number, "hash": content_hash},
                 channel=channel, details=source)
    return LoadOutcome(definition.id, number, action, source)


def questionnaire_files(paths: list[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders into their definition files (.yaml / .yml in any case, sorted); keep files as given. A file
    named twice, or named and inside a named folder, counts once (else it would clash with itself); a folder
    holding no definition file is an error, not "0 files valid"."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml"))
            if not found:
                problems.append(Problem(str(path), 0, "(folder)", "no definition file (.yaml or .yml) in this folder"))
        else:
            found = [path]
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append(file)
    return files, problems


def check_paths(paths: list[str | Path]) -> tuple[list[Path], list[tuple[Path, Definition]], list[Problem]]:
    """Check every file, and that no two of them share an id (`flask questionnaires validate` and `load` alike):
    the files read, their definitions without errors, and every problem."""
    definitions = []
    files, problems = questionnaire_files(paths)
    for path in files:
        result = load_file(path)
        problems.extend(result.problems)
        if result.definition is not None and not any(p.severity == "error" for p in result.problems):
            definitions.append((path, result.definition))
    seen: dict[str, Path] = {}
    for path, definition in definitions:
        if definition.id in seen:
            problems.append(Problem(str(path), _line_of_id(path), "id", f"the id '{definition.id}' is already used by "
                                    f"{seen[definition.id]}: each questionnaire needs its own id", "error"))
        seen.setdefault(definition.id, path)
    return files, definitions, problems


def load_paths(paths: list[str | Path], *, actor=None, channel: str = "cli"):
    """Validate and store every file; returns (outcomes, problems). Nothing is stored if any file has errors."""
    outcomes: list[LoadOutcome] = []
    _files, definitions, problems = check_paths(paths)
    if any(p.severity == "error" for p in problems):
        return [], problems
    for path, definition in definitions:
        outcomes.append(store_definition(definition, source=str(path), actor=actor, channel=channel))
    return outcomes, problems


def _line_of_id(path: Path) -> int:
    """The line of the top-level `id:` key of a definition file (1 when not found)."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("id:"):
            return number
    return 1


def list_questionnaires() -> list[Questionnaire]:
    """Every questionnaire with its versions, by slug."""
    return list(db.session.scalars(select(Questionnaire).order_by(Questionnaire.slug)))


def get_questionnaire(slug: str) -> Questionnaire | None:
    """The questionnaire with this slug, or None."""
    return db.session.scalar(select(Questionnaire).where(Questionnaire.slug == slug))


def get_version(slug: str, number: int | None = None) -> QuestionnaireVersion | None:
    """Version `number` of questionnaire `slug` (the newest when number is None), or None."""
    questionnaire = get_questionnaire(slug)
    if questionnaire is None or not questionnaire.versions:
        return None
    if number is None:
        return questionnaire.latest
    return next((v for v in questionnaire.versions if v.number == number), None)


def definition_of(version: QuestionnaireVersion) -> Definition:
    """The parsed Definition of a stored version (cached by content hash: versions never change; the stored
    definition, a deferred column, is read from the database only when the cache does not hold it)."""
    return _parse_cached(version.content_hash, _Frozen(version))


class _Frozen:
    """Wraps a version so lru_cache keys on the hash alone, and reads its definition only when it parses it."""

    __slots__ = ("version",)

    def __init__(self, version: QuestionnaireVersion):
        self.version = version

    @property
    def data(self) -> dict:
        return self.version.definition

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other) -> bool:
        return True


@lru_cache(maxsize=64)
def _parse_cached(content_hash: str, frozen: _Frozen) -> Definition:
    return Definition.model_validate(frozen.data)
