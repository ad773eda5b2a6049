"""Dashboards: every page in English and Russian with its figures, tables equal to the materialized scores, the
expert's scope (other countries never appear), the anonymous regional average, filters in the query string,
the question explorer, the "priorities" texts, JSON, and plotly.js served locally on dashboard pages only."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, sign_in

ANSWERS = {
    "MVD": {"agency_name": "MVD", "staff_total": 500, "has_ct_unit": "yes", "ct_unit_staff": 20,
            "training_topics": ["financing", "digital"], "skills": {"interviewing": 3, "forensics": 1},
            "priorities": "Forensic laboratory for the unit"},
    "AFM": {"agency_name": "AFM", "staff_total": 200, "has_ct_unit": "partly", "ct_unit_staff": 5,
            "training_topics": ["rights"], "skills": {"interviewing": 2, "forensics": 2}},
    "TJ": {"agency_name": "MVD TJ", "staff_total": 300, "has_ct_unit": "no", "training_topics": "dont_know",
           "priorities": "Секретный приоритет Таджикистана"},
    "GKNB": {"agency_name": "GKNB", "staff_total": 100, "has_ct_unit": "yes", "ct_unit_staff": 60},
}
SUBMITTED_ON = {"MVD": datetime(2026, 3, 2, 9, tzinfo=UTC), "AFM": datetime(2026, 3, 5, 15, tzinfo=UTC),
                "TJ": datetime(2026, 3, 5, 10, tzinfo=UTC)}
PAGES = ("/dashboards/", "/dashboards/progress", "/dashboards/countries/KZ", "/dashboards/region",
         "/dashboards/questions")


@pytest.fixture
def world(app_ctx, db_session, make_country, make_version, make_agency, make_contact, make_user):
    """KZ (MVD, AFM submitted) and TJ (MVD submitted, GKNB in progress), a regional body that has not started,
    an expert rating of KZ's training indicator, and the users: staff, an expert of KZ, a respondent link."""
    from datetime import date

    from app.campaigns import services as campaigns
    from app.directory.models import Country
    from app.responses import answering
    from app.responses.services import ensure_response
    from app.review.models import ExpertRating
    from app.scoring import store

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    make_country("TJ", en="Tajikistan", ru="Таджикистан")
    version = make_version()
    agencies = {"MVD": make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="МВД"),
                "AFM": make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency"),
                "TJ": make_agency("TJ", "MVD", en="Ministry of Internal Affairs of Tajikistan"),
                "GKNB": make_agency("TJ", "GKNB", kind="security", en="State Committee for National Security"),
                "RATS": make_agency(None, "RATS", kind="regional", en="Regional anti-terrorist structure")}
    contact = make_contact(agencies["MVD"], email="contact@mvd.kz.example.org", locale="en")
    campaign = campaigns.create_campaign("Round 1", version, agencies=list(agencies.values()),
                                         opens_on=date(2026, 3, 1), deadline=date(2026, 3, 31))
    campaigns.set_status(campaign, "open")
    link = next(i.link for i in campaigns.invite(campaign, send_email=False) if i.contact.id == contact.id)
    for key in ("MVD", "AFM", "TJ", "GKNB"):
        response = ensure_response(campaign, agencies[key])
        result = answering.save_answers(response, ANSWERS[key], actor=None, channel="cli", lang="en")
        assert result.ok, result.errors
        if key in SUBMITTED_ON:
            answering.submit(response, actor=None, lang="en")
            response.submitted_at = response.first_submitted_at = SUBMITTED_ON[key]
    db_session.flush()
    store.rebuild(campaign.id)
    expert = make_user("expert", email="kz.expert@example.org", countries=["KZ"])
    kz = db_session.scalar(select(Country).where(Country.code == "KZ"))
    db_session.add(ExpertRating(campaign_id=campaign.id, country_id=kz.id, indicator_id="inv_training", level=1,
                                rationale="Training is rare", expert_id=expert.id))
    db_session.flush()
    store.rating_changed(campaign, kz.id)
    db_session.commit()
    make_user("staff", email="staff@example.org")
    world = {"campaign": campaign.id, "kz": kz.id, "link": link,
             "tj": db_session.scalar(select(Country.id).where(Country.code == "TJ"))}
    db_session.rollback()
    return world


def client_for(app_ctx, email: str | None = None, lang: str = "en", link: str | None = None):
    """A test client in `lang`, signed in as `email` (or through a respondent's magic link)."""
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    if link:
        assert client.get(link[link.index("/i/"):]).status_code == 302
    elif email:
        sign_in(client, email)
    return client


def get_json(client, url: str, **kwargs) -> dict:
    response = client.get(url + ("&" if "?" in url else "?") + "format=json", **kwargs)
    assert response.status_code == 200, url
    assert response.mimetype == "application/json"
    return response.get_json()


def fmt(value: float | None, lang: str = "en") -> str:
    """What the page shows for a score: two decimals at most, the locale's decimal sign."""
    from app.scoring.engine import round_score

    if value is None:
        return "—"
    text = f"{round_score(value):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "ru" else text


