"""`flask demo seed`: idempotent demo data."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.demo.seed import DEMO_PASSWORD, seed
from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying the tool.")


@demo_cli.command("seed")
def seed_command():
    """Create the demo countries and accounts (running it again changes nothing)."""
    report = seed()
    db.session.commit()
    for line in report:
        click.echo(line)


@demo_cli.command("accounts")
def accounts_command():
    """Print the demo accounts and their password."""
    from app.demo.seed import DEMO_USERS

    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role, _name, countries in DEMO_USERS:
        suffix = f" ({', '.join(countries)})" if countries else ""
        click.echo(f"  {role:<11} {email}{suffix}")
    from app.demo.campaign import demo_links

    links = demo_links()
    if links:
        click.echo("Demo respondents (personal links of agency contacts):")
        for email, what, link in links:
            click.echo(f"  {email} — {what}\n    {link}")
