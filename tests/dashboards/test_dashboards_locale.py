"""Dashboards in the reader's language beyond the texts: plotly.js's own hover labels of box plots, dates in the
locale's order, numbers without SI suffixes or long decimals, grouped thousands in the tables, and a y-axis title
short enough for the chart."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.dashboards.test_dashboards import client_for, figures_of, row
from tests.dashboards.test_dashboards import world as world  # noqa: PLC0414 - the fixture, reused

BUNDLE = ROOT / "app" / "static" / "vendor" / "plotly" / "plotly-cartesian.min.js"


def plotly_config_of(html: str) -> dict:
    """The plotly.js configuration a dashboard page gives its charts."""
    found = re.search(r'<script type="application/json" id="plotly-config">(.*?)</script>', html, re.S)
    assert found, "no plotly configuration on the page"
    return json.loads(found.group(1))


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_box_plot_hover_labels_and_date_formats_are_the_bundles_keys(app_ctx, world, lang):
    html = client_for(app_ctx, "staff@example.org", lang).get("/dashboards/region").get_data(as_text=True)
    locale = plotly_config_of(html)["locales"][lang]
    bundle = BUNDLE.read_text(encoding="utf-8")
    box_labels = ("min:", "q1:", "median:", "q3:", "max:", "mean:", "lower fence:", "upper fence:")
    for key in box_labels:
        assert f'"{key}"' in bundle, key  # the text plotly.js looks up, so the translation is used
        assert locale["dictionary"][key], key
    assert '["year","month","dayMonth","dayMonthYear"]' in bundle  # the date formats a locale may give
    formats = locale["format"]
    assert formats["year"] == "%Y" and formats["month"] == "%b %Y"
    if lang == "ru":
        # "1 нояб.", "18 нояб. 2026", never "нояб. 1" or "нояб. 18, 2026"
        assert formats["dayMonth"] == "%-d %b" and formats["dayMonthYear"] == "%-d %b %Y"
        # The statistics already named in the question explorer's table, now also in the hover labels.
        assert locale["dictionary"]["median:"] == "Медиана:" and locale["dictionary"]["min:"] == "Минимум:"
        assert locale["dictionary"]["max:"] == "Максимум:" and locale["dictionary"]["mean:"] == "Среднее:"
    else:
        assert formats["dayMonth"] == "%b %-d" and formats["dayMonthYear"] == "%b %-d, %Y"
        assert locale["dictionary"]["q1:"] == "Lower quartile:" and locale["dictionary"]["q3:"] == "Upper quartile:"
        assert locale["dictionary"]["lower fence:"] == "Lowest without outliers:"
        assert locale["dictionary"]["upper fence:"] == "Highest without outliers:"
        assert locale["dictionary"]["min:"] == "Lowest:" and locale["dictionary"]["median:"] == "Median:"


def test_levels_are_hovered_with_two_decimals(app_ctx, world):
    staff = client_for(app_ctx, "staff@example.org")
    spread = figures_of(staff.get("/dashboards/region").get_data(as_text=True))["spread"]
    assert spread["layout"]["yaxis"]["hoverformat"] == ".2f"  # the box's median, quartiles... not "1.63385"
    areas = figures_of(staff.get("/dashboards/countries/KZ").get_data(as_text=True))["areas"]
    assert areas["layout"]["yaxis"]["hoverformat"] == ".2f"


@pytest.fixture
def large_numbers(world, db_session):
    """The units' staff of the two Kazakh agencies become 12369 and 8586.5."""
    from app.responses.models import Answer

    for answer in db_session.scalars(select(Answer).where(Answer.question_id == "ct_unit_staff")):
        answer.value = {20: 12369, 5: 8586.5}.get(answer.value, answer.value)
    db_session.commit()
    return world


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["2", "8,586.5", "10,477.75", "12,369", "10,477.75"]),
    ("ru", ["2", "8\xa0586,5", "10\xa0477,75", "12\xa0369", "10\xa0477,75"]),
])
def test_numbers_answered_are_grouped_alike(app_ctx, large_numbers, lang, expected):
    html = client_for(app_ctx, "staff@example.org", lang).get(
        "/dashboards/questions?question=ct_unit_staff").get_data(as_text=True)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row(html, "data-group", "KZ"))
    assert cells[:5] == expected  # answers, lowest, median, highest, mean
    figure = figures_of(html)["by_country"]
    axis = figure["layout"]["yaxis"]
    assert axis["tickformat"] == ",~f"  # 12,000 rather than plotly's "12k"
    assert axis["hoverformat"] == ",.2~f"  # 8,586.5 and 1.63 rather than "8.5865k" or "1.63385"


@pytest.mark.parametrize(("lang", "title"), [("en", "Submitted in all"), ("ru", "Представлено всего")])
def test_the_progress_chart_axis_title_fits(app_ctx, world, lang, title):
    html = client_for(app_ctx, "staff@example.org", lang).get("/dashboards/progress").get_data(as_text=True)
    axis_title = figures_of(html)["submissions"]["layout"]["yaxis"]["title"]["text"]
    assert axis_title == title  # the same words as the table's column beneath the chart
    assert len(axis_title) <= 25  # «Представлено анкет (нарастающим итогом)» was cut off at the chart's height
    assert f">{title}</th>" in html


def test_no_double_period_after_a_russian_date(app_ctx, world):
    """A Russian date ends with «г.», which also ends the sentence: «Срок представления: 31 мар. 2026 г.», never
    «г..». (Passes once the corrected Russian of "Deadline: %(date)s." is in the catalogue.)"""
    html = client_for(app_ctx, "staff@example.org", "ru").get("/dashboards/progress").get_data(as_text=True)
    assert "Срок представления: 31 мар. 2026" in html
    assert "г.." not in html
