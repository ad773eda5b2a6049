"""Benchmark of the pages staff and experts open most, at the scale of the scores benchmark.

Generates the data set of `scores_bench.py` (N countries, agencies, submitted responses answering a generated
questionnaire of Q questions) into a throw-away database, adds a contact per agency with an invitation, and
computes the scores (`store.rebuild`). Then, in the same run, times:

- the baseline: the plain SQL aggregation of the raw answers by country and area of `scores_bench.py`;
- each page, requested through the application as a signed-in administrator (Flask's test client: routing,
  permission checks, queries, templates; no network), best of three.

It prints each page's time as a ratio against the baseline. No issue sets a target; the figures show which
pages grow with the number of agencies and responses (before the version's definition was deferred and the
review index counted in SQL, the campaign's progress page took 5.1 s and the review index 18 s on this data).

    .venv/bin/python bench/pages_bench.py                  # 50 countries, 1,500 agencies, 5,000 x 300
    .venv/bin/python bench/pages_bench.py --responses 500  # smaller
    .venv/bin/python bench/pages_bench.py --postgres       # on a throw-away PostgreSQL database
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scores_bench import add_data_set_arguments, baseline, data_set  # noqa: E402


def add_contacts_and_invitations(campaign) -> int:
    """A contact per agency of the campaign, each invited (no e-mail queued): the invitations' columns of the
    campaign pages have something to show."""
    from sqlalchemy import insert

    from app.campaigns import services as campaigns
    from app.directory.models import Contact
    from app.extensions import db

    db.session.execute(insert(Contact), [{"agency_id": agency.id, "name": f"Contact {agency.acronym}",
                                          "email": f"contact.{agency.id}@example.org", "locale": "ru",
                                          "is_active": True} for agency in campaign.agencies])
    issued = campaigns.invite(campaign, send_email=False)
    db.session.commit()
    return len(issued)


def best(call, repeat: int = 3) -> float:
    """The shortest of `repeat` runs of `call`, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_set_arguments(parser)
    args = parser.parse_args()
    os.environ.setdefault("FLASK_DEBUG", "1")
    import logging

    from sqlalchemy import select, text

    from app.auth import services as auth
    from app.auth.models import User
    from app.campaigns.models import Campaign
    from app.directory.models import Country
    from app.extensions import db
    from app.questionnaires.services import definition_of
    from app.scoring import store

    with data_set(args, "bench_pages") as (app, campaign_id, seconds):
        logging.getLogger("app.request").setLevel(logging.WARNING)  # one log line per request otherwise
        with app.app_context():
            started = time.perf_counter()
            campaign = db.session.get(Campaign, campaign_id)
            definition = definition_of(campaign.version)
            invitations = add_contacts_and_invitations(campaign)
            store.rebuild()
            admin = User(email="bench.admin@example.org", role="admin", name="Bench", is_active=True)
            db.session.add(admin)
            db.session.flush()
            auth.set_password(admin, "bench-password-2026")
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            user_id = admin.get_id()
            country = db.session.scalar(select(Country.code).order_by(Country.id))
            response_id = db.session.scalar(text("SELECT MIN(id) FROM responses WHERE campaign_id = :c"),
                                            {"c": campaign_id})
            print(f"data: {args.countries} countries, {args.agencies} agencies, {args.responses} responses, "
                  f"{args.questions} questions, {invitations} invitations of the first campaign "
                  f"({seconds + time.perf_counter() - started:.0f} s to generate) on "
                  f"{'PostgreSQL' if args.postgres else 'SQLite'}")

            base = best(lambda: baseline(db, definition, args.postgres))
            db.session.remove()

        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user_id, True
        c = campaign_id
        pages = ["/staff", "/campaigns/", f"/campaigns/{c}", f"/campaigns/{c}/progress", "/directory/agencies",
                 "/review/", f"/review/campaigns/{c}/{country}", f"/review/campaigns/{c}/{country}/compare",
                 f"/review/responses/{response_id}", f"/dashboards/progress?campaign={c}",
                 f"/dashboards/region?campaign={c}", f"/dashboards/countries/{country}?campaign={c}",
                 f"/dashboards/questions?campaign={c}"]
        print(f"baseline SQL aggregation of the raw answers by country and area: {base * 1000:.0f} ms")
        figures = {}
        for path in pages:
            sizes = []

            def get(path=path, sizes=sizes):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                sizes.append(len(response.data))

            elapsed = best(get)
            figures[path] = round(elapsed / base, 3)
            print(f"{path}: {elapsed * 1000:.0f} ms = {elapsed / base:.2f} x baseline ({sizes[-1] // 1024} KB)")
        print(json.dumps({"baseline_s": round(base, 4), "page_ratios": figures}))


if __name__ == "__main__":
    main()
