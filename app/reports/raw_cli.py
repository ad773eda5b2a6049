"""`flask reports raw CAMPAIGN [--codes] [--lang en|ru] [--format xlsx|csv] [--multi columns|joined] [-o FILE]`:
the raw data of a campaign (every response: the command line is in scope of everything). Without --format, a
FILE named .csv gets CSV and any other a workbook; a FILE whose extension says another format is refused.

Without -o the file goes to instance/reports/ with a name saying what and when (UTC), e.g.
raw-campaign1-labels-en-2026-11-29T0912.xlsx. A CSV comes with its codebook beside it (FILE-codebook.csv); an
XLSX holds the codebook as its second sheet. An unknown campaign or language exits with status 1 and a message
naming it.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from app.campaigns.services import get_campaign
from app.core.cli_options import RECORD_ID, output_file
from app.reports import raw
from app.reports.cli import reports_cli


@reports_cli.command("raw")
@click.argument("campaign_id", type=RECORD_ID, metavar="CAMPAIGN")
@click.option("--codes", is_flag=True, help="Write the stored codes instead of the labels.")
@click.option("--lang", default=None, help="Language of the labels (default: the questionnaire's first).")
@click.option("--format", "fmt", type=click.Choice(raw.FORMATS), default=None,
              help="xlsx (default, or csv when -o names a .csv file); csv-semicolon: separated by semicolons, "
                   "with decimal commas, for Excel in Russian.")
@click.option("--multi", type=click.Choice(raw.MULTI_LAYOUTS), default="columns", show_default=True,
              help="Multiple choice: one 0/1 column per option, or one column of joined options.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the file (default: instance/reports/raw-campaignID-labels-LANG-TIME.xlsx).")
def raw_command(campaign_id: int, codes: bool, lang: str | None, fmt: str | None, multi: str,
                output: str | None):
    """Write the raw data of a campaign: one row per response, one column per question, and a codebook."""
    if fmt is None:  # the format the file's name says (data.csv), else a workbook
        fmt = "csv" if output and Path(output).suffix.lower() == ".csv" else "xlsx"
    campaign = get_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id} (see `flask campaigns list`)")
    try:
        export = raw.RawExport(campaign, raw.RawOptions(codes=codes, lang=lang, multi=multi), unrestricted=True)
    except raw.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    extension = "csv" if fmt in raw.CSV_FORMATS else fmt
    path = output_file(output or Path(current_app.instance_path) / "reports" / export.filename(extension),
                       f".{extension}")
    if fmt in raw.CSV_FORMATS:
        semicolons = fmt == "csv-semicolon"
        raw.write_csv(export, str(path), semicolons=semicolons)
        codebook = path.with_name(f"{path.stem}-codebook.csv")
        raw.write_csv(export, str(codebook), sheet="codebook", semicolons=semicolons)
        click.echo(str(path))
        click.echo(str(codebook))
    else:
        raw.write_xlsx(export, str(path))
        click.echo(str(path))
    click.echo(f"{len(export.responses)} response(s), {len(export.columns)} column(s)", err=True)
