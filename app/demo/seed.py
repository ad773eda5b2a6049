"""The demo data itself; every step checks what exists first, so seeding twice changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.auth import services as auth_services
from app.auth.models import User
from app.directory.models import Country
from app.extensions import db

DEMO_PASSWORD = "demo-password-2026"

COUNTRIES = [
    ("KZ", {"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"}),
    ("KG", {"en": "Kyrgyzstan", "ru": "Кыргызстан", "ky": "Кыргызстан"}),
    ("TJ", {"en": "Tajikistan", "ru": "Таджикистан"}),
    ("TM", {"en": "Turkmenistan", "ru": "Туркменистан"}),
    ("UZ", {"en": "Uzbekistan", "ru": "Узбекистан", "uz": "Oʻzbekiston"}),
]

#: (e-mail, role, name, expert countries)
DEMO_USERS = [
    ("admin@example.org", "admin", "Demo Administrator", []),
    ("staff@example.org", "staff", "Aigerim Coordinator", []),
    ("expert@example.org", "expert", "Erlan Expert", ["KZ", "KG"]),
    ("expert2@example.org", "expert", "Dilnoza Expert", ["TJ", "TM", "UZ"]),
]


def _load_questionnaires() -> list[str]:
    """Load every definition in questionnaires/ (a new version only where a file changed)."""
    from flask import current_app

    from app.questionnaires.services import load_paths

    folder = Path(current_app.root_path).parent / "questionnaires"
    outcomes, problems = load_paths([folder], channel="cli")
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise RuntimeError("the demo questionnaires do not validate:\n" + "\n".join(errors))
    return [str(o) for o in outcomes if o.action != "unchanged"]


def seed() -> list[str]:
    """Create what is missing and return one line per thing created."""
    report: list[str] = []
    existing = {c.code: c for c in db.session.scalars(select(Country))}
    for code, names in COUNTRIES:
        if code not in existing:
            db.session.add(Country(code=code, names=names))
            report.append(f"country {code} created")
    db.session.flush()
    for email, role, name, countries in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            auth_services.create_user(email, role, name=name, password=DEMO_PASSWORD, country_codes=countries,
                                      channel="cli")
            report.append(f"user {email} ({role}) created")
    report.extend(_load_questionnaires())
    from app.demo.campaign import seed_campaign, seed_directory

    report.extend(seed_directory())
    report.extend(seed_campaign())
    if not report:
        report.append("demo data already present: nothing changed")
    return report
