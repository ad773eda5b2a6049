"""Actions that meet: stale review pages, concurrent saves, submissions, reminders and invitations, agencies taken
out of a campaign or moved to another country. The races run two threads, each with its own application context
and session, on both databases: PostgreSQL locks the rows, SQLite its one writer (`lock_for_writing`)."""

from __future__ import annotations

import re
import threading
import time

from sqlalchemy import func, select, update

from tests.review.conftest import client_for, respondent


class Worker(threading.Thread):
    """Runs `call` in its own application context and commits; keeps the exception it raised, if any."""

    def __init__(self, app, call):
        super().__init__(daemon=True)
        self.app, self.call, self.error = app, call, None

    def run(self):
        from app.extensions import db

        with self.app.app_context():
            try:
                self.call()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - kept for the test to look at
                db.session.rollback()
                self.error = exc
            finally:
                db.session.remove()


def _waits_then_runs(app, db_session, call) -> Worker:
    """Run `call` in another thread while the test's transaction holds the lock: check it waits, commit the
    test's transaction, and return the finished worker (its `error` is what `call` raised, if anything)."""
    worker = Worker(app, call)
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive(), f"the other transaction did not wait: {worker.error!r}"
    db_session.commit()
    worker.join(30)
    return worker


def _open_campaign(make_version, make_agency, make_contact, contacts: int):
    """An open campaign asking KZ/MVD, which has `contacts` contacts."""
    from app.campaigns import services as campaigns

    mvd = make_agency("KZ", "MVD")
    for n in range(contacts):
        make_contact(mvd, email=f"c{n}@example.org")
    campaign = campaigns.create_campaign("Round 1", make_version(), agencies=[mvd])
    campaigns.set_status(campaign, "open")
    return campaign


def _country_figures(db_session, campaign_id: int) -> dict:
    from app.scoring.models import CountryAreaScore, CountryScore

    rows = {(r.country_id, r.indicator_id): (r.self_assessed, r.assessed, r.gap, r.agencies, r.agencies_with_level)
            for r in db_session.scalars(select(CountryScore).where(CountryScore.campaign_id == campaign_id))}
    rows |= {(r.country_id, r.area_id): (r.self_assessed, r.assessed, r.gap) for r in db_session.scalars(
        select(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign_id))}
    return rows


def _equal_to_rebuild(db_session, campaign_id: int) -> dict:
    from app.scoring import store

    db_session.expire_all()
    stored = _country_figures(db_session, campaign_id)
    store.rebuild(campaign_id)
    assert _country_figures(db_session, campaign_id) == stored
    db_session.rollback()
    return stored


# --- on both databases ------------------------------------------------------------------------------------


def test_validating_from_a_page_opened_before_a_change_is_refused(app_ctx, review_world, db_session):
    """Expert A opened the response; expert B returned it and the agency resubmitted another value: A's Validate
    from the old page is refused with a message, and the new answers are not validated unseen."""
    from app.responses.models import Response
    from app.review import services

    response_id = review_world["responses"]["MVD"]
    first = client_for(app_ctx, "kz.expert@example.org")
    page = first.get(f"/review/responses/{response_id}").get_data(as_text=True)
    seen = re.search(r'name="row_version" value="(\d+)"', page).group(1)
    services.request_clarification(db_session.get(Response, response_id), [("staff_total", "Total?")],
                                   actor=review_world["people"]["expert2"])
    db_session.commit()
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    assert agency.post("/respondent/autosave", json={"question": "staff_total", "fields": {"q__staff_total": ["30"]},
                                                     "base_version": 1},
                       headers={"X-CSRFToken": agency.csrf}).status_code == 200
    assert agency.post("/respondent/review", data={"csrf_token": agency.csrf, "confirm": "1"}).status_code == 302
    answer = first.post(f"/review/responses/{response_id}/validate",
                        data={"csrf_token": first.csrf, "row_version": seen}, follow_redirects=True)
    assert "has changed since you opened the page" in answer.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Response, response_id).status == "submitted"
    fresh = first.get(f"/review/responses/{response_id}").get_data(as_text=True)
    current = re.search(r'name="row_version" value="(\d+)"', fresh).group(1)
    first.post(f"/review/responses/{response_id}/validate", data={"csrf_token": first.csrf, "row_version": current})
    db_session.expire_all()
    assert db_session.get(Response, response_id).status == "validated"


def test_an_agency_taken_out_of_the_campaign_can_no_longer_answer(app_ctx, db_session, make_version, make_agency,
                                                                  make_contact, make_user):
    """Its links are revoked and refused, and an open session loses the response."""
    from app.campaigns import services as campaigns
    from app.campaigns.models import Invitation

    version = make_version()
    mvd, afm = make_agency("KZ", "MVD"), make_agency("KZ", "AFM")
    make_contact(afm, email="afm@example.org", locale="en")
    campaign = campaigns.create_campaign("Round 1", version, agencies=[mvd, afm])
    campaigns.set_status(campaign, "open")
    link = next(i.link for i in campaigns.invite(campaign, send_email=False) if i.agency.id == afm.id)
    db_session.commit()
    contact = app_ctx.test_client()
    assert contact.get(link[link.index("/i/"):]).status_code == 302
    assert contact.get("/respondent").status_code == 200
    campaigns.update_campaign(campaign, name=campaign.name, version=version, agencies=[mvd], opens_on=None,
                              deadline=None)
    db_session.commit()
    assert all(i.revoked_at is not None for i in db_session.scalars(select(Invitation).where(
        Invitation.agency_id == afm.id)))
    assert contact.get("/respondent").status_code == 302  # signed out
    assert app_ctx.test_client().get(link[link.index("/i/"):]).status_code == 410


