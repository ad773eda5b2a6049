"""`flask campaigns ...`: create, list, open, close, delete (drafts), invite (reminders: app/responses/cli.py)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.campaigns import services
from app.core.cli_options import RECORD_ID
from app.directory.models import AGENCY_TYPES, Agency
from app.extensions import db
from app.questionnaires.services import get_version

campaigns_cli = AppGroup("campaigns", help="Campaigns, invitations and reminders.")


def _campaign(campaign_id: int):
    campaign = services.get_campaign(campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id} (see `flask campaigns list`)")
    return campaign


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD", param_hint=name) from None


def _translations(pairs) -> dict[str, str]:
    out = {}
    locales = current_app.config["LOCALES"]
    for pair in pairs:
        lang, sep, text = pair.partition("=")
        if not sep or not lang.strip().isalpha():
            raise click.BadParameter(f"{pair!r} is not LANGUAGE=NAME, e.g. ru=\"Оценка потребностей 2027\"",
                                     param_hint="--name-in")
        lang = lang.strip().lower()
        if lang not in locales:
            raise click.BadParameter(f"{lang!r} is not one of the interface languages ({', '.join(locales)}; "
                                     "see LOCALES)", param_hint="--name-in")
        out[lang] = text
    return out


@campaigns_cli.command("create")
@click.argument("name")
@click.option("--name-in", "names", multiple=True, help="The name in another language as LANGUAGE=NAME (repeat), "
              "e.g. --name-in ru=\"Оценка потребностей 2027\"; NAME serves every language without its own.")
@click.option("--questionnaire", "slug", required=True, help="Questionnaire id (see `flask questionnaires list`).")
@click.option("--version", "number", type=RECORD_ID, help="Version number (default: the newest).")
@click.option("--country", "countries", multiple=True, help="Ask the active agencies of this country (repeat; "
              "'-' for regional bodies).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(AGENCY_TYPES), help="Only agencies of this type "
              "(repeat).")
@click.option("--agency", "agencies", multiple=True, help="One agency as COUNTRY/ACRONYM (repeat; '-/ACRONYM' for "
              "a regional body).")
@click.option("--opens", help="Opening date, YYYY-MM-DD.")
@click.option("--deadline", help="Deadline, YYYY-MM-DD.")
@click.option("--follow-up-of", "follow_up_of", type=RECORD_ID, help="Id of the campaign this one follows up.")
@click.option("--open", "open_now", is_flag=True, help="Open the campaign at once.")
def create(name, names, slug, number, countries, kinds, agencies, opens, deadline, follow_up_of, open_now):
    """Create a campaign (a draft unless --open) and print its id."""
    translations = _translations(names)
    version = get_version(slug, number)
    if version is None:
        raise click.ClickException(f"no questionnaire {slug!r}" + (f" version {number}" if number is not None else ""))
    chosen = _select_agencies(countries, kinds, agencies)
    follow = _campaign(follow_up_of) if follow_up_of else None
    try:
        campaign = services.create_campaign(name, version, name_translations=translations, agencies=chosen,
                                            opens_on=_date(opens, "--opens"),
                                            deadline=_date(deadline, "--deadline"), follow_up_of=follow,
                                            channel="cli")
        if open_now:
            services.set_status(campaign, "open", channel="cli")
    except services.CampaignError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{campaign.id}\tcampaign {campaign.name!r} created ({campaign.status}), {version.label}, "
               f"{len(campaign.agencies)} agencies")


def _select_agencies(countries, kinds, pairs) -> list[Agency]:
    active = list(db.session.scalars(select(Agency).where(Agency.is_active.is_(True))))
    chosen: dict[int, Agency] = {}
    if countries or kinds:
        codes = {c.strip().upper() for c in countries}
        unknown = codes - {agency.country_code or "-" for agency in active}
        if unknown:  # a mistyped code made a campaign of no agency without a word
            raise click.BadParameter(f"no active agency of {', '.join(map(repr, sorted(unknown)))} (see the "
                                     "Directory page; '-' for regional bodies)", param_hint="--country")
        for agency in active:
            if (not codes or (agency.country_code or "-") in codes) and (not kinds or agency.kind in kinds):
                chosen[agency.id] = agency
        if not chosen:
            raise click.BadParameter(f"no active agency of type {', '.join(sorted(kinds))} in "
                                     f"{', '.join(sorted(codes)) or 'any country'}", param_hint="--kind")
    for pair in pairs:
        code, _sep, acronym = pair.partition("/")
        # acronyms match in any case, as the directory import matches them
        match = [a for a in active if (a.country_code or "-") == code.strip().upper()
                 and a.acronym.casefold() == acronym.strip().casefold()]
        if not match:
            raise click.BadParameter(f"no active agency {pair!r}", param_hint="--agency")
        chosen[match[0].id] = match[0]
    return list(chosen.values())


@campaigns_cli.command("list")
def list_():
    """One campaign per line: id, status, questionnaire version, opening date, deadline, agencies, name."""
    for campaign in services.list_campaigns():
        click.echo("\t".join([str(campaign.id), campaign.status, campaign.version.label,
                              campaign.opens_on.isoformat() if campaign.opens_on else "-",
                              campaign.deadline.isoformat() if campaign.deadline else "-",
                              f"{len(campaign.agencies)} agencies", campaign.name]))


@campaigns_cli.command("open")
@click.argument("campaign_id", type=RECORD_ID)
def open_(campaign_id: int):
    """Open a campaign (respondents may answer; invitations can be sent)."""
    _set_status(campaign_id, "open")


@campaigns_cli.command("close")
@click.argument("campaign_id", type=RECORD_ID)
def close(campaign_id: int):
    """Close a campaign (its responses become read-only for respondents)."""
    _set_status(campaign_id, "closed")


@campaigns_cli.command("delete")
@click.argument("campaign_id", type=RECORD_ID)
def delete(campaign_id: int):
    """Delete a draft campaign (an opened one is kept: close it instead)."""
    campaign = _campaign(campaign_id)
    try:
        name = services.delete_draft(campaign, channel="cli")
    except services.CampaignError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{campaign_id}\tdeleted\t{name}")


def _set_status(campaign_id: int, status: str) -> None:
    campaign = _campaign(campaign_id)
    try:
        services.set_status(campaign, status, channel="cli")
    except services.CampaignError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{campaign.id}\t{campaign.status}")


@campaigns_cli.command("invite")
@click.argument("campaign_id", type=RECORD_ID)
@click.option("--country", "countries", multiple=True, help="Only agencies of this country (repeat).")
@click.option("--print-links", is_flag=True, help="Print the new links (to hand them over another way).")
@click.option("--reissue", is_flag=True, help="Also make a new link for contacts who already have a valid one "
              "(their earlier link stays valid).")
@click.option("--no-email", is_flag=True, help="Issue links without queuing e-mails (use with --print-links).")
def invite(campaign_id: int, countries, print_links: bool, reissue: bool, no_email: bool):
    """Issue magic links and queue one invitation e-mail per contact (send them with `flask outbox send`)."""
    campaign = _campaign(campaign_id)
    try:
        issued = services.invite(campaign, country_codes=countries or None, reissue=reissue,
                                 send_email=not no_email, channel="cli")
    except services.CampaignError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    made = [i for i in issued if i.token]
    for item in issued:
        where = f"{item.agency.country_code or '-'}/{item.agency.acronym}\t{item.contact.email}"
        if item.token:
            click.echo(f"{where}\t{'queued' if not no_email else 'issued'}" + (f"\t{item.link}" if print_links else ""))
        else:
            click.echo(f"{where}\tskipped: {item.skipped}")
    click.echo(f"{len(made)} invitation(s) {'queued' if not no_email else 'issued'}, "
               f"{sum(1 for i in issued if i.skipped)} skipped", err=True)
