"""`flask demo seed`: idempotent demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.demo.seed import DEMO_PASSWORD, seed
from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying the tool.")


@demo_cli.command("seed")
@click.option("--in-production", is_flag=True,
              help="Seed even in production: for a public demonstration site only, since anyone can sign in as the "
                   "demo administrator with the published password.")
def seed_command(in_production: bool):
    """Create the demo countries, accounts, questionnaires, directory and campaign (running it again changes
    nothing). Refused in production (FLASK_DEBUG unset) unless --in-production is given."""
    if current_app.config.get("PRODUCTION") and not in_production:
        raise click.UsageError(
            f"the demo data includes an administrator account whose password is published ({DEMO_PASSWORD}), so "
            "it is not created in production. Add the partner countries with `flask directory countries add KZ KG "
            "TJ TM UZ` and the first administrator with `flask users create EMAIL --role admin`; for a public "
            "demonstration site, give --in-production.")
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
