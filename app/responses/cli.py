"""`flask campaigns remind`: the reminder command lives here because it needs the responses' status."""

from __future__ import annotations

import click

from app.campaigns import services as campaigns
from app.campaigns.cli import campaigns_cli
from app.extensions import db
from app.responses import services


@campaigns_cli.command("remind")
@click.argument("campaign_id", type=int)
@click.option("--min-days", default=7, show_default=True, type=click.IntRange(min=0),
              help="Do not remind a contact again within this many days.")
@click.option("--country", "countries", multiple=True, help="Only agencies of this country (repeat).")
def remind(campaign_id: int, min_days: int, countries):
    """Queue a reminder (with a fresh link) for each contact of agencies that have not submitted."""
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id} (see `flask campaigns list`)")
    try:
        outcomes = services.remind(campaign, min_days=min_days, country_codes=countries or None, channel="cli")
    except services.ResponseError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for outcome in outcomes:
        inv = outcome.invitation
        click.echo(f"{inv.agency.country_code or '-'}/{inv.agency.acronym}\t{inv.contact.email}\t{outcome.action}")
    reminded = sum(1 for o in outcomes if o.action == "reminded")
    click.echo(f"{reminded} reminder(s) queued", err=True)
