"""`flask directory ...`: the Excel template and the bulk import of agencies and contacts."""

from __future__ import annotations

import unicodedata
from contextlib import nullcontext
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.core.cli_options import interface_language, output_file
from app.directory import services
from app.directory.labels import problem_text
from app.directory.models import Agency
from app.directory.workbooks import MAX_BYTES, TEMPLATE_LANGUAGES, agency_key
from app.extensions import db
from app.i18n import _, force_locale

directory_cli = AppGroup("directory", help="Partner directory: agencies and contacts.")


@directory_cli.command("template")
@click.option("--lang", type=click.Choice(TEMPLATE_LANGUAGES), default="en", show_default=True,
              help="Language of the sheet names, headings and instructions.")
@click.option("--with-data", is_flag=True, help="Fill it with the agencies and contacts of the directory.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The .xlsx file to write.")
def template(lang: str, with_data: bool, output: str):
    """Write the Excel template for the bulk import of agencies and contacts."""
    services.template_workbook(lang, with_data=with_data).save(output_file(output, ".xlsx"))
    click.echo(_("written %(path)s", path=output))


@directory_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report what would change; save nothing.")
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the messages (default: the installation's default).")
def import_(file: str, dry_run: bool, lang: str | None):
    """Create or update agencies and contacts from a filled-in template; nothing is saved if any row is wrong."""
    path = Path(file)
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
    with force_locale(lang) if lang else nullcontext():
        report = services.import_workbook(data, dry_run=dry_run, channel="cli", filename=path.name)
        if not report.ok:
            db.session.rollback()
            for problem in report.problems:
                click.echo(f"{file}: {problem_text(problem)}", err=True)
            click.echo(_("Nothing was imported: fix the problems above (%(count)s) and try again.",
                         count=len(report.problems)), err=True)
            raise SystemExit(1)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        for label, counts in ((_("Agencies"), report.agencies), (_("Contacts"), report.contacts)):
            click.echo(_("%(what)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged",
                         what=label, created=counts.created, updated=counts.updated, unchanged=counts.unchanged))
        if report.empty:
            click.echo(_("The file has no rows of agencies or contacts: nothing to import. Was it the empty "
                         "template?"))
        if dry_run:
            click.echo(_("Dry run: nothing was saved."))


def _visible(text: str) -> str:
    """The text with its invisible characters written out (MVD\\u200b), so that two look-alikes can be told
    apart."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) == "Cf" else c for c in text)


@directory_cli.command("duplicates")
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the messages (default: the installation's default).")
def duplicates(lang: str | None):
    """List the agencies that the forms and the import take for one another: the same country and acronym once
    case, spaces and invisible characters (a zero-width space pasted from a document) are set aside. Such
    pairs can only come from before those were set aside. Exits with 1 when there are any."""
    groups: dict[tuple[str, str], list[Agency]] = {}
    for agency in db.session.scalars(select(Agency).order_by(Agency.id)):
        groups.setdefault(agency_key(agency.country_code, agency.acronym), []).append(agency)
    found = [agencies for agencies in groups.values() if len(agencies) > 1]
    with force_locale(lang) if lang else nullcontext():
        for agencies in found:
            country = agencies[0].country_code or _("regional body")
            click.echo(f"{country}: " + "; ".join(
                _("“%(acronym)s” (id %(id)s, %(state)s)", acronym=_visible(a.acronym), id=a.id,
                  state=_("active") if a.is_active else _("inactive")) for a in agencies))
        if found:
            click.echo(_("%(count)s group(s) of agencies that look the same: keep one of each and deactivate the "
                         "others.", count=len(found)), err=True)
            raise SystemExit(1)
        click.echo(_("No agencies that look the same."))


countries_cli = AppGroup("countries", help="The partner countries agencies belong to and experts are assigned.")
directory_cli.add_command(countries_cli)


@countries_cli.command("add")
@click.argument("codes", nargs=-1, required=True)
@click.option("--name", "names", multiple=True, metavar="LANG=NAME",
              help="The country's name in a language instead of the standard one (with one code only), "
                   "e.g. --name en=Kyrgyzstan; for a country that exists, its name is changed.")
@click.option("--lang", default=None, callback=interface_language,
              help="Language of the messages (default: the installation's default).")
def add_countries(codes: tuple[str, ...], names: tuple[str, ...], lang: str | None):
    """Add partner countries by their ISO 3166-1 codes (KZ KG TJ TM UZ), named in every interface language
    from the Unicode CLDR data. A country that exists is left as it is (running it again changes nothing)."""
    with force_locale(lang) if lang else nullcontext():
        given: dict[str, str] = {}
        for item in names:
            language, sep, text = item.partition("=")
            if not sep or not text.strip() or language.strip() not in current_app.config["LOCALES"]:
                raise click.UsageError(_("--name takes LANG=NAME with LANG one of %(locales)s, not “%(item)s”.",
                                         locales=", ".join(current_app.config["LOCALES"]), item=item))
            given[language.strip()] = text
        if given and len(codes) > 1:
            raise click.UsageError(_("--name can only be given with one country code."))
        results = []
        try:
            for code in codes:
                results.append(services.add_country(code, given, channel="cli"))
        except services.DirectoryError as exc:
            db.session.rollback()
            click.echo(_("Error: %(message)s Nothing was added.", message=exc), err=True)
            raise SystemExit(1) from None
        db.session.commit()
        for country, state in results:
            shown = "; ".join(f"{language}: {text}" for language, text in sorted(country.names.items()))
            message = {"created": _("%(code)s added (%(names)s)", code=country.code, names=shown),
                       "updated": _("%(code)s renamed (%(names)s)", code=country.code, names=shown)}
            click.echo(message.get(state) or _("%(code)s already exists (%(names)s)", code=country.code,
                                                 names=shown))


@countries_cli.command("list")
def list_countries():
    """One country per line: code, then its names."""
    from app.directory.models import Country

    for country in db.session.scalars(select(Country).order_by(Country.code)):
        click.echo("\t".join([country.code, *(f"{lang}: {text}" for lang, text in sorted(country.names.items()))]))
