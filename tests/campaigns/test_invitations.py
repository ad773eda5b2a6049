"""Magic-link invitations: issuing, opening, scope, revocation, expiry, tampering and rate limiting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import extract_csrf, sign_in


@pytest.fixture
def open_campaign(db_session, make_version, make_agency, make_contact):
    """An open campaign over two agencies of Kazakhstan; two contacts at MVD (ru, en), one at AFM."""
    from app.campaigns import services

    mvd = make_agency("KZ", "MVD", "interior", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    afm = make_agency("KZ", "AFM", "fiu", en="Financial Monitoring Agency", ru="Агентство по финансовому мониторингу")
    make_contact(mvd, email="ерлан@example.org", name="Ерлан Нурланов", locale="ru", is_focal_point=True)
    make_contact(mvd, email="a.smith+ct@example.org", name="Anna Smith", locale="en")
    make_contact(afm, email="afm@example.org", name="Айгуль Сапарова", locale="ru")
    campaign = services.create_campaign("Round 1", make_version(), agencies=[mvd, afm])
    services.set_status(campaign, "open")
    db_session.commit()
    return campaign


def _links(output: str) -> dict[str, str]:
    """{e-mail: link} from `flask campaigns invite --print-links` output."""
    out = {}
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[3].startswith("http"):
            out[parts[1]] = parts[3]
    return out


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_invite_queues_one_email_per_contact_in_their_language(app_ctx, db_session, open_campaign):
    from app.campaigns.models import Invitation
    from app.mail.models import OutboxMessage

    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["campaigns", "invite", str(open_campaign.id), "--print-links"])
    assert result.exit_code == 0, result.output
    links = _links(result.output)
    assert set(links) == {"ерлан@example.org", "a.smith+ct@example.org", "afm@example.org"}
    messages = {m.recipient: m for m in db_session.scalars(select(OutboxMessage))}
    assert set(messages) == set(links) and all(m.status == "queued" for m in messages.values())
    russian, english = messages["ерлан@example.org"], messages["a.smith+ct@example.org"]
    assert russian.locale == "ru" and "Министерство внутренних дел" in russian.subject
    assert "Здравствуйте, Ерлан Нурланов!" in russian.body_text and "Просим заполнить: " in russian.subject
    assert links["ерлан@example.org"] in russian.body_text and links["ерлан@example.org"] in russian.body_html
    assert english.locale == "en" and english.subject.startswith("Questionnaire for Ministry of Internal Affairs")
    assert "Please send your answers by" not in english.body_text  # the campaign has no deadline
    # the token is only in the link: the database keeps its hash
    token = links["afm@example.org"].rsplit("/", 1)[1]
    stored = [i.token_hash for i in db_session.scalars(select(Invitation))]
    assert token not in stored and len(token) >= 40
    # a second run invites nobody again
    again = runner.invoke(args=["campaigns", "invite", str(open_campaign.id)])
    assert again.exit_code == 0 and again.output.count("skipped: already invited") == 3
    assert db_session.scalar(select(__import__("sqlalchemy").func.count()).select_from(OutboxMessage)) == 3


def test_invite_refuses_a_draft_campaign_and_unknown_country(app_ctx, db_session, open_campaign):
    from app.campaigns import services

    runner = app_ctx.test_cli_runner()
    assert "unknown country code(s): XX" in runner.invoke(args=["campaigns", "invite", str(open_campaign.id),
                                                                "--country", "XX"]).output
    draft = services.create_campaign("Draft", open_campaign.version, agencies=open_campaign.agencies)
    db_session.commit()
    result = runner.invoke(args=["campaigns", "invite", str(draft.id)])
    assert result.exit_code != 0 and "only be sent for an open campaign" in result.output


def _issue(db_session, campaign, email):
    from app.campaigns import services

    issued = [i for i in services.invite(campaign, send_email=False, reissue=True) if i.contact.email == email]
    db_session.commit()
    return issued[0]


def test_link_signs_the_contact_in_scoped_to_one_agency_and_campaign(client, db_session, open_campaign):
    from app.campaigns.models import Invitation
    from app.core.models import AuditEvent
    from app.responses.services import ensure_response

    issued = _issue(db_session, open_campaign, "ерлан@example.org")
    own = ensure_response(open_campaign, issued.agency)
    other_agency = next(a for a in open_campaign.agencies if a.acronym == "AFM")
    other = ensure_response(open_campaign, other_agency)
    db_session.commit()
    response = client.get(_path(issued.link))
    assert response.status_code == 302 and response.headers["Location"].endswith("/respondent")
    home = client.get("/respondent").get_data(as_text=True)
    assert "Министерство внутренних дел" in home and "Round 1" in home  # the contact's language: Russian
    assert client.get(f"/responses/{own.id}").status_code == 200
    assert client.get(f"/responses/{other.id}").status_code == 404  # another agency: as if it did not exist
    assert client.get(f"/responses/{other.id + 1000}").status_code == 404
    for path in ("/campaigns/", f"/campaigns/{open_campaign.id}/progress", "/directory/agencies", "/staff"):
        assert client.get(path).status_code == 403, path
    db_session.expire_all()
    invitation = db_session.get(Invitation, issued.invitation.id)
    assert invitation.open_count == 1 and invitation.first_opened_at is not None
    assert invitation.contact.user_id is not None
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.opened")) is not None


@pytest.mark.parametrize("case", ["revoked", "expired", "tampered"])
def test_dead_links_never_sign_anyone_in(client, db_session, open_campaign, case):
    from app.campaigns import services
    from app.core.models import utcnow

    issued = _issue(db_session, open_campaign, "ерлан@example.org")
    path = _path(issued.link)
    if case == "revoked":
        services.revoke(issued.invitation)
    elif case == "expired":
        issued.invitation.expires_at = utcnow() - timedelta(minutes=1)
    else:
        token = path.rsplit("/", 1)[1]
        path = path[: -len(token)] + ("A" if token[0] != "A" else "B") + token[1:]
    db_session.commit()
    response = client.get(path, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == (404 if case == "tampered" else 410)
    if case == "revoked":
        assert "Ваша персональная ссылка отозвана" in html  # the contact's language, not the browser's
    elif case == "expired":
        assert "Срок действия вашей персональной ссылки истёк" in html
    else:
        assert "The link is not valid" in html
    assert client.get("/respondent").status_code == 302  # still anonymous


def test_revoking_a_link_ends_a_session_opened_with_it(client, db_session, open_campaign):
    from app.campaigns import services

    issued = _issue(db_session, open_campaign, "afm@example.org")
    client.get(_path(issued.link))
    assert client.get("/respondent").status_code == 200
    services.revoke(issued.invitation)
    db_session.commit()
    response = client.get("/respondent")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.get("/respondent").status_code == 302


def test_a_second_invitation_keeps_the_first_link_valid(client, db_session, open_campaign):
    first = _issue(db_session, open_campaign, "afm@example.org")
    second = _issue(db_session, open_campaign, "afm@example.org")
    assert first.link != second.link
    assert client.get(_path(first.link)).status_code == 302
    assert client.get(_path(second.link)).status_code == 302


def test_link_guessing_is_rate_limited(client, app_ctx):
    app_ctx.config["INVITATION_FAILURE_LIMIT"] = "5 per 15 minutes"
    try:
        codes = [client.get("/i/" + "x" * 43).status_code for _ in range(6)]
    finally:
        app_ctx.config["INVITATION_FAILURE_LIMIT"] = "20 per 15 minutes"
    assert codes[:5] == [404] * 5 and codes[5] == 429


def test_a_contact_whose_email_is_a_staff_account_is_not_signed_in_as_respondent(client, db_session, make_user,
                                                                                 open_campaign):
    # (an account made before accounts and contacts were kept from sharing an address: the form now refuses it)
    from app.auth.models import User

    db_session.add(User(email="afm@example.org", role="staff", is_active=True))
    db_session.commit()
    issued = _issue(db_session, open_campaign, "afm@example.org")
    response = client.get(_path(issued.link), headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert '<html lang="ru">' in response.get_data(as_text=True)  # the contact's language, not the browser's
    assert client.get("/staff").status_code == 302


def test_staff_resend_and_revoke_from_the_campaign_page(client, db_session, make_user, open_campaign):
    from app.campaigns.models import Invitation
    from app.core.models import AuditEvent

    issued = _issue(db_session, open_campaign, "afm@example.org")
    sign_in(client, make_user("staff").email)
    page = client.get(f"/campaigns/{open_campaign.id}", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert "afm@example.org" in html and "link handed over" in html
    token = extract_csrf(html)
    base = f"/campaigns/{open_campaign.id}/invitations/{issued.invitation.id}"
    assert client.post(base + "/resend", data={"csrf_token": token}).status_code == 302
    assert client.post(base + "/revoke", data={"csrf_token": token}).status_code == 302
    db_session.expire_all()
    invitations = list(db_session.scalars(select(Invitation).where(Invitation.contact_id == issued.contact.id)
                                          .order_by(Invitation.id)))
    # "Revoke" cuts the person's access: the link just resent is revoked with the first one.
    assert len(invitations) == 2 and all(i.revoked_at is not None for i in invitations)
    assert invitations[1].message is not None and invitations[1].message.recipient == "afm@example.org"
    actions = [e.action for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("invitation.sent") == 1 and "invitation.revoked" in actions
    assert client.post(f"/campaigns/{open_campaign.id}/invitations/99999/revoke",
                       data={"csrf_token": token}).status_code == 404


def test_an_agency_taken_out_of_the_campaign_gets_no_new_link_and_no_reminder(client, db_session, make_user,
                                                                              open_campaign):
    """AFM is invited, then taken out of the campaign (its links stop working). The campaign page no longer
    offers "Send a new link" for it, a new link posted anyway is refused (before, an e-mail went out with a link
    that answered 410, and reminders followed it), and reminding every agency reaches MVD's contacts only."""
    from datetime import timedelta

    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage
    from app.responses.services import remind

    services.invite(open_campaign)
    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    mvd = next(a for a in open_campaign.agencies if a.acronym == "MVD")
    services.update_campaign(open_campaign, name=open_campaign.name, version=open_campaign.version, agencies=[mvd],
                             opens_on=None, deadline=None)
    db_session.commit()
    afm_invitation = db_session.scalar(select(Invitation).join(Invitation.contact).where(
        Invitation.contact.has(email="afm@example.org")))
    sign_in(client, make_user("staff").email)
    html = client.get(f"/campaigns/{open_campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/invitations/{afm_invitation.id}/resend" not in html
    refused = client.post(f"/campaigns/{open_campaign.id}/invitations/{afm_invitation.id}/resend",
                          data={"csrf_token": extract_csrf(html)}, headers={"Accept-Language": "en"},
                          follow_redirects=True)
    assert "AFM is no longer asked in this campaign" in refused.get_data(as_text=True)
    # For an agency still asked it works, and says the e-mail is queued (not "sent": the server may be down).
    mvd_invitation = db_session.scalar(select(Invitation).where(Invitation.agency_id == mvd.id))
    resent = client.post(f"/campaigns/{open_campaign.id}/invitations/{mvd_invitation.id}/resend",
                         data={"csrf_token": extract_csrf(html)}, headers={"Accept-Language": "en"},
                         follow_redirects=True).get_data(as_text=True)
    assert f"A new link for {mvd_invitation.contact.email} is queued for sending (see the outbox)." in resent
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Invitation).where(
        Invitation.contact_id == afm_invitation.contact_id)) == 1
    # A link of the agency that is still valid (one resent before this check existed) gets no reminder either.
    afm_invitation = db_session.merge(afm_invitation)
    services._issue(afm_invitation.campaign, afm_invitation.agency, afm_invitation.contact, actor=None,
                    send_email=False, channel="cli").invitation.created_at = utcnow() - timedelta(days=30)
    db_session.commit()
    outcomes = remind(db_session.merge(open_campaign), min_days=7)
    assert sorted(o.invitation.contact.email for o in outcomes if o.action == "reminded") == sorted(
        c.email for c in mvd.contacts if c.email != mvd_invitation.contact.email)  # the resent one: too soon
    db_session.commit()
    assert "afm@example.org" not in {m.recipient for m in db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "reminder"))}


