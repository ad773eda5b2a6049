"""`flask responses ...` (the offline workbook) and `flask campaigns remind`, which lives here because it needs the
responses' status."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.campaigns import services as campaigns
from app.campaigns.cli import campaigns_cli
from app.core.cli_options import RECORD_ID, interface_language, output_file
from app.extensions import db
from app.responses import services


@campaigns_cli.command("remind")
@click.argument("campaign_id", type=RECORD_ID)
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
        agency = outcome.agency
        click.echo(f"{agency.country_code or '-'}/{agency.acronym}\t{outcome.contact.email}\t{outcome.action}")
    reminded = sum(1 for o in outcomes if o.action == "reminded")
    click.echo(f"{reminded} reminder(s) queued", err=True)
    without_link = sum(1 for o in outcomes if o.without_link)
    if without_link:
        click.echo(f"{without_link} contact(s) without a valid link were not reminded: "
                   f"`flask campaigns invite {campaign.id}` sends them one", err=True)


responses_cli = AppGroup("responses", help="Responses: the offline Excel workbook.")


@responses_cli.command("workbook")
@click.argument("response_id", type=RECORD_ID)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the workbook (default: AGENCY-QUESTIONNAIRE-LANG.xlsx here).")
@click.option("--lang", default=None, help="Language of the workbook (default: the questionnaire's first).")
def workbook(response_id: int, output: str | None, lang: str | None):
    """Write the offline workbook of a response (to fill in and import with `import-workbook`)."""
    from app.questionnaires.services import definition_of
    from app.responses.models import Response
    from app.responses.workbook import build_workbook

    response = db.session.get(Response, response_id)
    if response is None:
        raise click.ClickException(f"no response with id {response_id}")
    definition = definition_of(response.version)
    lang = lang or definition.languages[0]
    if lang not in definition.languages:
        raise click.ClickException(f"the questionnaire is in {', '.join(definition.languages)}, not in {lang}")
    output = output or f"{response.agency.acronym}-{response.version.questionnaire.slug}-{lang}.xlsx"
    build_workbook(response, lang=lang).save(output_file(output, ".xlsx"))
    click.echo(output)


@responses_cli.command("import-workbook")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", "apply", is_flag=True, help="Save the changes (without it, only show them).")
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the messages and the answers shown (default: DEFAULT_LOCALE).")
def import_workbook(path: str, apply: bool, lang: str | None):
    """Check a filled offline workbook and show the answers it changes; save them with --yes.

    Every problem is printed as `Sheet!D7: message` and nothing is saved (exit status 1)."""
    from pathlib import Path

    from app.i18n import force_locale
    from app.responses import workbook as workbooks

    data = Path(path).read_bytes()
    lang = lang or current_app.config["DEFAULT_LOCALE"]
    with force_locale(lang):
        outcome = workbooks.import_workbook(data, actor=None, lang=lang, apply=apply)
        if outcome.problems:
            db.session.rollback()
            for problem in outcome.problems:
                click.echo(str(problem))
            raise SystemExit(1)
        for change in outcome.changes:
            flag = "  (also changed on the website after the download)" if change.changed_online else ""
            click.echo(f"{change.label}: {change.old or '(empty)'} -> {change.new or '(empty)'}{flag}")
        for label, cell in outcome.not_applicable:
            click.echo(f"{cell}: not read: {label} does not apply given the other answers")
        for label, cell in outcome.not_imported:
            click.echo(f"{cell}: not read: {label} (files are added on the website; rows that are not questions take "
                       "no answer)")
        if not outcome.changes:
            db.session.rollback()
            click.echo("The workbook holds the same answers as the database: nothing to change.")
        elif apply:
            db.session.commit()
            click.echo(f"{len(outcome.changes)} answer(s) saved.")
        else:
            db.session.rollback()
            click.echo(f"{len(outcome.changes)} answer(s) would change. Nothing was changed: run the command again "
                       "with --yes to save them.")
