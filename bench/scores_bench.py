"""Benchmark of the materialized scores (issue: scoring and dashboards).

Generates a campaign of N countries, agencies and submitted responses answering a generated questionnaire
of Q questions into a throw-away database, then times in the same run:

- baseline: a plain SQL aggregation of the raw answers by country and area (average of the numeric answers
  joined to a question -> area table), the work a dashboard would do without materialized scores;
- the regional view's data (app.dashboards.data.regional_data when present, else the same query over the
  materialized country x area scores);
- `store.rebuild()` of every score from the answers (committed; best of three);
- the rebuild's steps before any write, each alone: reading the packed answers of every campaign, and scoring
  them in Python;
- the floor under any rebuild: deleting and writing the same response score rows, nothing else, and the same
  writes into copies of the tables without their foreign key to responses (both rolled back).

The database is ANALYZEd after the data is generated, as a maintained database would be. It prints each
figure as a ratio against the baseline. Targets: regional data <= 0.1 x baseline, rebuild <= 3 x baseline.

    .venv/bin/python bench/scores_bench.py                       # 50 countries, 1,500 agencies, 5,000 x 300
    .venv/bin/python bench/scores_bench.py --responses 500       # smaller
    .venv/bin/python bench/scores_bench.py --postgres            # on a throw-away PostgreSQL database
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import database  # noqa: E402 - bench/common.py, beside this script

AREAS = 6
INDICATORS_PER_AREA = 5
TYPES = ["scale", "yes_no", "single_choice", "number", "multiple_choice", "scale", "yes_no", "text"]


def questionnaire(questions: int) -> str:
    """A generated questionnaire: AREAS x INDICATORS_PER_AREA indicators, `questions` questions in 10 sections."""
    lines = ["schema_version: 1", "id: bench-scores", "title: {en: Benchmark, ru: Тест}", "languages: [en, ru]",
             "scale:"]
    lines += [f"  - {{level: {n}, label: {{en: L{n}, ru: У{n}}}}}" for n in range(5)]
    lines.append("areas:")
    for a in range(AREAS):
        lines += [f"  - id: a{a}", f"    title: {{en: Area {a}, ru: Область {a}}}", "    indicators:"]
        lines += [f"      - {{id: a{a}i{i}, title: {{en: Indicator {a}.{i}, ru: Показатель {a}.{i}}}, target: 3}}"
                  for i in range(INDICATORS_PER_AREA)]
    lines.append("sections:")
    per_section = questions // 10
    for s in range(10):
        lines += [f"  - id: s{s}", f"    title: {{en: Section {s}, ru: Раздел {s}}}", "    questions:"]
        for k in range(per_section):
            n = s * per_section + k
            kind = TYPES[n % len(TYPES)]
            indicator = f"a{n % AREAS}i{(n // AREAS) % INDICATORS_PER_AREA}"
            lines += [f"      - id: q{n}", f"        type: {kind}",
                      f"        label: {{en: Question {n}, ru: Вопрос {n}}}"]
            if kind != "text":
                lines.append(f"        indicator: {indicator}")
            if kind in ("single_choice", "multiple_choice"):
                lines.append("        choices:")
                lines += [f"          - {{value: c{c}, label: {{en: C{c}, ru: В{c}}}, score: {c}}}" for c in range(5)]
            if kind == "number":
                lines += ["        thresholds:", "          - {at_least: 1, level: 1}",
                          "          - {at_least: 10, level: 3}", "          - {at_least: 50, level: 4}"]
            if kind == "yes_no":
                lines.append("        partly: true")
            if n % 25 == 1 and n > 1:
                lines.append(f"        show_if: \"${{q{n - 1}}} != 'no'\"" if TYPES[(n - 1) % len(TYPES)] == "yes_no"
                             else f"        show_if: \"${{q{n - 1}}} != ''\"")
    return "\n".join(lines) + "\n"


def value_for(kind: str, rng: random.Random):
    if kind == "scale":
        return rng.randint(0, 4)
    if kind == "yes_no":
        return rng.choice(["yes", "partly", "no"])
    if kind == "single_choice":
        return f"c{rng.randint(0, 4)}"
    if kind == "number":
        return rng.randint(0, 80)
    if kind == "multiple_choice":
        return sorted(rng.sample([f"c{c}" for c in range(5)], rng.randint(1, 3)))
    return "Some free text about the agency's needs"


def generate(app, countries: int, agencies: int, responses: int, questions: int) -> int:
    """Countries, agencies, a campaign and submitted responses with answers (bulk inserts); the campaign id."""
    from sqlalchemy import insert

    from app.campaigns.models import Campaign, campaign_agencies
    from app.directory.models import Agency, Country
    from app.extensions import db
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import get_version, store_definition
    from app.responses.models import Answer, Response

    rng = random.Random(7)
    result = load_text(questionnaire(questions), "bench.yaml")
    assert result.definition is not None, result.problems
    outcome = store_definition(result.definition, source="bench")
    version = get_version(outcome.slug, outcome.number)
    kinds = {q.id: q.type for _s, q in result.definition.questions()}
    db.session.execute(insert(Country), [{"code": chr(65 + c // 26) + chr(65 + c % 26), "names": {"en": f"Country {c}"}}
                                         for c in range(countries)])
    country_ids = [c.id for c in db.session.scalars(db.select(Country).order_by(Country.id))]
    db.session.execute(insert(Agency), [{"country_id": country_ids[a % countries], "acronym": f"AG{a}", "kind": "other",
                                         "names": {"en": f"Agency {a}"}, "is_active": True} for a in range(agencies)])
    agency_ids = [a.id for a in db.session.scalars(db.select(Agency).order_by(Agency.id))]
    campaign = Campaign(name="Bench", version_id=version.id, status="open", target_overrides={})
    db.session.add(campaign)
    db.session.flush()
    db.session.execute(insert(campaign_agencies), [{"campaign_id": campaign.id, "agency_id": a} for a in agency_ids])
    now = datetime.now(UTC)
    db.session.execute(insert(Response), [
        {"campaign_id": campaign.id, "agency_id": agency_ids[r % len(agency_ids)], "version_id": version.id,
         "status": "submitted", "submitted_at": now, "row_version": 1} for r in range(min(responses, len(agency_ids)))])
    extra = responses - len(agency_ids)
    if extra > 0:  # more responses than agencies: more campaigns over the same agencies
        for round_number in range((extra + len(agency_ids) - 1) // len(agency_ids)):
            other = Campaign(name=f"Bench {round_number + 2}", version_id=version.id, status="open",
                             target_overrides={})
            db.session.add(other)
            db.session.flush()
            db.session.execute(insert(campaign_agencies), [{"campaign_id": other.id, "agency_id": a}
                                                           for a in agency_ids])
            count = min(extra - round_number * len(agency_ids), len(agency_ids))
            db.session.execute(insert(Response), [
                {"campaign_id": other.id, "agency_id": agency_ids[r], "version_id": version.id,
                 "status": "submitted", "submitted_at": now, "row_version": 1} for r in range(count)])
    response_ids = [r.id for r in db.session.scalars(db.select(Response).order_by(Response.id))]
    batch = []
    for response_id in response_ids:
        for question_id, kind in kinds.items():
            batch.append({"response_id": response_id, "question_id": question_id, "value": value_for(kind, rng),
                          "version": 1, "updated_at": now})
        if len(batch) >= 60000:
            db.session.execute(insert(Answer), batch)
            batch = []
    if batch:
        db.session.execute(insert(Answer), batch)
    db.session.commit()
    return campaign.id


BASELINE_SQL = """
SELECT ag.country_id, qa.area_id, COUNT(*) AS answers, AVG(CAST({number} AS FLOAT)) AS mean_level
FROM answers a
JOIN responses r ON r.id = a.response_id
JOIN agencies ag ON ag.id = r.agency_id
JOIN bench_question_area qa ON qa.question_id = a.question_id
WHERE r.status IN ('submitted', 'validated') AND {is_number}
GROUP BY ag.country_id, qa.area_id
"""


def add_data_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The size of the generated data set and the database (shared with pages_bench.py)."""
    parser.add_argument("--countries", type=int, default=50)
    parser.add_argument("--agencies", type=int, default=1500)
    parser.add_argument("--responses", type=int, default=5000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--postgres", action="store_true")


def add_question_areas(db, definition) -> None:
    """The question -> area table the baseline joins the raw answers to."""
    from sqlalchemy import text

    db.session.execute(text("CREATE TABLE bench_question_area (question_id VARCHAR(80) PRIMARY KEY, "
                            "area_id VARCHAR(80))"))
    area_of = {i.id: a.id for a, i in definition.indicators()}
    db.session.execute(text("INSERT INTO bench_question_area VALUES (:q, :a)"),
                       [{"q": q.id, "a": area_of[q.indicator]} for _s, q in definition.questions() if q.indicator])


def baseline(db, definition, postgres: bool):
    from sqlalchemy import text

    if postgres:
        number, is_number = "a.value::text", "json_typeof(a.value) = 'number'"
    else:
        number, is_number = "a.value", "json_type(a.value) IN ('integer', 'real')"
    return db.session.execute(text(BASELINE_SQL.format(number=number, is_number=is_number))).all()


@contextmanager
def data_set(args: argparse.Namespace, prefix: str):
    """A migrated app on a throw-away database (common.database) holding the generated data set and the baseline's
    question -> area table: yields (app, campaign id, seconds the generation took), outside any app context; the
    database is dropped afterwards (shared with pages_bench.py)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.questionnaires.services import definition_of

    with database(args.postgres, prefix) as (url, _tmp):
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            campaign_id = generate(app, args.countries, args.agencies, args.responses, args.questions)
            add_question_areas(db, definition_of(db.session.get(Campaign, campaign_id).version))
            db.session.commit()
            seconds = time.perf_counter() - started
            db.session.remove()
        try:
            yield app, campaign_id, seconds
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_set_arguments(parser)
    args = parser.parse_args()
    os.environ.setdefault("FLASK_DEBUG", "1")
    from sqlalchemy import MetaData, text

    from app.extensions import db
    from app.questionnaires.services import definition_of
    from app.scoring import store
    from app.scoring.models import CountryAreaScore, ResponseAreaScore, ResponseScore

    with data_set(args, "bench_scores") as (app, campaign_id, seconds), app.app_context():
        from app.campaigns.models import Campaign

        campaign = db.session.get(Campaign, campaign_id)
        definition = definition_of(campaign.version)
        db.session.execute(text("ANALYZE"))  # planner statistics, as autovacuum / a maintained database has
        db.session.commit()
        answers = db.session.execute(text("SELECT COUNT(*) FROM answers")).scalar()
        print(f"data: {args.countries} countries, {args.agencies} agencies, {args.responses} responses, "
              f"{args.questions} questions, {answers:,} answers ({seconds:.0f} s to "
              f"generate) on {'PostgreSQL' if args.postgres else 'SQLite'}")

        def timed(label, call, repeat=3):
            best = None
            for _ in range(repeat):
                db.session.rollback()
                t0 = time.perf_counter()
                result = call()
                elapsed = time.perf_counter() - t0
                best = elapsed if best is None else min(best, elapsed)
            return best, result

        base, rows = timed("baseline", lambda: baseline(db, definition, args.postgres))
        def rebuild_and_commit():
            counts = store.rebuild()
            db.session.commit()
            return counts

        # Best of three like the other figures: the first fills empty tables, the next two replace rows.
        rebuild_time, counts = timed("rebuild", rebuild_and_commit)

        def regional():
            try:
                from app.dashboards.data import regional_data
            except ImportError:
                regional_data = None
            if regional_data is not None:
                from app.auth.models import User
                from app.dashboards.data import Filters

                staff = User(email="bench@example.org", role="staff")
                return regional_data(campaign, staff, Filters())
            return db.session.scalars(db.select(CountryAreaScore).where(
                CountryAreaScore.campaign_id == campaign_id)).all()

        regional_time, _data = timed("regional", regional)

        # The rebuild's two steps before any write, timed alone: reading every campaign's packed answers, and
        # scoring them in Python (a fresh scorer each time, so that nothing is remembered between runs).
        campaign_ids = list(db.session.scalars(db.select(Campaign.id).order_by(Campaign.id)))
        plan = store._Scorer(definition, None).plan
        question_ids = sorted(plan.scoring_questions | plan.referenced)

        def read_answers():
            return [rows for cid in campaign_ids for rows in store._stored_answers(cid, question_ids)]

        read_time, batches = timed("read", read_answers)
        db.session.rollback()

        def score_answers():
            scorer = store._Scorer(definition, None)
            gc.disable()  # as the rebuild does
            try:
                return sum(len(store._score_rows(definition, response_id, scorer.scores(packed))[0])
                           for rows in batches for response_id, packed in rows)
            finally:
                gc.enable()

        score_time, _rows = timed("score", score_answers)

        score_rows = [tuple(row) for row in db.session.execute(text(
            f"SELECT {', '.join(store.RESPONSE_COLUMNS)} FROM response_scores"))]
        area_rows = [tuple(row) for row in db.session.execute(text(
            f"SELECT {', '.join(store.AREA_COLUMNS)} FROM response_area_scores"))]

        def write_only():
            """The floor of any rebuild: deleting and writing the same response score rows, nothing else."""
            db.session.execute(text("DELETE FROM response_scores"))
            db.session.execute(text("DELETE FROM response_area_scores"))
            store._insert(ResponseScore.__table__, store.RESPONSE_COLUMNS, score_rows)
            store._insert(ResponseAreaScore.__table__, store.AREA_COLUMNS, area_rows)

        write_time, _none = timed("write", write_only)
        db.session.rollback()

        def write_without_foreign_keys():
            """The same writes into copies of the two tables without their foreign key to responses."""
            for name in ("response_scores", "response_area_scores"):
                db.session.execute(text(f"DROP TABLE IF EXISTS bench_{name}"))  # SQLite keeps DDL
                if args.postgres:
                    db.session.execute(text(f"CREATE TEMP TABLE bench_{name} (LIKE {name} INCLUDING ALL)"))
                else:
                    columns = store.RESPONSE_COLUMNS if name == "response_scores" else store.AREA_COLUMNS
                    db.session.execute(text(f"CREATE TEMP TABLE bench_{name} ({', '.join(columns)}, "
                                            f"PRIMARY KEY ({', '.join(columns[:2])}))"))
            copies = MetaData()
            store._insert(ResponseScore.__table__.to_metadata(copies, name="bench_response_scores"),
                          store.RESPONSE_COLUMNS, score_rows)
            store._insert(ResponseAreaScore.__table__.to_metadata(copies, name="bench_response_area_scores"),
                          store.AREA_COLUMNS, area_rows)

        unchecked_time, _none = timed("write without foreign keys", write_without_foreign_keys)
        db.session.rollback()
        print(f"baseline SQL aggregation of the raw answers by country and area: {base * 1000:.0f} ms "
              f"({len(rows)} groups)")
        print(f"regional view data: {regional_time * 1000:.1f} ms = {regional_time / base:.3f} x baseline "
              f"(target <= 0.1)")
        print(f"rebuild of all scores ({counts['responses']} responses): {rebuild_time:.1f} s = "
              f"{rebuild_time / base:.2f} x baseline (target <= 3)")
        print(f"  of which reading the packed answers alone: {read_time:.2f} s = {read_time / base:.2f} x baseline; "
              f"scoring them in Python alone: {score_time:.2f} s = {score_time / base:.2f} x baseline")
        print(f"  of which the floor, writing the same {len(score_rows) + len(area_rows):,} response score rows "
              f"alone (delete + bulk insert): {write_time:.2f} s = {write_time / base:.2f} x baseline; "
              f"into tables without the foreign key to responses: {unchecked_time:.2f} s = "
              f"{unchecked_time / base:.2f} x baseline")
        print(json.dumps({"baseline_s": round(base, 4), "regional_ratio": round(regional_time / base, 4),
                          "rebuild_ratio": round(rebuild_time / base, 3),
                          "read_ratio": round(read_time / base, 3), "score_ratio": round(score_time / base, 3),
                          "write_floor_ratio": round(write_time / base, 3),
                          "write_without_foreign_keys_ratio": round(unchecked_time / base, 3)}))


if __name__ == "__main__":
    main()