def test_links_stay_valid_until_the_deadline_and_a_later_deadline_extends_them(app, db_session, open_campaign,
                                                                              monkeypatch):
    """INVITATION_VALID_DAYS (60) after sending, but never before the end of the deadline: a link sent a year
    before the deadline used to expire after two months. Moving the deadline later extends the links already
    sent; moving it earlier never shortens them."""
    from datetime import UTC, datetime, timedelta

    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow

    deadline = (utcnow() + timedelta(days=365)).date()
    services.update_campaign(open_campaign, name=open_campaign.name, version=open_campaign.version,
                             agencies=open_campaign.agencies, opens_on=None, deadline=deadline)
    services.invite(open_campaign, send_email=True)
    db_session.commit()

    def expiries() -> set:
        db_session.expire_all()
        return {i.expires_at.replace(tzinfo=UTC) if i.expires_at.tzinfo is None else i.expires_at
                for i in db_session.scalars(select(Invitation))}

    assert expiries() == {datetime.combine(deadline, datetime.min.time(), tzinfo=UTC).replace(hour=23, minute=59,
                                                                                              second=59)}
    later = deadline + timedelta(days=30)
    services.update_campaign(open_campaign, name=open_campaign.name, version=open_campaign.version,
                             agencies=open_campaign.agencies, opens_on=None, deadline=later)
    db_session.commit()
    assert {e.date() for e in expiries()} == {later}
    services.update_campaign(open_campaign, name=open_campaign.name, version=open_campaign.version,
                             agencies=open_campaign.agencies, opens_on=None, deadline=deadline)
    db_session.commit()
    assert {e.date() for e in expiries()} == {later}
    # The e-mail says so: valid until the deadline, not two months from now.
    from app.mail.models import OutboxMessage

    body = db_session.scalars(select(OutboxMessage).where(OutboxMessage.locale == "en")).first().body_text
    assert f"stays valid until {deadline.strftime('%B')} {deadline.day}, {deadline.year}" in body
    # Without a deadline: INVITATION_VALID_DAYS after sending.
    short = services.create_campaign("Quick", open_campaign.version, agencies=list(open_campaign.agencies))
    services.set_status(short, "open")
    issued = services.invite(short, send_email=False)[0]
    assert abs(issued.invitation.expires_at.replace(tzinfo=UTC) - (utcnow() + timedelta(days=60))) < timedelta(
        minutes=1)
    # A link that has already expired stays expired when the deadline moves later (no dead link comes back),
    # and the links extended are counted in the audit log.
    from app.core.models import AuditEvent

    expired = issued.invitation
    expired.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()
    services.update_campaign(short, name=short.name, version=short.version, agencies=short.agencies, opens_on=None,
                             deadline=later)
    db_session.commit()
    db_session.expire_all()
    assert not services.is_valid(db_session.get(Invitation, expired.id))
    extended = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "invitations.extended",
                                                           AuditEvent.object_id == str(short.id))).one()
    assert extended.new_value == {"links": 2, "deadline": later.isoformat()}
    # East of UTC, the e-mails give dates in TIMEZONE: the link is valid until the end of the deadline there,
    # and the e-mail says the deadline's date, not the day after.
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Asia/Almaty")
    east = services.create_campaign("East", open_campaign.version, agencies=list(open_campaign.agencies),
                                    deadline=deadline)
    services.set_status(east, "open")
    services.invite(east)
    db_session.commit()
    mail = db_session.scalars(select(OutboxMessage).where(OutboxMessage.locale == "en")
                              .order_by(OutboxMessage.id.desc())).first()
    assert f"stays valid until {deadline.strftime('%B')} {deadline.day}, {deadline.year}" in mail.body_text


