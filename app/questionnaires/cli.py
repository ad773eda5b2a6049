"""`flask questionnaires ...`: validate, load, list, XLSForm import and export."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.cli_options import RECORD_ID, output_file
from app.extensions import db
from app.questionnaires import services

questionnaires_cli = AppGroup("questionnaires", help="Questionnaire definitions and versions.")


@questionnaires_cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def validate(paths: tuple[str, ...]):
    """Check definition files; print `file:line: path: message` per problem; exit 1 on any error."""
    files, _definitions, problems = services.check_paths(list(paths))  # two files with one id too, as `load` says
    errors = 0
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
        errors += problem.severity == "error"
    if errors:
        raise SystemExit(1)
    click.echo(f"{len(files)} file(s) valid", err=True)


@questionnaires_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def load(paths: tuple[str, ...]):
    """Store a new frozen version of each changed file (default: every file in questionnaires/)."""
    targets = list(paths) or [_default_dir()]
    outcomes, problems = services.load_paths(targets, channel="cli")
    for problem in problems:
        click.echo(str(problem), err=True)
    if any(p.severity == "error" for p in problems):
        db.session.rollback()
        click.echo("nothing loaded: fix the errors above", err=True)
        raise SystemExit(1)
    db.session.commit()
    for outcome in outcomes:
        click.echo(str(outcome))


@questionnaires_cli.command("list")
def list_():
    """One line per version: slug, version, date, title, source."""
    for questionnaire in services.list_questionnaires():
        for version in questionnaire.versions:
            title = version.title.get("en") or next(iter(version.title.values()), "")
            click.echo(f"{questionnaire.slug}\tv{version.number}\t{version.created_at:%Y-%m-%d %H:%M}\t{title}"
                       f"\t{version.source}")


@questionnaires_cli.command("import-xlsform")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the YAML definition here.")
@click.option("--check", is_flag=True, help="Only report what would be imported; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def import_xlsform_command(file: str, output: str | None, check: bool, force: bool):
    """Convert an XLSForm (.xlsx or .xls) into a questionnaire YAML file."""
    from app.questionnaires import yaml_io
    from app.questionnaires.xlsform import import_xlsform

    result = import_xlsform(Path(file).read_bytes(), Path(file).name)
    for message in result.skipped:
        click.echo(f"{file}: skipped: {message}", err=True)
    for message in result.notes:
        click.echo(f"{file}: note: {message}", err=True)
    for message in result.problems:
        click.echo(f"{file}: error: {message}", err=True)
    if result.definition is None or result.problems:
        raise SystemExit(1)
    questions = sum(1 for _ in result.definition.questions())
    click.echo(f"{file}: {result.definition.id}: {len(result.definition.sections)} section(s), {questions} "
               f"question(s), {len(result.skipped)} part(s) skipped")
    target = Path(output) if output else _default_dir() / f"{result.definition.id}.yaml"
    text = yaml_io.dump_definition(result.definition)
    # The YAML is read back by the loader: a file that `validate` would refuse is never announced as written.
    round_trip = yaml_io.round_trip_problems(result.definition, text, str(target))
    if check:
        for problem in round_trip:
            click.echo(problem, err=True)
        if round_trip:
            click.echo(f"{file}: error: the YAML made from this form does not load back (see above)", err=True)
            raise SystemExit(1)
        return
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: choose another file with -o, or add --force to overwrite it")
    output_file(target).write_text(text, encoding="utf-8")
    if round_trip:
        for problem in round_trip:
            click.echo(problem, err=True)
        click.echo(f"{target}: error: the file was written but does not load back as imported: correct the lines "
                   "above by hand before loading it", err=True)
        raise SystemExit(1)
    click.echo(f"written {target}")


@questionnaires_cli.command("export-xlsform")
@click.argument("slug")
@click.option("--version", "number", type=RECORD_ID, help="Version number (default: the newest).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output .xlsx file.")
def export_xlsform_command(slug: str, number: int | None, output: str | None):
    """Write a stored questionnaire version as an XLSForm workbook."""
    from app.questionnaires.xlsform import export_xlsform

    version = services.get_version(slug, number)
    if version is None:
        raise click.ClickException(f"no questionnaire {slug!r}" + (f" version {number}" if number is not None else ""))
    workbook = export_xlsform(services.definition_of(version))
    target = Path(output or f"{slug}-v{version.number}.xlsx")
    workbook.save(output_file(target, ".xlsx"))
    click.echo(f"written {target}")


def _default_dir() -> Path:
    from flask import current_app

    return Path(current_app.root_path).parent / "questionnaires"
