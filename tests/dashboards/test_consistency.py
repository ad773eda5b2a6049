"""The same figure is the same wherever it appears: percentages rounded half up like every other figure, one
definition of an agency's coverage, rankings that do not depend on the noise of binary arithmetic, figures
rounded once (not to four decimals, then to two), and a whole table answered "not applicable" counted in every
one of its rows, on the dashboards, the review pages, the reports and the raw export."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select, update

from tests.conftest import ROOT, sign_in

SCORING = ROOT / "tests" / "data" / "scoring_questionnaire.yaml"
ANSWERS = {
    # the whole skills table "not applicable"; strategy "don't know"
    "POL": {"agency_type": "police", "law_status": "adopted", "has_strategy": "dont_know",
            "skills": "not_applicable", "unit_functions": ["investigation"], "analysts": 3,
            "equipment_state": 2},
    "BRD": {"agency_type": "border", "law_status": "draft", "has_strategy": "yes", "strategy_plan": "yes",
            "skills": {"documents": 2, "interviews": 3, "forensics": 1}, "digital_sop": "yes"},
}


@pytest.fixture
def world(app_ctx, db_session, make_country, make_version, make_agency, make_user):
    from app.campaigns import services as campaigns
    from app.responses import answering
    from app.responses.services import ensure_response

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    agencies = {key: make_agency("KZ", key, en=f"Agency {key}") for key in ANSWERS}
    campaign = campaigns.create_campaign("Round 1", make_version(SCORING), agencies=list(agencies.values()),
                                         deadline=date(2030, 3, 31))
    campaigns.set_status(campaign, "open")
    responses = {}
    for key, values in ANSWERS.items():
        response = ensure_response(campaign, agencies[key])
        result = answering.save_answers(response, values, actor=None, channel="cli", lang="en")
        assert result.ok, result.errors
        answering.submit(response, actor=None, lang="en")
        responses[key] = response.id
    make_user("staff", email="staff@example.org")
    db_session.commit()
    client = app_ctx.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, "staff@example.org")
    return {"campaign": campaign.id, "responses": responses, "client": client}


def _sheet(client, url: str, name: str) -> list[tuple]:
    """The rows of one sheet of a downloaded workbook."""
    answer = client.get(url)
    try:
        assert answer.status_code == 200, url
        book = openpyxl.load_workbook(io.BytesIO(answer.get_data()))
    finally:
        answer.close()
    try:
        return [tuple(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


def test_percentages_are_rounded_half_up_like_every_figure(app_ctx, db_session):
    from app.responses.models import Response
    from app.scoring.engine import percent

    assert [percent(share) for share in (0.925, 0.625, 0.125, 0.9249, 0.005, 1.0, 0.0)] == [93, 63, 13, 92, 1, 100, 0]
    assert percent(None) is None
    response = Response(status="in_progress")
    response.required_answered, response.required_total = 1, 8  # 12.5 %: Excel's "0%" shows 13 %
    assert response.percent_required == 13


def test_a_table_not_applicable_as_a_whole_counts_in_every_row(world):
    """Scores count every row of a table answered "not applicable" as a whole: so do the question explorer (each
    row's distribution) and the raw export (each row's column)."""
    client = world["client"]
    for row in ("documents", "interviews", "forensics"):
        data = client.get(f"/dashboards/questions?campaign={world['campaign']}&question=skills/{row}"
                          "&format=json").get_json()
        (kz,) = data["by_country"]
        assert kz["responses"] == 2 and kz["answered"] == 2, row
        assert kz["counts"]["not_applicable"] == 1, row
    header, *rows = [list(row) for row in _sheet(client, f"/exports/campaigns/{world['campaign']}/raw"
                                                         "?format=xlsx&codes=1", "Data")]
    police = dict(zip(header, next(r for r in rows if r[0] == world["responses"]["POL"]), strict=True))
    border = dict(zip(header, next(r for r in rows if r[0] == world["responses"]["BRD"]), strict=True))
    assert [police[f"skills__{row}"] for row in ("documents", "interviews", "forensics")] == ["not_applicable"] * 3
    assert [border[f"skills__{row}"] for row in ("documents", "interviews", "forensics")] == [2, 3, 1]
    # With labels instead of codes: the label in every row, never the code.
    header, *rows = _sheet(client, f"/exports/campaigns/{world['campaign']}/raw?format=xlsx&codes=0", "Data")
    police = dict(zip(header, next(r for r in rows if r[0] == world["responses"]["POL"]), strict=True))
    assert [police[f"skills__{row}"] for row in ("documents", "interviews", "forensics")] == ["Not applicable"] * 3


def test_an_unknown_question_in_the_explorer_is_a_404_not_another_question(world):
    """A shared link with a mistyped question id used to show the first question instead, without a word."""
    client = world["client"]
    for suffix in ("", "&format=json"):
        refused = client.get(f"/dashboards/questions?campaign={world['campaign']}&question=skils/documents{suffix}")
        assert refused.status_code == 404
    page = client.get(f"/dashboards/questions?campaign={world['campaign']}&question=skils").get_data(as_text=True)
    assert "has no question “skils” whose answers can be counted" in page
    assert client.get(f"/dashboards/questions?campaign={world['campaign']}&question=skills/documents").status_code \
        == 200


def test_an_agencys_coverage_on_the_review_page_is_the_scores_coverage(world, db_session):
    """The review page's "coverage of indicators" of an agency is the coverage the scores define (indicators and
    areas weighted: the overall figure), not a plain mean of its indicators' coverages."""
    from app.scoring.engine import percent
    from app.scoring.models import ResponseAreaScore, ResponseScore
    from app.scoring.store import OVERALL

    page = world["client"].get(f"/review/campaigns/{world['campaign']}/KZ").get_data(as_text=True)
    shown = dict(re.findall(r'">(POL|BRD)</a>.*?<td class="num">\d+%</td>\s*<td class="num">(\d+)%</td>', page,
                            re.S))
    for key in ("POL", "BRD"):
        response_id = world["responses"][key]
        overall = db_session.scalar(select(ResponseAreaScore.coverage).where(
            ResponseAreaScore.response_id == response_id, ResponseAreaScore.area_id == OVERALL))
        assert shown[key] == str(percent(overall)), key
    coverages = list(db_session.scalars(select(ResponseScore.coverage).where(
        ResponseScore.response_id == world["responses"]["POL"])))
    plain = percent(sum(coverages) / len(coverages))
    assert shown["POL"] != str(plain)  # the two definitions differ for this agency: the page shows the first