def test_invitations_and_reminders_name_their_campaign_in_the_contacts_language(db_session, open_campaign):
    """Two campaigns on one questionnaire used to send the same subject and text: each e-mail now names its
    campaign, in the contact's language."""
    from datetime import timedelta

    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage
    from app.responses.services import remind

    services.update_campaign(open_campaign, name="Round 1", name_translations={"ru": "Первый раунд"},
                             version=open_campaign.version, agencies=open_campaign.agencies, opens_on=None,
                             deadline=None)
    services.invite(open_campaign)
    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    remind(open_campaign, min_days=7)
    db_session.commit()
    messages = list(db_session.scalars(select(OutboxMessage)))
    assert {m.kind for m in messages} == {"invitation", "reminder"}
    for message in messages:
        expected = "Опрос: Первый раунд" if message.locale == "ru" else "Campaign: Round 1"
        assert expected in message.body_text and expected in message.body_html, (message.kind, message.locale)
        # on a line of its own in the text part (the reminder ran it into the sentence before: "...received.Campaign")
        assert re.search(rf"^{expected}$", message.body_text, re.M), (message.kind, message.locale)


def test_the_campaign_page_and_the_overview_show_one_row_per_contact_and_agree(client, db_session, make_user,
                                                                              open_campaign):
    """Each reminder sends a new link. The campaign page listed every link (56 "invitations" for 14
    contacts, the first link's count of reminders, "opened" from an old link) while the progress overview gave
    the latest link ("sent", 3 reminders). Both now show one row per contact: the reminders so far, and
    "opened" when any of their links was opened, while the latest link works."""
    from datetime import timedelta

    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.responses.services import remind

    services.invite(open_campaign)
    first = db_session.scalar(select(Invitation).join(Invitation.contact).where(
        Invitation.contact.has(email="afm@example.org")))
    first.first_opened_at = utcnow()  # the contact opened their first link
    for _round in range(3):
        for invitation in db_session.scalars(select(Invitation)):
            invitation.created_at -= timedelta(days=10)
            if invitation.last_reminded_at:
                invitation.last_reminded_at -= timedelta(days=10)
        remind(open_campaign, min_days=7)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 12  # 3 contacts x (1 + 3 reminders)
    sign_in(client, make_user("staff").email)
    page = client.get(f"/campaigns/{open_campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<dt>Contacts invited</dt><dd>3</dd>" in page
    rows = re.findall(r"<tr>\s*<td>KZ · (\w+)</td>.*?</tr>", page, re.S)
    assert sorted(rows) == ["AFM", "MVD", "MVD"]
    afm_row = re.search(r"<tr>\s*<td>KZ · AFM</td>.*?</tr>", page, re.S).group(0)
    assert ">opened<" in afm_row and '<td class="num">3</td>' in afm_row
    overview = client.get(f"/campaigns/{open_campaign.id}/progress",
                          headers={"Accept-Language": "en"}).get_data(as_text=True)
    afm_overview = re.search(r'<tr data-agency="AFM">.*?</tr>', overview, re.S).group(0)
    assert ">opened<" in afm_overview and "3 reminders" in afm_overview
    # A link resent by hand starts its own count at 0: the row still counts the contact's 3 reminders, and the
    # next reminder is the 4th.
    afm_latest = db_session.scalars(select(Invitation).where(Invitation.contact.has(email="afm@example.org"))
                                    .order_by(Invitation.id.desc())).first()
    services.reissue(afm_latest)
    db_session.commit()

    def afm_row() -> str:
        page = client.get(f"/campaigns/{open_campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        return re.search(r"<tr>\s*<td>KZ · AFM</td>.*?</tr>", page, re.S).group(0)

    assert '<td class="num">3</td>' in afm_row()
    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at -= timedelta(days=10)
        if invitation.last_reminded_at:
            invitation.last_reminded_at -= timedelta(days=10)
    remind(db_session.merge(open_campaign), min_days=7)
    db_session.commit()
    assert '<td class="num">4</td>' in afm_row()
    # Revoked, then sent a new link: an old link opened before the revocation does not make the row "opened".
    services.revoke_contact_links(afm_latest)
    services.reissue(db_session.merge(afm_latest))
    db_session.commit()
    assert ">opened<" not in afm_row() and ">queued<" in afm_row()


def test_a_deactivated_contact_or_agency_shows_as_such_and_offers_no_new_link(client, db_session, make_user,
                                                                             open_campaign):
    """A link of a contact or agency deactivated in the directory opens nothing (410), yet the campaign page and
    the progress overview showed it "opened" and offered "Send a new link" and "Remind", which then failed
    without saying why. Both now say "contact or agency deactivated" and offer neither; reactivated, both come
    back."""
    from app.directory.models import Agency, Contact

    issued = _issue(db_session, open_campaign, "afm@example.org")
    assert client.application.test_client().get(_path(issued.link)).status_code == 302  # opened
    sign_in(client, make_user("staff").email)

    def rows() -> tuple[str, str]:
        page = client.get(f"/campaigns/{open_campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        overview = client.get(f"/campaigns/{open_campaign.id}/progress",
                              headers={"Accept-Language": "en"}).get_data(as_text=True)
        return (re.search(r"<tr>\s*<td>KZ · AFM</td>.*?</tr>", page, re.S).group(0),
                re.search(r'<tr data-agency="AFM">.*?</tr>', overview, re.S).group(0))

    resend = f"/invitations/{issued.invitation.id}/resend"
    assert all(">opened<" in row and resend in row for row in rows())
    assert ">Remind<" in rows()[1]
    agency_id, contact_id = issued.agency.id, issued.contact.id
    for thing in (db_session.get(Agency, agency_id), db_session.get(Contact, contact_id)):
        thing.is_active = False
        db_session.commit()
        assert client.application.test_client().get(_path(issued.link)).status_code == 410
        for row in rows():
            assert ">contact or agency deactivated<" in row and ">opened<" not in row and resend not in row
        if isinstance(thing, Agency):  # a deactivated agency is not reminded at all
            assert ">Remind<" not in rows()[1]
        thing.is_active = True
        db_session.commit()
    assert all(">opened<" in row and resend in row for row in rows())


def test_campaign_page_lists_invitations_a_page_at_a_time(client, db_session, make_user, open_campaign,
                                                          monkeypatch):
    """Two invitations a page: three invitations make two pages; the count covers all of them, and an action
    taken on page 2 comes back to page 2."""
    from app.campaigns import services, views

    monkeypatch.setattr(views, "INVITATIONS_PER_PAGE", 2)
    services.invite(open_campaign)
    db_session.commit()
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{open_campaign.id}"
    first = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    second = client.get(url + "?page=2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    emails = ["ерлан@example.org", "a.smith+ct@example.org", "afm@example.org"]
    shown = [[e for e in emails if e in html] for html in (first, second)]
    assert sorted(shown[0] + shown[1]) == sorted(emails) and len(shown[0]) == 2 and len(shown[1]) == 1
    for html in (first, second):
        assert "<dt>Contacts invited</dt><dd>3</dd>" in html
    assert "Page 1 of 2 · Contacts 1–2 of 3" in first and "Contacts 3–3 of 3" in second
    assert f'href="{url}?page=2#invitations" rel="next"' in first
    assert f'href="{url}?page=1#invitations" rel="prev"' in second
    # revoking from page 2 comes back to page 2
    action = re.search(r'action="(/campaigns/\d+/invitations/\d+/revoke)"', second).group(1)
    back = client.post(action, data={"csrf_token": extract_csrf(second), "next": f"{url}?page=2"})
    assert back.status_code == 302 and back.headers["Location"].endswith(f"{url}?page=2")
    assert re.search(r'name="next" value="/campaigns/\d+\?page=2"', second)
    # a page past the end shows the last page
    assert "Contacts 3–3 of 3" in client.get(url + "?page=9", headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_invite_button_queues_invitations_for_one_country(client, db_session, make_user, make_agency, make_contact,
                                                          open_campaign):
    from app.mail.models import OutboxMessage

    kg = make_agency("KG", "MVD", "interior", en="MVD KG")
    make_contact(kg, email="kg@example.org")
    open_campaign.agencies.append(kg)
    db_session.commit()
    sign_in(client, make_user("staff").email)
    token = extract_csrf(client.get(f"/campaigns/{open_campaign.id}").get_data(as_text=True))
    response = client.post(f"/campaigns/{open_campaign.id}/invite", data={"csrf_token": token, "country": "KG"},
                           follow_redirects=True, headers={"Accept-Language": "en"})
    assert "1 invitation(s) queued" in response.get_data(as_text=True)
    assert [m.recipient for m in db_session.scalars(select(OutboxMessage))] == ["kg@example.org"]
    assert re.search(r"/i/[A-Za-z0-9_-]{40,}", db_session.scalar(select(OutboxMessage)).body_text)


def test_a_contact_moved_to_another_agency_loses_the_old_agency_and_is_invited_for_the_new(
        client, db_session, open_campaign, make_user):
    """Staff move a contact from MVD to AFM (the directory's edit form): their open session and old link stop
    giving MVD's answers, the campaign page says so and offers no new MVD link, reminders are not sent for
    MVD any more, and inviting again gives them a link for AFM."""
    from app.campaigns import services
    from app.directory.models import Contact
    from app.responses.services import ensure_response, remind

    issued = _issue(db_session, open_campaign, "a.smith+ct@example.org")
    mvd_response = ensure_response(open_campaign, issued.agency)
    afm = next(a for a in open_campaign.agencies if a.acronym == "AFM")
    contact_id, afm_id = issued.contact.id, afm.id
    db_session.commit()
    respondent = client.application.test_client()
    assert respondent.get(_path(issued.link)).status_code == 302
    assert respondent.get(f"/responses/{mvd_response.id}").status_code == 200

    make_user("staff", email="staff@example.org")
    sign_in(client, "staff@example.org")
    form = client.get(f"/directory/contacts/{contact_id}").get_data(as_text=True)
    moved = client.post(f"/directory/contacts/{contact_id}", data={
        "csrf_token": extract_csrf(form), "agency": afm_id, "name": "Anna Smith", "email": "a.smith+ct@example.org",
        "locale": "en", "position": "", "phone": ""})
    assert moved.status_code == 302
    db_session.expire_all()
    assert db_session.get(Contact, contact_id).agency_id == afm_id

    assert respondent.get(f"/responses/{mvd_response.id}").status_code in (302, 404)
    assert respondent.get("/respondent").status_code == 302  # signed out: the session's link opens nothing now
    fresh = client.application.test_client()
    opened = fresh.get(_path(issued.link), headers={"Accept-Language": "en"})
    assert opened.status_code == 410
    assert "an agency you no longer represent" in opened.get_data(as_text=True)

    page = client.get(f"/campaigns/{open_campaign.id}").get_data(as_text=True)
    assert "contact moved to another agency" in page
    assert f"/invitations/{issued.invitation.id}/resend" not in page
    with pytest.raises(services.CampaignError):
        services.reissue(issued.invitation)
    # no reminder for MVD; for AFM, staff are told the contact has no link there yet
    assert [(o.agency.acronym, o.action) for o in remind(open_campaign, min_days=0)
            if o.contact.id == contact_id] == [("AFM", "not invited")]

    again = [i for i in services.invite(open_campaign, send_email=False) if i.contact.id == contact_id]
    assert [(i.agency.acronym, i.skipped) for i in again] == [("AFM", None)]
    db_session.commit()
    assert fresh.get(_path(again[0].link)).status_code == 302
    home = fresh.get("/respondent").get_data(as_text=True)
    assert "Financial Monitoring Agency" in home and "Ministry of Internal Affairs" not in home


def test_a_link_opened_while_signed_in_as_someone_else_asks_first(client, db_session, open_campaign, make_user):
    """Staff (or anyone signed in as another person) opening a personal link are asked before their session is
    replaced; confirming with the page's form signs the contact in."""
    issued = _issue(db_session, open_campaign, "afm@example.org")
    make_user("staff", email="staff@example.org")
    sign_in(client, "staff@example.org")
    page = client.get(_path(issued.link), headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Answer for an agency?" in html and "Continue with this link" in html
    assert client.get("/staff").status_code == 200  # still staff
    db_session.expire_all()
    assert issued.invitation.open_count in (0, None)  # nothing recorded yet
    confirmed = client.post(_path(issued.link), data={"csrf_token": extract_csrf(html)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/respondent")
    assert client.get("/respondent").status_code == 200 and client.get("/staff").status_code in (302, 403)


def test_a_deactivated_respondent_account_is_not_reactivated_by_a_link(client, db_session, open_campaign):
    from app.auth.models import User

    issued = _issue(db_session, open_campaign, "afm@example.org")
    assert client.get(_path(issued.link)).status_code == 302
    user = db_session.scalar(select(User).where(User.email == "afm@example.org"))
    user.is_active = False
    db_session.commit()
    again = client.application.test_client().get(_path(issued.link), headers={"Accept-Language": "en"})
    # in the contact's language (ru), as for a revoked or expired link, whatever the browser asks for
    assert again.status_code == 410 and "эта анкета вам недоступна" in again.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, user.id).is_active is False


def test_revoking_cuts_every_link_of_the_contact_and_a_new_address_too(client, db_session, open_campaign,
                                                                        make_user):
    """Each reminder sent a new link: "Revoke" revokes them all. Replacing a contact's e-mail address (a successor
    in the post) revokes the former person's links and unlinks their account."""
    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.directory.models import Contact
    from app.directory.services import update_contact

    first = _issue(db_session, open_campaign, "afm@example.org")
    second = _issue(db_session, open_campaign, "afm@example.org")
    person = client.application.test_client()
    assert person.get(_path(first.link)).status_code == 302
    make_user("staff", email="staff@example.org")
    sign_in(client, "staff@example.org")
    token = extract_csrf(client.get(f"/campaigns/{open_campaign.id}").get_data(as_text=True))
    client.post(f"/campaigns/{open_campaign.id}/invitations/{second.invitation.id}/revoke",
                data={"csrf_token": token})
    assert person.get("/respondent").status_code == 302
    assert client.application.test_client().get(_path(first.link)).status_code == 410

    third = _issue(db_session, open_campaign, "afm@example.org")
    assert person.get(_path(third.link)).status_code == 302
    contact = db_session.get(Contact, third.contact.id)
    update_contact(contact, name="Successor", email="successor@example.org", position="", phone="", locale="ru",
                   is_focal_point=False)
    db_session.commit()
    assert person.get("/respondent").status_code == 302
    assert db_session.get(Invitation, third.invitation.id).revoked_at is not None
    assert db_session.get(Contact, contact.id).user_id is None
    fourth = [i for i in services.invite(open_campaign, send_email=False) if i.contact.id == contact.id]
    db_session.commit()
    successor = client.application.test_client()
    assert successor.get(_path(fourth[0].link)).status_code == 302
    from app.auth.models import User

    db_session.expire_all()
    account = db_session.get(User, db_session.get(Contact, contact.id).user_id)
    assert account.email == "successor@example.org"


def test_the_outbox_shows_personal_links_without_their_token(client, db_session, open_campaign, make_user):
    """Staff reading an invitation in the outbox see where the link goes, not the token that would sign them in
    as the contact."""
    from app.mail.models import OutboxMessage

    issued = [i for i in __import__("app.campaigns.services", fromlist=["invite"]).invite(open_campaign)
              if i.contact.email == "afm@example.org"][0]
    db_session.commit()
    token = issued.link.rsplit("/", 1)[1]
    message = db_session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "afm@example.org"))
    assert token in message.body_text  # the e-mail itself carries the link
    sign_in(client, make_user("staff").email)
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert page.count("/i/…") >= 2 and token not in page


def test_reminding_names_the_contacts_without_a_valid_link_instead_of_skipping_them_silently(
        client, db_session, make_user, make_contact, open_campaign):
    """AFM's link expired (a deadline long passed), Anna's was revoked, and a contact added to MVD since was never
    invited: none can be reminded (a reminder would carry no working link), and staff are told who, and to
    invite them (before: "0 reminder(s) queued", not a word of them). The CLI lists them too."""
    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage

    services.invite(open_campaign)
    db_session.flush()
    by_email = {i.contact.email: i for i in db_session.scalars(select(Invitation))}
    by_email["afm@example.org"].expires_at = utcnow() - timedelta(days=1)
    by_email["a.smith+ct@example.org"].revoked_at = utcnow()
    mvd = next(a for a in open_campaign.agencies if a.acronym == "MVD")
    make_contact(mvd, email="new@example.org", name="New Colleague", locale="en")
    db_session.commit()
    sign_in(client, make_user("staff").email)
    headers = {"Accept-Language": "en"}
    token = extract_csrf(client.get(f"/campaigns/{open_campaign.id}/progress", headers=headers)
                         .get_data(as_text=True))
    page = client.post(f"/campaigns/{open_campaign.id}/remind", data={"csrf_token": token, "min_days": "0"},
                       headers=headers, follow_redirects=True).get_data(as_text=True)
    assert "1 reminder(s) queued." in page
    warning = re.search(r"3 contact\(s\) of agencies that have not submitted have no valid link.*?</", page,
                        re.S).group(0)
    for who in ("afm@example.org (AFM)", "a.smith+ct@example.org (MVD)", "new@example.org (MVD)"):
        assert who in warning
    assert "ерлан@example.org" not in warning and "Invite them from the campaign" in warning
    db_session.rollback()
    assert {m.recipient for m in db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "reminder"))} == {"ерлан@example.org"}

    from app.responses.cli import remind as remind_command

    result = client.application.test_cli_runner().invoke(remind_command, [str(open_campaign.id), "--min-days", "0"])
    assert result.exit_code == 0, result.output
    lines = set(result.stdout.splitlines())
    assert {"KZ/AFM\tafm@example.org\tlink expired", "KZ/MVD\ta.smith+ct@example.org\tlink revoked",
            "KZ/MVD\tnew@example.org\tnot invited"} <= lines
    assert f"3 contact(s) without a valid link were not reminded: `flask campaigns invite {open_campaign.id}`" \
           in result.stderr


def test_a_link_opened_twice_at_once_signs_in_both_times(client, db_session, open_campaign, monkeypatch):
    """A mail scanner fetching the link as the person clicks it (or a double click): both requests found no
    account and both created one; the second failed on the unique address with a server error. Here the other
    request has just committed the account when this one looks: it signs in with it."""
    from app.auth.models import User
    from app.campaigns import services

    issued = _issue(db_session, open_campaign, "ерлан@example.org")
    db_session.add(User(email="ерлан@example.org", role="respondent", name="Created by the other request",
                        locale="ru", is_active=True))
    db_session.commit()
    looked = []
    real = services._existing_account

    def not_yet(contact):  # the first look happens before the other request commits
        looked.append(contact.email)
        return None if len(looked) == 1 else real(contact)

    monkeypatch.setattr(services, "_existing_account", not_yet)
    response = client.get(_path(issued.link))
    assert response.status_code == 302 and response.headers["Location"].endswith("/respondent")
    assert "Министерство внутренних дел" in client.get("/respondent").get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(User).where(User.email == "ерлан@example.org")) == 1


def test_a_reminder_to_an_agency_whose_answers_were_returned_asks_for_the_replies(db_session, open_campaign):
    """MVD's answers were received and returned for clarification: its reminder said they had never arrived."""
    from app.campaigns import services
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage
    from app.responses.services import ensure_response, remind

    services.invite(open_campaign)
    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    mvd = next(a for a in open_campaign.agencies if a.acronym == "MVD")
    ensure_response(open_campaign, mvd).status = "returned"
    remind(open_campaign, min_days=7)
    db_session.commit()
    reminders = {m.recipient: m for m in db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "reminder"))}
    anna, afm = reminders["a.smith+ct@example.org"], reminders["afm@example.org"]
    for part in (anna.body_text, anna.body_html):
        assert "asked Ministry of Internal Affairs to clarify some answers" in part
        assert "We have not yet received" not in part
    assert "уточнить" in reminders["ерлан@example.org"].body_text
    assert "ответы" in afm.body_text and "уточнить" not in afm.body_text  # AFM has not answered yet