def pct(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def row(html: str, attribute: str, value: str) -> str:
    """The <tr> whose `attribute` is `value`."""
    match = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(1)


def cell(row_html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<td[^>]* {attribute}="{re.escape(value)}"[^>]*>([^<]*)</td>', row_html)
    assert match, f"no cell {attribute}={value}"
    return match.group(1).strip()


def figures_of(html: str) -> dict[str, dict]:
    """The figure JSON of each chart on a page."""
    found = re.findall(r'<script type="application/json" class="plotly-figure" data-target="plot-([a-z_]+)">(.*?)'
                       r"</script>", html, re.S)
    return {name: json.loads(text) for name, text in found}


# --- pages and languages -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_page_renders_with_its_figures(app_ctx, world, lang):
    staff = client_for(app_ctx, "staff@example.org", lang)
    expected = {"/dashboards/progress": {"status", "submissions"},
                "/dashboards/countries/KZ": {"areas", "gaps", "heatmap", "coverage"},
                "/dashboards/region": {"heatmap", "top_gaps", "spread"},
                "/dashboards/questions": {"by_country", "by_kind"}}
    for url in PAGES:
        response = staff.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert f'<html lang="{lang}">' in html
        figures = figures_of(html)
        assert set(figures) == expected.get(url, set()), url
        for name, figure in figures.items():
            assert figure["data"], (url, name)
            assert f'id="plot-{name}"' in html and f'id="data-{name}"' in html  # the chart and its table
    region = staff.get("/dashboards/region").get_data(as_text=True)
    assert ("Таджикистан" if lang == "ru" else "Tajikistan") in region
    if lang == "ru":
        country = staff.get("/dashboards/countries/KZ").get_data(as_text=True)
        assert "Расследование" in country and "Специализированное подразделение" in country  # questionnaire texts
        assert "Страна" in staff.get("/dashboards/progress").get_data(as_text=True)  # interface text
        config = re.search(r'<script type="application/json" id="plotly-config">(.*?)</script>', country, re.S)
        assert json.loads(config.group(1))["locales"]["ru"]["format"]["decimal"] == ","


def test_country_tables_equal_the_materialized_scores(app_ctx, world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryAreaScore, CountryScore, ResponseScore

    indicators = {r.indicator_id: r for r in db_session.scalars(select(CountryScore).where(
        CountryScore.campaign_id == world["campaign"], CountryScore.country_id == world["kz"]))}
    areas = {r.area_id: r for r in db_session.scalars(select(CountryAreaScore).where(
        CountryAreaScore.campaign_id == world["campaign"], CountryAreaScore.country_id == world["kz"]))}
    assert indicators["inv_training"].expert == 1 and indicators["inv_training"].gap == 2  # the rating counts
    for lang in ("en", "ru"):
        db_session.rollback()
        html = client_for(app_ctx, "staff@example.org", lang).get("/dashboards/countries/KZ").get_data(as_text=True)
        for indicator_id, score in indicators.items():
            tr = row(html, "data-indicator", indicator_id)
            for column in ("self_assessed", "expert", "assessed", "target", "gap", "priority"):
                assert cell(tr, "data-col", column) == fmt(getattr(score, column), lang), (indicator_id, column)
            assert cell(tr, "data-col", "coverage") == pct(score.coverage)
        for area_id, score in areas.items():
            tr = row(html, "data-area", area_id)
            for column in ("self_assessed", "expert", "assessed", "target", "gap"):
                assert cell(tr, "data-col", column) == fmt(getattr(score, column), lang), (area_id, column)
        # ranked by priority: inv_unit (weight 2) before inv_training when its priority is larger
        ranked = sorted(indicators.values(), key=lambda s: -(s.priority or 0))
        order = re.findall(r'<tr data-indicator="([a-z_]+)"', html)
        assert order == [s.indicator_id for s in ranked]

    db_session.rollback()
    staff = client_for(app_ctx, "staff@example.org")
    html = staff.get("/dashboards/countries/KZ").get_data(as_text=True)
    levels = dict(db_session.execute(select(ResponseScore.indicator_id, ResponseScore.level)
                                     .where(ResponseScore.response_id == _response_id(db_session, world, "KZ", "MVD")))
                  .all())
    tr = row(html, "data-agency", "MVD")
    for indicator_id, level in levels.items():
        assert cell(tr, "data-indicator", indicator_id) == fmt(level)
    data = get_json(staff, "/dashboards/countries/KZ")
    assert {i["id"]: i["gap"] for i in data["indicators"]} == {k: round_score(v.gap) for k, v in indicators.items()}
    assert data["coverage"]["agencies"] == 2 and data["coverage"]["responded"] == 2
    heat = data["heatmap"]
    assert [a["acronym"] for a in heat["agencies"]] == ["AFM", "MVD"]
    figure = figures_of(html)["heatmap"]["data"][0]
    assert figure["z"] == heat["levels"] and figure["y"] == ["AFM", "MVD"]


def _response_id(db_session, world, code: str, acronym: str) -> int:
    from app.directory.models import Agency, Country
    from app.responses.models import Response

    return db_session.scalar(select(Response.id).join(Agency, Agency.id == Response.agency_id)
                             .join(Country, Country.id == Agency.country_id)
                             .where(Response.campaign_id == world["campaign"], Country.code == code,
                                    Agency.acronym == acronym))


def test_priorities_are_grouped_by_agency(app_ctx, world):
    staff = client_for(app_ctx, "staff@example.org")
    data = get_json(staff, "/dashboards/countries/KZ")
    assert data["priorities"] == [{"agency": {"id": data["priorities"][0]["agency"]["id"], "acronym": "MVD",
                                              "name": "Ministry of Internal Affairs", "kind": "interior",
                                              "country": "KZ"},
                                   "answers": [{"question_id": "priorities", "label": "Your agency's three main needs",
                                                "text": "Forensic laboratory for the unit"}]}]
    html = staff.get("/dashboards/countries/KZ").get_data(as_text=True)
    assert "Forensic laboratory for the unit" in html
    assert "Секретный приоритет Таджикистана" in staff.get("/dashboards/countries/TJ").get_data(as_text=True)


def test_a_priorities_text_hidden_by_skip_logic_is_left_out(app_ctx, world, db_session):
    """An agency wrote its priorities, then changed an answer that hides the question: the response's page says
    "does not apply", the country profile still showed the old text. Here the questionnaire shows the priorities
    only to agencies with a unit; TJ's MVD has none (its text stays stored, not shown), KZ's MVD has one."""
    from app.campaigns.models import Campaign
    from app.dashboards.data import _priorities
    from app.questionnaires.loader import load_text
    from app.questionnaires.services import definition_of
    from app.responses.models import Response

    text = (ROOT / "tests" / "data" / "small_questionnaire.yaml").read_text()
    marker = "      - id: priorities\n        type: long_text\n"
    assert marker in text
    result = load_text(text.replace(marker, marker + "        show_if: \"${has_ct_unit} != 'no'\"\n"), "q.yaml")
    assert result.definition is not None, result.problems
    campaign = db_session.get(Campaign, world["campaign"])
    responses = list(db_session.scalars(select(Response).where(Response.campaign_id == campaign.id)))
    by_agency = {r.agency_id: r.id for r in responses}
    agencies = [r.agency for r in responses]
    shown = {p["agency"]["acronym"] + "/" + p["agency"]["country"]: [a["text"] for a in p["answers"]]
             for p in _priorities(result.definition, agencies, by_agency, "en")}
    assert shown == {"MVD/KZ": ["Forensic laboratory for the unit"]}
    # without the rule, both texts are shown
    plain = _priorities(definition_of(campaign.version), agencies, by_agency, "en")
    assert {p["agency"]["country"] for p in plain} == {"KZ", "TJ"}


def test_the_priorities_rule():
    from app.dashboards.data import is_priorities_question

    def q(qid, kind):
        return SimpleNamespace(id=qid, type=kind)

    section, other = SimpleNamespace(id="priorities"), SimpleNamespace(id="profile")
    assert is_priorities_question(other, q("priority_need_1", "text"))
    assert is_priorities_question(other, q("priorities", "long_text"))
    assert is_priorities_question(section, q("donors", "long_text"))
    assert not is_priorities_question(section, q("other_forms", "text"))
    assert not is_priorities_question(other, q("priority_areas", "multiple_choice"))
    assert not is_priorities_question(other, q("comments", "long_text"))


# --- regional view -------------------------------------------------------------------------------------


def test_regional_view_for_staff(app_ctx, world, db_session):
    from app.scoring.engine import round_score
    from app.scoring.models import CountryAreaScore, CountryScore

    gaps = {(r.country_id, r.area_id): r.gap for r in db_session.scalars(select(CountryAreaScore))}
    top = sorted((r for r in db_session.scalars(select(CountryScore)) if r.gap and r.gap > 0),
                 key=lambda r: (-r.priority, -r.gap))
    db_session.rollback()
    staff = client_for(app_ctx, "staff@example.org")
    html = staff.get("/dashboards/region").get_data(as_text=True)
    for code, country_id in (("KZ", world["kz"]), ("TJ", world["tj"])):
        assert cell(row(html, "data-country", code), "data-area", "investigation") == fmt(
            gaps[(country_id, "investigation")])
    average = (gaps[(world["kz"], "investigation")] + gaps[(world["tj"], "investigation")]) / 2
    assert cell(row(html, "data-country", "average"), "data-area", "investigation") == fmt(average)
    data = get_json(staff, "/dashboards/region")
    assert [(t["country"], t["indicator_id"], t["gap"]) for t in data["top_gaps"]] == [
        ({world["kz"]: "KZ", world["tj"]: "TJ"}[r.country_id], r.indicator_id, round_score(r.gap)) for r in top][:10]
    spread = {c["code"]: c for c in data["spread"]}
    assert [a["acronym"] for a in spread["KZ"]["agencies"]] == ["AFM", "MVD"]
    assert [a["acronym"] for a in spread["TJ"]["agencies"]] == ["MVD"]  # GKNB has not submitted
    assert data["average"]["agencies"] == 3
    figure = figures_of(html)["heatmap"]["data"][0]
    assert figure["y"][-1] == "Regional average" and len(figure["z"]) == 3


def test_top_gaps_rank_as_shown_with_ties(app_ctx, world, db_session, monkeypatch):
    """The largest gaps are ranked on the figures as shown (rounded): a row with a slightly smaller exact
    priority but the same rounded one and a larger gap comes first, even when that takes it past the last
    place by exact priority. (Two places here instead of ten: the test questionnaire has few indicators.)"""
    from app.dashboards import data as dashboard_data
    from app.scoring.models import CountryScore

    monkeypatch.setattr(dashboard_data, "TOP_GAPS", 2)
    rows = list(db_session.scalars(select(CountryScore).order_by(CountryScore.country_id, CountryScore.indicator_id)))
    assert len(rows) == 4
    figures = [(3.0, 1.0), (1.00004, 0.5), (1.00001, 2.0), (0.99, 3.0)]  # (priority, gap)
    for score, (priority, gap) in zip(rows, figures, strict=True):
        score.priority, score.gap = priority, gap
    db_session.commit()
    expected = [(rows[0].country_id, rows[0].indicator_id), (rows[2].country_id, rows[2].indicator_id)]
    db_session.rollback()
    code = {world["kz"]: "KZ", world["tj"]: "TJ"}
    data = get_json(client_for(app_ctx, "staff@example.org"), "/dashboards/region")
    assert [(t["country"], t["indicator_id"], t["priority"], t["gap"]) for t in data["top_gaps"]] == [
        (code[expected[0][0]], expected[0][1], 3.0, 1.0), (code[expected[1][0]], expected[1][1], 1.0, 2.0)]


def test_expert_sees_only_assigned_countries(app_ctx, world):
    expert = client_for(app_ctx, "kz.expert@example.org")
    for url in ("/dashboards/countries/TJ", "/dashboards/countries/TJ?format=json", "/dashboards/countries/XX"):
        assert expert.get(url).status_code == 404, url
    for url in PAGES:
        for suffix in ("", "?format=json"):
            response = expert.get(url + suffix)
            text = response.get_data(as_text=True)
            assert response.status_code == 200, url + suffix
            for secret in ("Tajikistan", "Таджикистан", '"TJ"', "GKNB", "RATS", "Секретный"):
                assert secret not in text, (url + suffix, secret)
    region = get_json(expert, "/dashboards/region")
    assert [c["code"] for c in region["countries"]] == ["KZ"]
    # Only one country (TJ) lies outside the expert's scope: an average would give its figures away.
    assert region["heatmap"]["average"] is None and region["average"] is None
    assert "Regional average" not in expert.get("/dashboards/region").get_data(as_text=True)
    progress = get_json(expert, "/dashboards/progress")
    assert [c["code"] for c in progress["countries"]] == ["KZ"] and progress["agencies"] == 2
    explorer = get_json(expert, "/dashboards/questions?question=has_ct_unit")
    assert [g["code"] for g in explorer["by_country"]] == ["KZ"]
    assert explorer["by_country"][0]["counts"] == {"yes": 1, "partly": 1, "no": 0, "not_applicable": 0}
    # A country filter naming another country (or the regional bodies) is a 404, as that country's profile is,
    # on every view and in JSON: not a view with no data, which would pass for a country without answers.
    for url in ("/dashboards/", "/dashboards/region", "/dashboards/progress", "/dashboards/questions",
                "/dashboards/countries/KZ"):
        for query in ("?country=TJ", "?country=tj&format=json", "?country=-"):
            refused = expert.get(url + query)
            assert refused.status_code == 404 and "Tajikistan" not in refused.get_data(as_text=True), url + query
    assert get_json(expert, "/dashboards/region?country=KZ")["countries"] == [{"code": "KZ", "name": "Kazakhstan"}]


def test_expert_sees_the_average_when_enough_other_countries_hide_in_it(app_ctx, world, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "DASHBOARD_AVERAGE_MIN_OTHERS", 1)
    expert = client_for(app_ctx, "kz.expert@example.org")
    region = get_json(expert, "/dashboards/region")
    assert region["heatmap"]["average"] is not None and region["average"]["agencies"] == 3
    html = expert.get("/dashboards/region").get_data(as_text=True)
    assert "Regional average" in html and "Tajikistan" not in html


def _third_country(app_ctx, db_session, make_agency, world, answers: dict, submit_gknb: bool = False) -> None:
    """Uzbekistan joins the campaign with one agency that submitted `answers` (and, optionally, Tajikistan's
    GKNB, a security service, submits too); the scores are rebuilt."""
    from app.campaigns.models import Campaign
    from app.responses import answering
    from app.responses.services import ensure_response
    from app.scoring import store

    campaign = db_session.get(Campaign, world["campaign"])
    agency = make_agency("UZ", "MVD", en="Ministry of Internal Affairs of Uzbekistan")
    campaign.agencies.append(agency)
    db_session.flush()
    response = ensure_response(campaign, agency)
    assert answering.save_answers(response, answers, actor=None, channel="cli", lang="en").ok
    answering.submit(response, actor=None, lang="en")
    if submit_gknb:
        gknb = next(a for a in campaign.agencies if a.acronym == "GKNB")
        answering.submit(ensure_response(campaign, gknb), actor=None, lang="en")
    db_session.flush()
    store.rebuild(campaign.id)
    db_session.commit()


def test_expert_average_leaves_out_what_one_hidden_country_alone_would_make(app_ctx, world, db_session,
                                                                             make_agency):
    """Two countries lie outside the expert's scope, but the agency-type filter leaves one agency of one of
    them in the average of agency levels: that average would be the hidden agency's own level."""
    _third_country(app_ctx, db_session, make_agency, world, dict(ANSWERS["MVD"], agency_name="MVD UZ"),
                   submit_gknb=True)
    expert = client_for(app_ctx, "kz.expert@example.org")
    region = get_json(expert, "/dashboards/region")
    assert region["average"]["agencies"] == 5 and region["heatmap"]["average"] is not None
    security = get_json(expert, "/dashboards/region?kind=security")
    assert security["average"] is None  # GKNB of Tajikistan alone
    assert security["heatmap"]["average"] is not None  # the country gaps of TJ and UZ: still two countries
    html = expert.get("/dashboards/region?kind=security").get_data(as_text=True)
    assert html.count('data-country="average"') == 1
    staff = get_json(client_for(app_ctx, "staff@example.org"), "/dashboards/region?kind=security")
    assert staff["average"]["agencies"] == 1  # staff see every country anyway


def test_expert_average_is_not_given_per_type_of_agency(app_ctx, world, db_session, make_agency):
    """Each average alone holds two countries outside the expert's scope, but the average over all types less the
    averages per type (and less the expert's own agencies, which they see) leaves the agencies of one hidden
    country, or one hidden agency: the expert gets no average of agency levels for one type of agency."""
    _third_country(app_ctx, db_session, make_agency, world, dict(ANSWERS["MVD"], agency_name="MVD UZ"),
                   submit_gknb=True)
    expert = client_for(app_ctx, "kz.expert@example.org")
    everything = get_json(expert, "/dashboards/region")
    assert everything["average"]["agencies"] == 5 and not everything["average_withheld_for_kind"]
    for kind in ("interior", "fiu", "security"):
        one_type = get_json(expert, f"/dashboards/region?kind={kind}")
        assert one_type["average"] is None and one_type["average_withheld_for_kind"], kind
        assert one_type["heatmap"]["average"] == everything["heatmap"]["average"]  # countries' gaps: all types
        for country in one_type["spread"]:
            assert country["code"] == "KZ" and all(a["kind"] == kind for a in country["agencies"])
    html = expert.get("/dashboards/region?kind=interior", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="average-kind-rule"' in html and "could give away the agencies of a country other than yours" in html
    staff = client_for(app_ctx, "staff@example.org")
    assert get_json(staff, "/dashboards/region?kind=interior")["average"]["agencies"] == 3  # KZ, TJ, UZ MVD
    assert not get_json(staff, "/dashboards/region?kind=interior")["average_withheld_for_kind"]


def test_expert_average_counts_only_the_countries_in_each_figure(app_ctx, world, db_session, make_agency,
                                                                 make_user):
    """Uzbekistan has figures (an expert rating) but no agency level: the average of agency levels would be
    Tajikistan's alone and is left out; so is a heatmap cell where only Tajikistan has a gap."""
    from app.directory.models import Country
    from app.review.models import ExpertRating
    from app.scoring import store
    from app.scoring.models import CountryAreaScore

    _third_country(app_ctx, db_session, make_agency, world,
                   {"agency_name": "MVD UZ", "staff_total": 10, "has_ct_unit": "not_applicable"})
    uz = db_session.scalar(select(Country).where(Country.code == "UZ"))
    db_session.add(ExpertRating(campaign_id=world["campaign"], country_id=uz.id, indicator_id="inv_unit", level=1,
                                rationale="Seen on a visit", expert_id=make_user("expert", email="uz@example.org",
                                                                                  countries=["UZ"]).id))
    db_session.flush()
    from app.campaigns.models import Campaign

    store.rating_changed(db_session.get(Campaign, world["campaign"]), uz.id)
    db_session.commit()
    expert = client_for(app_ctx, "kz.expert@example.org")
    region = get_json(expert, "/dashboards/region")
    assert region["heatmap"]["average"] is not None  # TJ and UZ both have a gap
    assert region["average"] is None  # but only TJ's agency has a level
    staff = client_for(app_ctx, "staff@example.org")
    assert get_json(staff, "/dashboards/region")["average"]["agencies"] == 3

    db_session.execute(CountryAreaScore.__table__.update().where(CountryAreaScore.country_id == uz.id)
                       .values(gap=None))  # a level without a target: no gap
    db_session.commit()
    region = get_json(expert, "/dashboards/region")
    assert region["heatmap"]["average"] is None
    assert "Regional average" not in expert.get("/dashboards/region").get_data(as_text=True)
    assert get_json(staff, "/dashboards/region")["heatmap"]["average"] is not None


def test_regional_average_can_be_turned_off(app_ctx, world, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "DASHBOARD_REGIONAL_AVERAGE", False)
    expert = client_for(app_ctx, "kz.expert@example.org")
    data = get_json(expert, "/dashboards/region")
    assert data["heatmap"]["average"] is None and data["average"] is None
    assert [a["acronym"] for c in data["spread"] for a in c["agencies"]] == ["AFM", "MVD"]
    html = expert.get("/dashboards/region").get_data(as_text=True)
    assert "Regional average" not in html and 'data-country="average"' not in html


def test_respondents_and_visitors_are_refused(app_ctx, world):
    respondent = client_for(app_ctx, link=world["link"])
    anonymous = client_for(app_ctx)
    for url in (*PAGES, "/dashboards/countries/KZ?format=json", "/dashboards/region?format=json"):
        assert respondent.get(url).status_code == 403, url
        response = anonymous.get(url)
        if url.endswith("format=json"):  # asked for JSON: the refusal is JSON, not the sign-in page
            assert response.status_code == 401 and response.get_json()["error"]["status"] == 401, url
        else:
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url


# --- plotly.js -----------------------------------------------------------------------------------------


def test_plotly_is_served_locally_on_dashboard_pages_only(app_ctx, world):
    import plotly

    vendored = ROOT / "app" / "static" / "vendor" / "plotly"
    static = client_for(app_ctx).get("/static/vendor/plotly/plotly-cartesian.min.js")
    assert static.status_code == 200
    bundle = static.get_data().decode()
    static.close()
    version = re.search(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)", bundle[:200]).group(1)
    licence = (vendored / "LICENSE").read_text()
    assert f"plotly.js v{version}" in licence and "MIT" in licence
    # The same plotly.js (major.minor) as the one the plotly Python package builds its figures for.
    shipped = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()[:200]
    shipped_version = re.search(r"plotly\.js v(\d+\.\d+)\.\d+", shipped).group(1)
    assert version.startswith(shipped_version + "."), (version, shipped_version)
    traces = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    assert {"bar", "box", "heatmap", "scatter"} <= traces

    staff = client_for(app_ctx, "staff@example.org")
    drawn = set()
    for url in PAGES[1:]:
        html = staff.get(url).get_data(as_text=True)
        drawn |= {trace.get("type", "scatter") for figure in figures_of(html).values() for trace in figure["data"]}
        assert "/static/vendor/plotly/plotly-cartesian.min.js" in html and "/static/js/dashboards.js" in html
        assert "cdn.plot.ly" not in html and "cdn.jsdelivr" not in html
        for tag in re.findall(r"<script[^>]*>", html):  # no inline script: the CSP forbids them
            assert "src=" in tag or 'type="application/json"' in tag, tag
    assert drawn and drawn <= traces, drawn - traces  # every chart drawn is one the bundle can draw
    assert "plotly" not in staff.get("/staff").get_data(as_text=True)
    respondent = client_for(app_ctx, link=world["link"])
    for url in ("/respondent", "/respondent/sections/1", "/respondent/review", "/respondent/print"):
        response = respondent.get(url)
        assert response.status_code == 200, url
        assert "plotly" not in response.get_data(as_text=True).lower(), url


# --- progress, filters, question explorer --------------------------------------------------------------


def test_progress_by_status_and_over_time(app_ctx, world):
    staff = client_for(app_ctx, "staff@example.org")
    data = get_json(staff, "/dashboards/progress")
    counts = {c["code"]: c["counts"] for c in data["countries"]}
    assert counts["KZ"]["submitted"] == 2 and counts["TJ"]["submitted"] == 1 and counts["TJ"]["in_progress"] == 1
    assert counts["-"]["not_started"] == 1  # the regional body, for staff
    assert data["submissions"] == [{"date": "2026-03-02", "count": 1, "cumulative": 1},
                                   {"date": "2026-03-05", "count": 2, "cumulative": 3}]
    assert data["campaign"]["deadline"] == "2026-03-31" and data["agencies"] == 5
    html = staff.get("/dashboards/progress").get_data(as_text=True)
    assert cell(row(html, "data-country", "TJ"), "data-status", "in_progress") == "1"
    figure = figures_of(html)["submissions"]
    deadline = [t for t in figure["data"] if t.get("name") == "Deadline"]
    assert deadline and deadline[0]["x"] == ["2026-03-31", "2026-03-31"]
    assert figure["data"][0]["y"][-1] == 3


def test_late_submissions_stay_on_the_curve_and_days_follow_the_readers_zone(app_ctx, world, db_session):
    """The curve's axis ended a few days after the deadline: agencies that submitted later were drawn off the
    chart while the text said they had submitted. And a submission at 20:00 UTC is the next day in Almaty, as
    the response's page says: it is counted on that day for a reader there."""
    from app.responses.models import Response

    late = db_session.scalar(select(Response).where(Response.agency.has(acronym="AFM")))
    late.first_submitted_at = datetime(2026, 5, 20, 20, tzinfo=UTC)  # seven weeks after the deadline
    db_session.commit()
    staff = client_for(app_ctx, "staff@example.org")
    figure = figures_of(staff.get("/dashboards/progress").get_data(as_text=True))["submissions"]
    start, end = figure["layout"]["xaxis"]["range"]
    assert start <= "2026-03-01" and end > "2026-05-20"
    assert max(figure["data"][0]["x"]) == "2026-05-20" and figure["data"][0]["y"][-1] == 3
    assert get_json(staff, "/dashboards/progress")["submissions"][-1]["date"] == "2026-05-20"
    staff.set_cookie("tz", "Asia/Almaty")
    assert get_json(staff, "/dashboards/progress")["submissions"][-1]["date"] == "2026-05-21"


def test_a_response_returned_for_clarification_keeps_its_day_of_submission(app_ctx, world, db_session):
    """The curve counts each agency once, on the day it first submitted: returned for clarification, and submitted
    again later, the agency stays on its first day instead of leaving the curve and coming back later."""
    from app.auth.models import User
    from app.responses import answering
    from app.responses.models import Response
    from app.review.services import request_clarification

    staff = client_for(app_ctx, "staff@example.org")
    before = get_json(staff, "/dashboards/progress")["submissions"]
    response = db_session.scalar(select(Response).where(Response.agency.has(acronym="AFM")))
    expert = db_session.scalar(select(User).where(User.email == "kz.expert@example.org"))
    request_clarification(response, [("staff_total", "Including the regional offices?")], actor=expert)
    db_session.commit()
    data = get_json(staff, "/dashboards/progress")
    assert data["submissions"] == before and data["totals"]["returned"] == 1 and data["submitted"] == 2
    html = staff.get("/dashboards/progress", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2 of 5 agencies have submitted." in html
    assert "1 more agency submitted and was returned for clarification." in html
    assert re.search(r"returned for clarification\.\s+Deadline: ", html)  # two sentences, not "clarification.Deadline"
    assert "Each agency counts once, on the day it first submitted" in html
    ru = staff.get("/dashboards/progress", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Ещё 1 ведомство отправило анкету, и она возвращена на уточнение." in ru

    answering.submit(db_session.get(Response, response.id), actor=None, lang="en")
    db_session.commit()
    data = get_json(staff, "/dashboards/progress")
    assert data["submissions"] == before and data["totals"]["returned"] == 0 and data["submitted"] == 3
    assert db_session.get(Response, response.id).submitted_at.date() > date(2026, 3, 5)  # today: the latest one


def test_filters_are_kept_in_the_query_string(app_ctx, world):
    staff = client_for(app_ctx, "staff@example.org")
    data = get_json(staff, "/dashboards/progress?kind=fiu")
    assert [(c["code"], c["total"]) for c in data["countries"]] == [("KZ", 1)]
    assert data["filters"]["kind"] == "fiu"
    html = staff.get(f"/dashboards/progress?campaign={world['campaign']}&kind=fiu").get_data(as_text=True)
    assert f'href="/dashboards/region?campaign={world["campaign"]}&amp;kind=fiu"' in html
    assert '<option value="fiu" selected>' in html
    country = get_json(staff, "/dashboards/countries/KZ?kind=fiu&area=investigation")
    assert [a["acronym"] for a in country["heatmap"]["agencies"]] == ["AFM"]
    assert [a["id"] for a in country["areas"]] == ["investigation"]
    assert get_json(staff, "/dashboards/region?country=TJ")["countries"] == [{"code": "TJ", "name": "Tajikistan"}]
    assert get_json(staff, "/dashboards/progress?kind=bogus&country=<x>")["filters"]["kind"] is None
    assert staff.get("/dashboards/progress?campaign=999999").status_code == 404
    # asked for JSON, a refusal is JSON too (it was the HTML error page)
    refused = staff.get("/dashboards/progress?campaign=999999&format=json")
    assert refused.status_code == 404 and refused.get_json()["error"]["status"] == 404
    assert staff.get("/dashboards/progress?campaign=abc").status_code == 404
    assert staff.get("/dashboards/progress?campaign=²").status_code == 404  # a digit to str.isdigit, not to int()


def test_the_filter_form_drops_what_a_new_campaign_or_area_makes_meaningless(app_ctx, world, db_session,
                                                                             make_version, make_agency):
    """The form sends every filter it shows: choosing an area kept the question of another area (the area was
    dropped instead, the page unchanged), and choosing another campaign kept a country or question it does not
    have (a 404). The form's choices now win and the browser lands on the clean address to share; the same
    filters typed into an address still give 404."""
    from app.campaigns import services as campaigns

    staff = client_for(app_ctx, "staff@example.org")
    first = world["campaign"]
    sent = staff.get(f"/dashboards/questions?shown={first}:&campaign={first}&area=investigation"
                     f"&question=staff_total")  # staff_total is in no area
    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/dashboards/questions?campaign={first}&area=investigation"
    page = get_json(staff, sent.headers["Location"])
    assert page["question"]["key"] == "has_ct_unit" and page["filters"]["area"] == "investigation"
    kept = staff.get(f"/dashboards/questions?shown={first}:&campaign={first}&area=investigation"
                     f"&question=skills/forensics")  # in the area: kept
    assert kept.headers["Location"] == f"/dashboards/questions?campaign={first}&area=investigation" \
                                       "&question=skills/forensics"
    # another campaign, asking only TJ: the KZ filter and the KZ profile give way to the new campaign's views
    other = campaigns.create_campaign("TJ only", make_version(), agencies=[make_agency("TJ", "DRUG")])
    campaigns.set_status(other, "open")
    db_session.commit()
    switched = staff.get(f"/dashboards/progress?shown={first}:&campaign={other.id}&country=KZ&kind=fiu")
    assert switched.headers["Location"] == f"/dashboards/progress?campaign={other.id}&kind=fiu"
    profile = staff.get(f"/dashboards/countries/KZ?shown={first}:&campaign={other.id}")
    assert profile.headers["Location"] == f"/dashboards/?campaign={other.id}"
    assert staff.get(f"/dashboards/progress?campaign={other.id}&country=KZ").status_code == 404  # typed: refused
    # the regional view compares countries: "regional bodies" carried over from another page is no filter there
    regional = get_json(staff, f"/dashboards/region?campaign={first}&country=-")
    assert {c["code"] for c in regional["countries"]} == {"KZ", "TJ"}
    # a draft staff open by its address is the campaign the form shows (it showed another, and Show went there)
    draft = campaigns.create_campaign("Draft", make_version(), agencies=[make_agency("TJ", "GKNB2")])
    db_session.commit()
    page = staff.get(f"/dashboards/progress?campaign={draft.id}").get_data(as_text=True)
    assert f'<option value="{draft.id}" selected>Draft</option>' in page


def test_question_explorer(app_ctx, world):
    staff = client_for(app_ctx, "staff@example.org")
    data = get_json(staff, "/dashboards/questions?question=has_ct_unit")
    assert {g["code"]: g["counts"] for g in data["by_country"]} == {
        "KZ": {"yes": 1, "partly": 1, "no": 0, "not_applicable": 0},
        "TJ": {"yes": 0, "partly": 0, "no": 1, "not_applicable": 0}}
    assert {g["code"]: g["counts"]["yes"] for g in data["by_kind"]} == {"fiu": 0, "interior": 1}
    assert {g["code"]: g["name"] for g in data["by_kind"]} == {  # named as the page names them
        "fiu": "Financial intelligence unit", "interior": "Ministry of internal affairs / police"}
    russian = get_json(staff, "/dashboards/questions?question=has_ct_unit", headers={"Accept-Language": "ru"})
    assert re.fullmatch(r"[А-Яа-яё ()/,-]+", {g["code"]: g["name"] for g in russian["by_kind"]}["fiu"])
    assert data["responses"] == 3  # GKNB has not submitted
    keys = [q["key"] for q in data["questions"]]
    assert "skills/interviewing" in keys and "agency_name" not in keys and "priorities" not in keys

    topics = get_json(staff, "/dashboards/questions?question=training_topics")
    kz = next(g for g in topics["by_country"] if g["code"] == "KZ")
    assert kz["counts"]["financing"] == 1 and kz["counts"]["rights"] == 1
    tj = next(g for g in topics["by_country"] if g["code"] == "TJ")
    assert tj["counts"]["dont_know"] == 1

    matrix = get_json(staff, "/dashboards/questions?question=skills/interviewing")
    assert next(g for g in matrix["by_country"] if g["code"] == "KZ")["counts"]["3"] == 1

    numbers = get_json(staff, "/dashboards/questions?question=ct_unit_staff")
    kz = next(g for g in numbers["by_country"] if g["code"] == "KZ")
    assert numbers["question"]["numeric"] and kz["values"] == [5, 20] and kz["summary"]["median"] == 12.5

    html = staff.get("/dashboards/questions?question=has_ct_unit").get_data(as_text=True)
    assert cell(row(html, "data-group", "KZ"), "data-value", "partly") == "1"
    assert '<option value="has_ct_unit" selected>' in html
    ru = client_for(app_ctx, "staff@example.org", "ru").get("/dashboards/questions?question=has_ct_unit")
    assert "Имеется ли в ведомстве специализированное подразделение?" in ru.get_data(as_text=True)
    # staff_total scores nothing, so it is in no area: the question asked for wins, the area filter goes (the
    # area's first question used to be shown in its place, the filters still naming staff_total)
    area = get_json(staff, "/dashboards/questions?area=investigation&question=staff_total")
    assert area["question"]["key"] == "staff_total" and area["filters"]["area"] is None
    assert get_json(staff, "/dashboards/questions?area=investigation&question=has_ct_unit")["filters"]["area"] \
        == "investigation"


def test_a_number_questions_table_counts_the_responses_without_an_answer(app_ctx, world, db_session):
    """The table of a number question had no "Not answered" column: KZ showed 2 responses, 1 answer and nothing
    to account for the other agency."""
    from sqlalchemy import delete

    from app.responses.models import Answer, Response

    afm = db_session.scalar(select(Response).where(Response.agency.has(acronym="AFM")))
    db_session.execute(delete(Answer).where(Answer.response_id == afm.id, Answer.question_id == "ct_unit_staff"))
    db_session.commit()
    html = client_for(app_ctx, "staff@example.org").get("/dashboards/questions?question=ct_unit_staff")
    page = html.get_data(as_text=True)
    assert "<th scope=\"col\" class=\"num\">Not answered</th>" in page
    kz, tj = row(page, "data-group", "KZ"), row(page, "data-group", "TJ")
    assert (cell(kz, "data-value", ""), cell(kz, "data-count", "skipped")) == ("1", "0")
    assert (cell(tj, "data-value", ""), cell(tj, "data-count", "skipped")) == ("0", "1")  # TJ's MVD has no unit


def test_question_explorer_counts_a_question_skip_logic_hides_as_not_applying(app_ctx, world, db_session):
    """TJ's MVD has no CT unit, so it was never asked the unit's staff: "does not apply", not "not answered", and
    a stale stored answer is not counted either (as on the review pages, in the reports and in the scores)."""
    from sqlalchemy import update

    from app.directory.models import Agency
    from app.responses.models import Answer, Response

    tj_response = db_session.scalar(select(Response.id).join(Agency, Agency.id == Response.agency_id)
                                     .where(Agency.country_id == world["tj"], Agency.acronym == "MVD"))
    db_session.add(Answer(response_id=tj_response, question_id="ct_unit_staff", value=7))
    db_session.commit()
    staff = client_for(app_ctx, "staff@example.org")
    numbers = get_json(staff, "/dashboards/questions?question=ct_unit_staff")
    groups = {g["code"]: g for g in numbers["by_country"]}
    assert (groups["TJ"]["skipped"], groups["TJ"]["values"], groups["TJ"]["summary"]["n"]) == (1, [], 0)
    assert (groups["KZ"]["skipped"], groups["KZ"]["values"]) == (0, [5, 20])
    html = staff.get("/dashboards/questions?question=ct_unit_staff").get_data(as_text=True)
    assert "Does not apply" in html and cell(row(html, "data-group", "TJ"), "data-count", "skipped") == "1"
    # no agency of the type: the numbers' tables say so, as the other tables do (they were just empty)
    nobody = staff.get("/dashboards/questions?question=ct_unit_staff&kind=prosecutor").get_data(as_text=True)
    assert nobody.count("No submitted response matches.") == 2

    db_session.execute(update(Answer).where(Answer.response_id == tj_response, Answer.question_id == "has_ct_unit")
                       .values(value="yes"))
    db_session.commit()
    groups = {g["code"]: g for g in get_json(staff, "/dashboards/questions?question=ct_unit_staff")["by_country"]}
    assert (groups["TJ"]["skipped"], groups["TJ"]["values"]) == (0, [7])


def test_data_functions_return_plain_data(app_ctx, world, db_session):
    from app.auth.models import User
    from app.campaigns.models import Campaign
    from app.dashboards import data, figures

    campaign = db_session.get(Campaign, world["campaign"])
    expert = db_session.scalar(select(User).where(User.email == "kz.expert@example.org"))
    with app_ctx.test_request_context():
        for result in (data.progress_data(campaign, expert, data.Filters()),
                       data.country_data(campaign, expert, "KZ", data.Filters()),
                       data.regional_data(campaign, expert, data.Filters()),
                       data.question_data(campaign, expert, data.Filters())):
            text = json.dumps(result, allow_nan=False)
            assert "Tajikistan" not in text
        built = figures.regional_figures(data.regional_data(campaign, expert, data.Filters(area="investigation")))
        assert set(built) == {"heatmap", "top_gaps", "spread"}
        with pytest.raises(data.NotFound):
            data.country_data(campaign, expert, "TJ")
        with pytest.raises(PermissionError):
            data.regional_data(campaign, SimpleNamespace(role="respondent"))
    db_session.rollback()


def test_no_campaign_yet(app_ctx, make_user):
    make_user("staff", email="staff@example.org")
    staff = client_for(app_ctx, "staff@example.org")
    response = staff.get("/dashboards/region")
    assert response.status_code == 200 and "No campaign" in response.get_data(as_text=True)
    assert get_json(staff, "/dashboards/progress") == {"campaign": None}


def test_an_expert_without_a_campaign_is_told_why_in_their_terms(app_ctx, world, make_user, make_country):
    """The world's campaign is open: an expert of no country, or of a country it does not ask, was told "No
    campaign has been opened yet", which is false."""
    make_country("UZ", en="Uzbekistan", ru="Узбекистан")
    make_user("expert", email="nobody.expert@example.org")
    make_user("expert", email="uz.expert@example.org", countries=["UZ"])
    for email, lang, expected in (
            ("nobody.expert@example.org", "en", "No country has been assigned to you yet."),
            ("uz.expert@example.org", "en", "No open or closed campaign asks agencies of your countries (Uzbekistan)"),
            ("uz.expert@example.org", "ru", "Ни один открытый или закрытый опрос пока не охватывает ведомства "
                                            "ваших стран (Узбекистан)")):
        page = client_for(app_ctx, email, lang=lang).get("/dashboards/region").get_data(as_text=True)
        assert expected in page and "No campaign has been opened yet" not in page, (email, lang)


def test_country_profile_and_regional_view_offer_the_excel_reports(app_ctx, world):
    import io
    import re

    import openpyxl

    expert = client_for(app_ctx, "kz.expert@example.org")
    page = expert.get("/dashboards/countries/KZ").get_data(as_text=True)
    action = re.search(r'action="(/reports/campaigns/\d+/countries/KZ\.xlsx)"', page).group(1)
    download = expert.get(action + "?lang=en")
    assert download.status_code == 200
    # The report's Summary sheet has the dashboard's figures, area by area (hidden column H: the area id).
    summary = openpyxl.load_workbook(io.BytesIO(download.data))["Summary"]
    report = {row[7]: row[1:6] for row in summary.iter_rows(min_row=2, values_only=True) if row[7]}
    dashboard = {a["id"]: tuple(a[k] for k in ("self_assessed", "expert", "assessed", "target", "gap"))
                 for a in get_json(expert, "/dashboards/countries/KZ")["areas"]}
    assert report.keys() == dashboard.keys() and any(v[2] is not None for v in dashboard.values())
    for area_id, figures in dashboard.items():
        assert report[area_id] == pytest.approx(figures, abs=0.006), area_id
    regional = expert.get("/dashboards/region").get_data(as_text=True)
    action = re.search(r'action="(/reports/campaigns/\d+/region\.xlsx)"', regional).group(1)
    assert expert.get(action).status_code == 200


def test_the_agency_type_filter_on_a_country_says_what_it_applies_to(app_ctx, world):
    """The area levels and ranked indicators are the country's figures over all its agencies: with a type of
    agency chosen, the page says so instead of letting them pass for that type's figures."""
    staff = client_for(app_ctx, "staff@example.org")
    assert 'id="kind-filter-note"' not in staff.get("/dashboards/countries/KZ").get_data(as_text=True)
    page = staff.get("/dashboards/countries/KZ?kind=fiu").get_data(as_text=True)
    assert 'id="kind-filter-note"' in page and "over all its agencies" in page
    assert get_json(staff, "/dashboards/countries/KZ?kind=fiu")["coverage"]["agencies"] == 1
    # The regional view's heatmap and largest gaps are the countries' figures too; its spread follows the type.
    assert 'id="kind-filter-note"' not in staff.get("/dashboards/region").get_data(as_text=True)
    page = staff.get("/dashboards/region?kind=fiu").get_data(as_text=True)
    assert 'id="kind-filter-note"' in page and "figures over all their agencies" in page


def test_a_figure_reads_the_same_on_the_dashboard_and_the_review_page(app_ctx, world, db_session):
    """A level of 0.225 computed as 0.22499999999999998 (binary noise) shows as 0.23 on the country dashboard
    and on the review page alike (the dashboard rounded twice with Python's round() and could differ)."""
    from app.scoring.models import CountryAreaScore

    noisy = (0.0 * 1 + 0.3 * 3) / 4
    assert noisy != 0.225
    db_session.execute(CountryAreaScore.__table__.update().where(
        CountryAreaScore.country_id == world["kz"], CountryAreaScore.area_id == "investigation").values(assessed=noisy))
    db_session.commit()
    staff = client_for(app_ctx, "staff@example.org")
    dashboard = staff.get("/dashboards/countries/KZ").get_data(as_text=True)
    assert cell(row(dashboard, "data-area", "investigation"), "data-col", "assessed") == "0.23"
    review = staff.get(f"/review/campaigns/{world['campaign']}/KZ").get_data(as_text=True)
    assert "assessed 0.23" in review


def test_a_country_the_campaign_does_not_ask_is_not_found_rather_than_shown_empty(app_ctx, world, make_country):
    """Staff too: XX (no such country) and UZ (in the directory, not asked) are 404 on every view, as on the
    review pages and the Excel report; an empty view passed for a country without answers. The regional bodies
    the campaign asks (RATS) still filter."""
    make_country("UZ", en="Uzbekistan")
    staff = client_for(app_ctx, "staff@example.org")
    for code in ("XX", "UZ"):
        for url in (f"/dashboards/progress?country={code}", f"/dashboards/region?country={code}",
                    f"/dashboards/questions?question=has_ct_unit&country={code}", f"/dashboards/countries/{code}"):
            assert staff.get(url).status_code == 404, url
    assert staff.get("/dashboards/countries/KZ").status_code == 200
    assert staff.get("/dashboards/progress?country=TJ").status_code == 200
    regional = get_json(staff, "/dashboards/progress?country=-")
    assert regional["agencies"] == 1 and [c["code"] for c in regional["countries"]] == ["-"]


def test_the_tables_give_the_quartiles_and_decimals_the_charts_draw(app_ctx, world):
    """plotly.js draws a box's quartiles at position share x n - 0.5 (its "linear" method): the tables beneath
    give the same (they gave Python's "inclusive" quartiles, 1.75 and 3.25 here, beside a box at 1.5 and 3.5);
    the gap heatmap prints two decimals as the table does (it printed one)."""
    from app.dashboards import data

    summary = data._summary([4, 1, 3, 2, None])
    assert (summary["q1"], summary["median"], summary["q3"], summary["n"]) == (1.5, 2.5, 3.5, 4)
    assert data._summary([2.0])["q1"] == 2.0 and data._summary([1, 2, 10])["q3"] == 8.0
    staff = client_for(app_ctx, "staff@example.org")
    page = staff.get("/dashboards/region").get_data(as_text=True)
    built = figures_of(page)
    assert built["heatmap"]["data"][0]["texttemplate"] == "%{z:.2~f}"
    # the largest gaps' labels go on short lines with a margin that follows them: a fixed 360-pixel margin left
    # a phone's screen no room for the bars
    largest = built["top_gaps"]
    assert largest["layout"]["margin"]["l"] <= 60 and largest["layout"]["yaxis"]["automargin"]
    assert all(len(line) <= 30 for label in largest["data"][0]["y"] for line in label.split("<br>"))
    # the quartiles are in the tables beneath the box plots (the README said so; only the JSON had them)
    kz = next(c for c in get_json(staff, "/dashboards/region")["spread"] if c["code"] == "KZ")["summary"]
    kz_row = row(page[page.index('id="table-spread"'):], "data-country", "KZ")
    assert "Lower quartile" in page and "Upper quartile" in page
    assert cell(kz_row, "data-col", "q1") == f"{kz['q1']:g}" and cell(kz_row, "data-col", "q3") == f"{kz['q3']:g}"
    numbers = staff.get("/dashboards/questions?question=ct_unit_staff").get_data(as_text=True)
    assert (cell(row(numbers, "data-group", "KZ"), "data-col", "q1"),
            cell(row(numbers, "data-group", "KZ"), "data-col", "q3")) == ("5", "20")  # of 5 and 20, as plotly draws
    assert built["spread"]["data"] and all(trace["quartilemethod"] == "linear" for trace in built["spread"]["data"])


def test_the_country_coverage_is_the_weighted_mean_of_its_areas(app_ctx, world, db_session):
    """The headline coverage is what the areas beneath it give, each weighted by the area's weight (as an
    agency's coverage is weighted): it pooled raw question weights, so a matrix outweighed whole areas and the
    headline read 42 % beside areas of 70 % and 38 %."""
    from app.campaigns.models import Campaign
    from app.questionnaires.services import definition_of
    from app.scoring.models import CountryAreaScore

    campaign = db_session.get(Campaign, world["campaign"])
    weights = {area.id: area.weight for area in definition_of(campaign.version).areas}
    rows = {row.area_id: row.coverage for row in db_session.scalars(select(CountryAreaScore).where(
        CountryAreaScore.campaign_id == campaign.id, CountryAreaScore.country_id == world["kz"]))}
    expected = sum(rows[a] * w for a, w in weights.items()) / sum(weights.values())
    db_session.rollback()
    staff = client_for(app_ctx, "staff@example.org")
    data = get_json(staff, "/dashboards/countries/KZ")
    assert data["coverage"]["overall"] == pytest.approx(expected, abs=1e-6)
    shown = {a["id"]: a["coverage"] for a in data["areas"]}
    assert min(shown.values()) <= data["coverage"]["overall"] <= max(shown.values())
    html = staff.get("/dashboards/countries/KZ").get_data(as_text=True)
    assert f'<dd id="coverage-overall">{round(expected * 100)}%</dd>' in html


def test_the_deadline_is_said_in_days_left_or_late_and_not_for_a_closed_campaign(app_ctx, world, db_session):
    """"Days to the deadline: -48" on a campaign closed long ago: the figure now reads "48 days late" while the
    campaign is open, and is not shown once it is closed, as on the progress overview."""
    from app.campaigns import services as campaigns
    from app.campaigns.models import Campaign
    from app.i18n import local_today

    staff = client_for(app_ctx, "staff@example.org")
    late = (local_today() - date(2026, 3, 31)).days
    html = staff.get("/dashboards/progress").get_data(as_text=True)
    assert f'<dd data-days="{-late}">{late} days late</dd>' in html and "Days to the deadline" not in html
    campaigns.set_status(db_session.get(Campaign, world["campaign"]), "closed")
    db_session.commit()
    closed = staff.get(f"/dashboards/progress?campaign={world['campaign']}").get_data(as_text=True)
    assert "days late" not in closed and "data-days" not in closed
