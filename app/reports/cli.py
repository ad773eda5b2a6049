"""`flask reports ...`: write the Excel reports from the command line (everything is in scope here).

    flask reports country CAMPAIGN COUNTRY [--lang ru] [-o FILE] [--comments]
    flask reports region CAMPAIGN [--lang ru] [-o FILE]

Without -o the file goes to instance/reports/ with a name saying what and when (UTC), e.g.
country-KZ-campaign1-en-2026-11-29T0912.xlsx. An unknown campaign or country exits with status 1 and a
message naming it.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.cli_options import RECORD_ID, interface_language, output_file
from app.reports import data

reports_cli = AppGroup("reports", help="Excel reports: country gap reports and the regional summary.")


def _lang(lang: str | None) -> str:
    """The report's language: --lang (checked by `interface_language`), else DEFAULT_LOCALE."""
    return lang or current_app.config["DEFAULT_LOCALE"]


def _output(output: str | None, filename: str) -> Path:
    return output_file(output or Path(current_app.instance_path) / "reports" / filename, ".xlsx")


def _campaign(campaign_id: int):
    try:
        return data.report_campaign(None, campaign_id)
    except data.NotFound as exc:
        raise click.ClickException(f"{exc.what} (see `flask campaigns list`)") from None


def _branding() -> data.Branding:
    try:
        return data.load_branding()
    except data.BrandingError as exc:
        raise click.ClickException(str(exc)) from None


@reports_cli.command("country")
@click.argument("campaign_id", type=RECORD_ID)
@click.argument("country_code")
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the report (default: DEFAULT_LOCALE).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the workbook (default: instance/reports/country-CODE-campaignID-LANG-TIME.xlsx).")
@click.option("--comments", "include_comments", is_flag=True, help="Include the reviewers' internal comments.")
def country(campaign_id: int, country_code: str, lang: str | None, output: str | None, include_comments: bool):
    """Write the gap report of one country in one campaign."""
    from app.reports.country import build_country_report

    lang = _lang(lang)
    campaign = _campaign(campaign_id)
    try:
        country = data.report_country(None, campaign, country_code)
    except data.NotFound as exc:
        raise click.ClickException(exc.what) from None
    report = data.country_report_data(campaign, country, include_comments=include_comments, branding=_branding())
    path = _output(output, data.report_filename("country", campaign.id, lang, country.code, report.generated_at))
    build_country_report(report, lang).save(path)
    click.echo(str(path))


@reports_cli.command("region")
@click.argument("campaign_id", type=RECORD_ID)
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the workbook (default: DEFAULT_LOCALE).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the workbook (default: instance/reports/region-campaignID-LANG-TIME.xlsx).")
def region(campaign_id: int, lang: str | None, output: str | None):
    """Write the regional summary of a campaign (every country)."""
    from app.reports.regional import build_regional_report

    lang = _lang(lang)
    campaign = _campaign(campaign_id)
    report = data.regional_report_data(campaign, None, branding=_branding())
    path = _output(output, data.report_filename("region", campaign.id, lang, now=report.generated_at))
    build_regional_report(report, lang).save(path)
    click.echo(str(path))
