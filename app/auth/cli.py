"""`flask users ...`: create and list accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import ROLES
from app.auth.passwords import generate_password
from app.extensions import db

users_cli = AppGroup("users", help="Create and list user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r for r in ROLES if r != "respondent"]), required=True,
              help="The account's role (respondents' accounts come from their agency's contacts and links).")
@click.option("--name", default="", help="Full name.")
@click.option("--country", "countries", multiple=True, help="ISO code of a country an expert may see (repeat).")
@click.option("--locale", default=None, help="Preferred interface language (en, ru, ...).")
@click.option("--generate-password", "generate", is_flag=True,
              help="Generate a password and print it instead of reading one from standard input.")
def create(email: str, role: str, name: str, countries: tuple[str, ...], locale: str | None, generate: bool):
    """Create a user. The password is read from standard input (first line), or generated and printed."""
    if countries and role != "expert":  # it was dropped without a word
        raise click.UsageError("--country is for experts only: staff and administrators see every country")
    if generate or sys.stdin is None or sys.stdin.isatty():
        if not generate and sys.stdin is not None and sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = generate_password()
    else:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            password = generate_password()
            generate = True
    try:
        user = services.create_user(email, role, name=name, password=password, locale=locale,
                                    country_codes=countries, channel="cli")
    except services.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id})"
               + (f", countries {', '.join(user.country_codes)}" if user.country_codes else ""))
    if generate:
        click.echo(f"Password: {password}")


@users_cli.command("list")
def list_():
    """List users: id, e-mail, role, active, countries."""
    for user in services.list_users():
        status = "active" if user.is_active else "inactive"
        countries = ",".join(user.country_codes)
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{status}\t{user.name}\t{countries}")