def test_moving_an_agency_to_another_country_moves_its_figures(app_ctx, review_world, db_session, make_user):
    """The directory's edit form moves KZ/AFM (which answered) to Tajikistan: both countries' figures follow."""
    from app.directory.models import Agency, Country
    from tests.conftest import extract_csrf, sign_in

    afm = db_session.scalar(select(Agency).where(Agency.acronym == "AFM"))
    kz = db_session.scalar(select(Country).where(Country.code == "KZ"))
    tj = db_session.scalar(select(Country).where(Country.code == "TJ"))
    afm_id, kz_id, tj_id = afm.id, kz.id, tj.id
    before = _equal_to_rebuild(db_session, review_world["campaign"])
    assert before[(kz_id, "inv_unit")][3] == 2 and before[(tj_id, "inv_unit")][3] == 1
    staff = app_ctx.test_client()
    sign_in(staff, "staff@example.org")
    form = staff.get(f"/directory/agencies/{afm_id}").get_data(as_text=True)
    fields = {"csrf_token": extract_csrf(form), "country": "TJ", "acronym": "AFM", "kind": "interior",
              "name_en": "Financial Monitoring Agency", "name_ru": ""}
    assert staff.post(f"/directory/agencies/{afm_id}", data=fields).status_code == 302
    db_session.expire_all()
    assert db_session.get(Agency, afm_id).country_id == tj_id
    after = _equal_to_rebuild(db_session, review_world["campaign"])
    assert after[(kz_id, "inv_unit")][3] == 1 and after[(tj_id, "inv_unit")][3] == 2


def test_an_autosave_that_met_a_colleagues_save_is_saved_again(app_ctx, review_world, db_session, monkeypatch):
    """Two contacts saving different questions at the same moment: should the second's row-version check fail
    (simulated here), the save is made again on the fresh row instead of "Could not save"."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.responses import answering
    from app.responses.models import Answer, Response
    from app.review import services

    response_id = review_world["responses"]["MVD"]
    services.request_clarification(db_session.get(Response, response_id), [("staff_total", "Total?")],
                                   actor=review_world["people"]["expert"])
    db_session.commit()
    agency = respondent(app_ctx, review_world["links"]["contact@mvd.kz.example.org"])
    real, calls = answering.save_answers, []

    def stale_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StaleDataError("UPDATE statement on table 'responses' expected to update 1 row(s); 0 were matched.")
        return real(*args, **kwargs)

    monkeypatch.setattr(answering, "save_answers", stale_once)
    saved = agency.post("/respondent/autosave", json={"question": "staff_total", "fields": {"q__staff_total": ["42"]},
                                                      "base_version": 1}, headers={"X-CSRFToken": agency.csrf})
    assert saved.status_code == 200 and len(calls) == 2
    db_session.expire_all()
    assert db_session.scalar(select(Answer.value).where(Answer.response_id == response_id,
                                                        Answer.question_id == "staff_total")) == 42


# --- races: two threads, on both databases ----------------------------------------------------------------


def test_a_save_waiting_for_a_submission_is_refused(app, app_ctx, review_world, db_session):
    """The agency submits in one tab while another tab's save waits for the response's lock: once the submission
    commits, the save is refused instead of changing the submitted answers."""
    from app.responses import answering
    from app.responses.models import Answer, Response
    from app.responses.services import ResponseError
    from app.review import services

    response_id = review_world["responses"]["MVD"]
    services.request_clarification(db_session.get(Response, response_id), [("staff_total", "Total?")],
                                   actor=review_world["people"]["expert"])
    db_session.commit()

    def late_save():
        from app.extensions import db

        response = db.session.get(Response, response_id)
        answering.save_answers(response, {"staff_total": 1}, actor=None, channel="cli", lang="en")

    answering.submit(db_session.get(Response, response_id), actor=None, lang="en")  # holds the lock
    worker = _waits_then_runs(app, db_session, late_save)
    assert isinstance(worker.error, ResponseError)
    db_session.expire_all()
    assert db_session.scalar(select(Answer.value).where(Answer.response_id == response_id,
                                                        Answer.question_id == "staff_total")) == 500


def test_two_submissions_in_one_country_at_once_both_count(app, app_ctx, review_world, db_session):
    """Two agencies of Kazakhstan submit at the same moment: both succeed (no unique-key failure) and the
    country's figures count both, as a rebuild does."""
    from app.responses import answering
    from app.responses.models import Response
    from app.review import services

    ids = [review_world["responses"][key] for key in ("MVD", "AFM")]
    for response_id in ids:
        services.request_clarification(db_session.get(Response, response_id), [("staff_total", "Total?")],
                                       actor=review_world["people"]["expert"])
    db_session.commit()

    def submit_afm():
        from app.extensions import db

        answering.submit(db.session.get(Response, ids[1]), actor=None, lang="en")

    answering.submit(db_session.get(Response, ids[0]), actor=None, lang="en")  # holds the campaign's lock
    worker = _waits_then_runs(app, db_session, submit_afm)
    assert worker.error is None
    figures = _equal_to_rebuild(db_session, review_world["campaign"])
    kz = db_session.get(Response, ids[0]).agency.country_id
    assert figures[(kz, "inv_unit")][4] == 2  # both agencies give a level