def test_rankings_and_figures_agree_between_the_dashboard_and_the_report(world, db_session):
    """Two priorities equal but for binary noise tie, and the larger gap ranks first, on the dashboard and in
    the gap report; a level of 1.544973 shows as 1.54 everywhere (rounded once, not 1.5450 and then 1.55)."""
    from app.directory.models import Country
    from app.scoring.models import CountryScore

    kz = db_session.scalar(select(Country.id).where(Country.code == "KZ"))
    figures = {"law": {"gap": 17 / 18, "priority": 3.777777777777778, "self_assessed": 292 / 189},
               "training": {"gap": 17 / 9, "priority": 3.777777777777777}}
    for indicator_id, values in figures.items():
        db_session.execute(update(CountryScore).where(CountryScore.campaign_id == world["campaign"],
                                                      CountryScore.country_id == kz,
                                                      CountryScore.indicator_id == indicator_id).values(**values))
    db_session.commit()
    client = world["client"]
    data = client.get(f"/dashboards/countries/KZ?campaign={world['campaign']}&format=json").get_json()
    ranked = [i["id"] for i in data["indicators"]]
    assert ranked.index("training") < ranked.index("law")
    law = next(i for i in data["indicators"] if i["id"] == "law")
    assert law["self_assessed"] == 1.54 and law["priority"] == 3.78
    page = client.get(f"/dashboards/countries/KZ?campaign={world['campaign']}").get_data(as_text=True)
    law_row = re.search(r'<tr data-indicator="law">.*?</tr>', page, re.S).group(0)
    assert ">1.54<" in law_row and ">1.55<" not in law_row
    region = client.get(f"/dashboards/region?campaign={world['campaign']}&format=json").get_json()
    top = [g["indicator_id"] for g in region["top_gaps"]]
    assert top.index("training") < top.index("law")

    rows = _sheet(client, f"/reports/campaigns/{world['campaign']}/countries/KZ.xlsx?lang=en", "Indicators")
    titles = [cell for row in rows for cell in row if cell in ("Training", "CT law")]
    assert titles.index("Training") < titles.index("CT law")
    rows = _sheet(client, f"/reports/campaigns/{world['campaign']}/region.xlsx?lang=en", "Largest gaps")
    titles = [cell for row in rows for cell in row if cell in ("Training", "CT law")]
    assert titles.index("Training") < titles.index("CT law")
