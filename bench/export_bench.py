"""Benchmark of the raw data export (issue 7: raw export).

Generates a campaign of N submitted responses answering a generated questionnaire of Q questions of mixed types
(text, long text, integers, decimals, dates, single and multiple choice, yes/no, scale, matrix) into a
throw-away database, in a child process (so this process's peak memory is the export's), then times in the same
run:

- (a) `app.reports.raw`: the XLSX export of the campaign (labels, one 0/1 column per option), answers read from
  the server-side cursor;
- (b) the baseline: openpyxl's write-only mode writing the same cells (the same header, rows and codebook,
  prepared beforehand in Python lists) to a file.

It prints the ratio (a)/(b), the process's peak resident memory after the export (ru_maxrss) and the peak of
Python allocations during one more export run under tracemalloc (skip it with --no-tracemalloc: it slows that
run about twice). Targets: ratio <= 1.3, peak memory < 300 MB.

    .venv/bin/python bench/export_bench.py                                # 5,000 responses x 300 questions
    .venv/bin/python bench/export_bench.py --responses 500 --questions 60 # smaller
    .venv/bin/python bench/export_bench.py --postgres                     # on a throw-away PostgreSQL database
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import database  # noqa: E402 - bench/common.py, beside this script

#: The mix of question types, cycled through the questionnaire.
TYPES = ["single_choice", "number", "text", "yes_no", "scale", "multiple_choice", "date", "long_text", "decimal",
         "matrix", "single_choice", "yes_no", "number", "text", "scale"]
WORDS = ["training", "equipment", "analysts", "forensic", "cooperation", "border", "laboratory", "strategy",
         "database", "exchange", "обучение", "оборудование", "аналитики", "экспертиза", "сотрудничество", "граница",
         "лаборатория", "стратегия"]


def questionnaire(questions: int) -> str:
    """A generated questionnaire of `questions` questions in sections of 30."""
    lines = ["schema_version: 1", "id: bench-export", "title: {en: Export benchmark, ru: Тест выгрузки}",
             "languages: [en, ru]", "scale:"]
    lines += [f"  - {{level: {n}, label: {{en: Level {n}, ru: Уровень {n}}}}}" for n in range(5)]
    lines += ["areas:", "  - id: a0", "    title: {en: Area, ru: Область}", "    indicators:",
              "      - {id: i0, title: {en: Indicator, ru: Показатель}, target: 3}", "sections:"]
    for n in range(questions):
        if n % 30 == 0:
            lines += [f"  - id: s{n // 30}", f"    title: {{en: Section {n // 30}, ru: Раздел {n // 30}}}",
                      "    questions:"]
        kind = TYPES[n % len(TYPES)]
        lines += [f"      - id: q{n}", f"        type: {'number' if kind == 'decimal' else kind}",
                  f"        label: {{en: Question {n}, ru: Вопрос {n}}}"]
        if kind == "number":
            lines.append("        integer: true")
        if kind in ("single_choice", "multiple_choice"):
            lines.append("        choices:")
            lines += [f"          - {{value: c{c}, label: {{en: Choice {c}, ru: Вариант {c}}}}}" for c in range(5)]
        if kind == "multiple_choice":
            lines.append("        dont_know: true")
        if kind == "yes_no":
            lines += ["        partly: true", "        not_applicable: true"]
        if kind == "matrix":
            lines.append("        rows:")
            lines += [f"          - {{id: r{r}, label: {{en: Row {r}, ru: Строка {r}}}}}" for r in range(3)]
    return "\n".join(lines) + "\n"


def value_for(kind: str, rng: random.Random, response: int, question: int):
    """A stored (normalised) value of a question type."""
    if kind == "single_choice":
        return f"c{rng.randint(0, 4)}"
    if kind == "number":
        return rng.randint(0, 5000)
    if kind == "decimal":
        return round(rng.uniform(0, 100), 2)
    if kind == "yes_no":
        return rng.choice(["yes", "partly", "no", "yes", "not_applicable"])
    if kind == "scale":
        return rng.randint(0, 4)
    if kind == "multiple_choice":
        return "dont_know" if rng.random() < 0.05 else sorted(rng.sample([f"c{c}" for c in range(5)],
                                                                          rng.randint(1, 3)))
    if kind == "date":
        return (date(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))).isoformat()
    if kind == "matrix":
        return {f"r{r}": rng.randint(0, 4) for r in range(3)}
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40 if kind == "long_text" else 12)))
    if rng.random() < 0.01:
        return f"={words}"  # formula-like texts are rare but real
    return f"{words} ({response}/{question})"


def make_app(url: str, tmp: Path):
    os.environ.setdefault("FLASK_DEBUG", "1")
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    from app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "RATELIMIT_STORAGE_URI": "memory://"})


def generate(url: str, tmp: Path, responses: int, questions: int, countries: int) -> None:
    """The schema, then countries, agencies, a campaign and its submitted responses with every answer (bulk:
    executemany on SQLite, COPY on PostgreSQL). Runs in a child process."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.campaigns.models import Campaign, campaign_agencies
    from app.directory.models import Agency, Country
    from app.extensions import db
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import get_version, store_definition
    from app.responses.models import Response

    started = time.perf_counter()
    app = make_app(url, tmp)
    with app.app_context():
        upgrade()
        result = load_text(questionnaire(questions), "bench.yaml")
        assert result.definition is not None, result.problems
        outcome = store_definition(result.definition, source="bench")
        version = get_version(outcome.slug, outcome.number)
        db.session.execute(insert(Country), [{"code": chr(65 + c // 26 % 26) + chr(65 + c % 26),
                                              "names": {"en": f"Country {c}", "ru": f"Страна {c}"}}
                                             for c in range(countries)])
        country_ids = list(db.session.scalars(select(Country.id).order_by(Country.id)))
        db.session.execute(insert(Agency), [{"country_id": country_ids[a % countries], "acronym": f"AG{a}",
                                             "kind": "interior", "is_active": True,
                                             "names": {"en": f"Agency {a}", "ru": f"Ведомство {a}"}}
                                            for a in range(responses)])
        agency_ids = list(db.session.scalars(select(Agency.id).order_by(Agency.id)))
        campaign = Campaign(name="Bench", version_id=version.id, status="open", target_overrides={})
        db.session.add(campaign)
        db.session.flush()
        db.session.execute(insert(campaign_agencies), [{"campaign_id": campaign.id, "agency_id": a}
                                                       for a in agency_ids])
        now = datetime.now(UTC)
        db.session.execute(insert(Response), [
            {"campaign_id": campaign.id, "agency_id": a, "version_id": version.id, "status": "submitted",
             "submitted_at": now, "started_at": now, "row_version": 1} for a in agency_ids])
        response_ids = list(db.session.scalars(select(Response.id).order_by(Response.id)))
        db.session.commit()
        kinds = [TYPES[n % len(TYPES)] for n in range(questions)]
        rng = random.Random(7)

        def answers():
            for response_id in response_ids:
                for n, kind in enumerate(kinds):
                    yield (response_id, f"q{n}", json.dumps(value_for(kind, rng, response_id, n),
                                                            ensure_ascii=False), 1, now)

        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if url.startswith("postgresql"):
                with cursor.copy("COPY answers (response_id, question_id, value, version, updated_at) "
                                 "FROM STDIN") as copy:
                    for row in answers():
                        copy.write_row(row)
            else:
                batch = []
                for row in answers():
                    batch.append(row)
                    if len(batch) >= 50000:
                        cursor.executemany("INSERT INTO answers (response_id, question_id, value, version, "
                                           "updated_at) VALUES (?, ?, ?, ?, ?)", batch)
                        batch.clear()
                if batch:
                    cursor.executemany("INSERT INTO answers (response_id, question_id, value, version, updated_at) "
                                       "VALUES (?, ?, ?, ?, ?)", batch)
            raw.commit()
            cursor.close()
        finally:
            raw.close()
        if url.startswith("postgresql"):
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        count = db.session.execute(db.text("SELECT COUNT(*) FROM answers")).scalar()
        print(json.dumps({"campaign": campaign.id, "answers": count, "seconds": round(time.perf_counter() - started)}))
        db.session.remove()
        db.engine.dispose()


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def quiet_heap():
    """Time a section fairly: collect, and freeze what exists (so neither side's garbage collections walk the
    other's objects)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=5000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--countries", type=int, default=50)
    parser.add_argument("--agencies", type=int, default=None, help="ignored (one agency per response)")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed part (the best counts)")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    parser.add_argument("--generate", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate[0], Path(args.generate[1]), args.responses, args.questions, args.countries)
        return

    with database(args.postgres, "bench_export") as (url, tmp):
        child = subprocess.run([sys.executable, __file__, "--generate", url, str(tmp), "--responses",
                                str(args.responses), "--questions", str(args.questions), "--countries",
                                str(args.countries)], check=True, capture_output=True, text=True)
        generated = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"data: {args.responses:,} submitted responses x {args.questions} questions = "
              f"{generated['answers']:,} answers on {'PostgreSQL' if args.postgres else 'SQLite'} "
              f"({generated['seconds']} s to generate in a child process)", flush=True)
        run(url, tmp, generated["campaign"], args)


def run(url: str, tmp: Path, campaign_id: int, args) -> None:
    from openpyxl import Workbook

    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.reports import raw

    app = make_app(url, tmp)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        target, baseline_target = tmp / "export.xlsx", tmp / "baseline.xlsx"
        rss_before = peak_rss_mb()

        def export() -> float:
            db.session.rollback()
            with quiet_heap():
                t0 = time.perf_counter()
                raw.write_xlsx(raw.RawExport(campaign, unrestricted=True), str(target))
                return time.perf_counter() - t0

        export_times = [export()]
        rss_after_export = peak_rss_mb()
        size = target.stat().st_size

        # (b): the same cells, prepared in lists first (not timed), then written by openpyxl alone.
        db.session.rollback()
        plan = raw.RawExport(campaign, unrestricted=True)

        def baseline() -> tuple[float, int]:
            workbook = Workbook(write_only=True)
            data, codebook = workbook.create_sheet("Data"), workbook.create_sheet("Codebook")
            values, book_values = raw.XlsxValues(data), raw.XlsxValues(codebook)
            header = [values.text(v) for v in plan.header()]
            rows = list(plan.rows(values))
            book = [[book_values.text(v) for v in plan.codebook_header()]]
            book += [[book_values.text(v) if v else None for v in row] for row in plan.codebook_rows()]
            cells = sum(1 for row in rows for v in row if v is not None)
            with quiet_heap():
                t0 = time.perf_counter()
                data.append(header)
                for row in rows:
                    data.append(row)
                for row in book:
                    codebook.append(row)
                workbook.save(str(baseline_target))
                return time.perf_counter() - t0, cells

        # Alternate the two so that a change of the machine's load hits both; the best run of each counts.
        baseline_times = []
        for n in range(args.repeat):
            elapsed, cells = baseline()
            baseline_times.append(elapsed)
            if n:
                export_times.append(export())

        traced = None
        if args.tracemalloc:
            tracemalloc.start()
            export()
            traced = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()

        a, b = min(export_times), min(baseline_times)
        print(f"(a) raw XLSX export: {a:.1f} s ({len(plan.columns)} columns, {len(plan.responses):,} rows, "
              f"{cells:,} non-empty cells, {size / 1024 / 1024:.0f} MB file; runs: "
              f"{', '.join(f'{t:.1f}' for t in export_times)} s)")
        print(f"(b) openpyxl write-only, the same cells from Python lists: {b:.1f} s (runs: "
              f"{', '.join(f'{t:.1f}' for t in baseline_times)} s)")
        print(f"ratio (a)/(b): {a / b:.2f} (target <= 1.3)")
        print(f"peak memory of the process (ru_maxrss): {rss_before:.0f} MB with the app loaded, "
              f"{rss_after_export:.0f} MB after the export (target < 300)")
        if traced is not None:
            print(f"peak of Python allocations during one export (tracemalloc): {traced:.0f} MB")
        print(json.dumps({"export_s": round(a, 2), "baseline_s": round(b, 2), "ratio": round(a / b, 3),
                          "rss_app_mb": round(rss_before), "peak_rss_mb": round(rss_after_export),
                          "tracemalloc_peak_mb": round(traced) if traced is not None else None}))
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