def test_two_experts_rating_at_once_both_keep_their_rating(app, app_ctx, review_world, db_session):
    """Two ratings saved at the same moment in one campaign (even of different indicators): each inserted its row,
    which holds a share lock on the campaign's row, then asked for the campaign's lock to refresh the figures,
    and on PostgreSQL each waited for the other's share lock: a deadlock, a server error, and one rating lost with
    its rationale. The campaign's lock now comes before the row."""
    from app.campaigns.models import Campaign
    from app.directory.models import Country
    from app.review import services
    from app.review.models import ExpertRating
    from app.scoring import store

    campaign = db_session.get(Campaign, review_world["campaign"])
    kz = db_session.scalar(select(Country).where(Country.code == "KZ"))
    expert = review_world["people"]["expert"]
    campaign_id, kz_id, expert_id = campaign.id, kz.id, expert.id
    # the first expert's transaction, half-way: its rating written, the figures not yet refreshed
    db_session.add(ExpertRating(campaign_id=campaign_id, country_id=kz_id, indicator_id="inv_unit", level=2,
                                rationale="Seen on the visit", expert_id=expert_id))
    db_session.flush()

    def second_expert():
        from app.auth.models import User
        from app.extensions import db

        services.add_rating(db.session.get(Campaign, campaign_id), db.session.get(Country, kz_id), "inv_training",
                            1, "Training is rare", actor=db.session.get(User, expert_id))

    worker = Worker(app, second_expert)
    worker.start()
    time.sleep(1.0)
    store.rating_changed(campaign, kz_id)  # the first transaction goes on: the campaign's lock, the figures
    db_session.commit()
    worker.join(30)
    assert not worker.is_alive() and worker.error is None
    db_session.expire_all()
    assert sorted(r.indicator_id for r in db_session.scalars(select(ExpertRating))) == ["inv_training", "inv_unit"]
    _equal_to_rebuild(db_session, campaign_id)


def test_two_people_inviting_at_once_send_one_link_each(app, app_ctx, db_session, make_version, make_agency,
                                                         make_contact):
    from app.campaigns import services as campaigns
    from app.campaigns.models import Invitation

    campaign = _open_campaign(make_version, make_agency, make_contact, contacts=3)
    db_session.commit()
    campaign_id = campaign.id

    def invite():
        from app.extensions import db

        campaigns.invite(db.session.get(type(campaign), campaign_id), send_email=True)

    campaigns.invite(campaign, send_email=True)  # holds the campaign's lock
    worker = _waits_then_runs(app, db_session, invite)
    assert worker.error is None
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 3


def test_two_people_reminding_at_once_send_one_reminder_each(app, app_ctx, db_session, make_version, make_agency,
                                                             make_contact):
    from datetime import timedelta

    from app.campaigns import services as campaigns
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.responses.services import remind

    campaign = _open_campaign(make_version, make_agency, make_contact, contacts=3)
    campaigns.invite(campaign, send_email=True)
    db_session.execute(update(Invitation).values(created_at=utcnow() - timedelta(days=8)))  # a reminder is due
    db_session.commit()
    campaign_id = campaign.id
    outcomes: list[str] = []

    def remind_too():
        from app.extensions import db

        outcomes.extend(o.action for o in remind(db.session.get(type(campaign), campaign_id)))

    first = [o.action for o in remind(campaign)]  # holds the campaign's lock
    worker = _waits_then_runs(app, db_session, remind_too)
    assert worker.error is None
    assert first == ["reminded"] * 3
    assert outcomes == ["too soon"] * 3


def test_inviting_while_a_colleague_closes_the_campaign_is_refused(app, app_ctx, db_session, make_version,
                                                                   make_agency, make_contact):
    from app.campaigns import services as campaigns
    from app.campaigns.models import Invitation

    campaign = _open_campaign(make_version, make_agency, make_contact, contacts=1)
    db_session.commit()
    campaign_id = campaign.id

    def invite():
        from app.extensions import db

        campaigns.invite(db.session.get(type(campaign), campaign_id), send_email=True)

    campaigns.lock_campaign(campaign_id)
    campaigns.set_status(campaign, "closed")  # not committed yet: the colleague's invitation waits
    worker = _waits_then_runs(app, db_session, invite)
    assert isinstance(worker.error, campaigns.CampaignError)
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 0
