"""Plotly figures of the dashboards, built from the plain data of app.dashboards.data (no database).

Each `*_figures(data)` returns {name: plotly figure as a dict}; `figure_json` serialises one for a
`<script type="application/json">` element that app/static/js/dashboards.js draws (the Content-Security-Policy
forbids inline scripts, and plotly.js is served from app/static/vendor/plotly, never from a CDN). Labels are
in the current locale (the request's), texts from the questionnaire and the directory come translated in the
data. Chart titles are not drawn inside the figures: each page gives the chart a heading, and a data table or
a text summary beneath it for screen readers.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import plotly.graph_objects as go

from app.i18n import _, format_decimal

#: Colours of the response statuses (readable on white, distinguishable with common colour blindness).
STATUS_COLOURS = {"not_started": "#bdbdbd", "in_progress": "#e69f00", "submitted": "#56b4e9",
                  "returned": "#d55e00", "validated": "#009e73"}
#: Okabe-Ito palette for categories.
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000", "#999999"]
SERIES_COLOURS = {"self_assessed": "#56b4e9", "expert": "#e69f00", "target": "#009e73", "gap": "#d55e00"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
#: d3 formats of levels, gaps and priorities in hover labels (plotly's default shows every decimal, "1,63385").
LEVEL_HOVER = ".2f"
#: d3 formats of the numbers people answered: ticks as whole numbers or short decimals with grouped thousands
#: ("12 000", not plotly's "12k"), hover labels with at most two decimals ("8 586,5").
NUMBER_TICKS = ",~f"
NUMBER_HOVER = ",.2~f"


def status_labels() -> dict[str, str]:
    """The response statuses in the current language."""
    return {"not_started": _("not started"), "in_progress": _("in progress"), "submitted": _("submitted"),
            "returned": _("returned"), "validated": _("validated")}


def category_label(category: dict) -> str:
    """The label of an answer category of the question explorer (yes/no and special answers translated)."""
    fixed = {"yes": _("Yes"), "no": _("No"), "partly": _("Partly"), "not_applicable": _("Not applicable"),
             "dont_know": _("Don't know")}
    return category.get("label") or fixed.get(category["value"], category["value"])


def kind_label(code: str) -> str:
    """An agency type in the current language."""
    from app.directory.labels import agency_type_label

    return agency_type_label(code)


def figure_json(figure: dict) -> str:
    """A figure as JSON that is safe inside a <script> element (no "<", ">" or "&" characters)."""
    text = json.dumps(figure, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(text: str | None) -> str:
    """User text for plotly labels, which read a few HTML tags: shown literally, never as markup."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(text: str, width: int = 18, lines: int = 3) -> str:
    """A label on up to `lines` lines of about `width` characters (plotly breaks lines at <br>), escaped."""
    out: list[str] = []
    for word in (text or "").split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = _short(out[-1] + " …", width)
    return "<br>".join(_plain(line) for line in out)


def _count_axis(title: str, largest: int) -> dict:
    """A y axis of counts: whole numbers only."""
    axis = {"title": {"text": title}, "rangemode": "tozero", "gridcolor": "#eaeef2", "tickformat": "d"}
    if largest <= 10:
        axis["dtick"] = 1
    return axis


def _number(value: float) -> str:
    return format_decimal(round(float(value), 2), format="0.##")


def _layout(**overrides) -> dict:
    layout = {"template": "none", "font": {"family": FONT, "size": 13, "color": "#1f2328"},
              "margin": {"l": 60, "r": 20, "t": 40, "b": 60}, "height": 380, "hoverlabel": {"namelength": -1},
              "legend": {"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom"},
              "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff"}
    layout.update(overrides)
    for axis in ("xaxis", "yaxis"):  # long category names (rotated agency types) widen the margin, never clipped
        layout[axis] = {"automargin": True, **layout.get(axis, {})}
    return layout


#: Fill patterns of the categories after the first len(PALETTE): a bar of the tenth category differs from the
#: first by its stripes, not only by a colour that has come round again.
PATTERNS = ["", "/", ".", "x", "\\", "+", "-", "|"]


def category_marker(n: int) -> dict:
    """The marker of the n-th category (from 0): the palette's colours, then the same with a pattern."""
    marker: dict = {"color": PALETTE[n % len(PALETTE)]}
    shape = PATTERNS[(n // len(PALETTE)) % len(PATTERNS)]
    if shape:
        marker["pattern"] = {"shape": shape, "fgcolor": "#ffffff" if n % len(PALETTE) in (0, 7) else "#1f2328",
                             "solidity": 0.35}
    return marker


def _done(figure: go.Figure) -> dict:
    return figure.to_plotly_json()


# --- campaign progress ---------------------------------------------------------------------------------


def progress_figures(data: dict) -> dict[str, dict]:
    """Stacked bars of responses by status per country; cumulative submissions with a deadline marker."""
    labels = status_labels()
    names = [_plain(c["name"] or _("Regional bodies")) for c in data["countries"]]
    largest = max([c["total"] for c in data["countries"]] or [0])
    status = go.Figure(layout=_layout(barmode="stack", xaxis={"title": {"text": _("Country")}},
                                      yaxis=_count_axis(_("Agencies"), largest)))
    for code in data["statuses"]:
        status.add_trace(go.Bar(x=names, y=[c["counts"].get(code, 0) for c in data["countries"]],
                                name=labels.get(code, code), marker={"color": STATUS_COLOURS.get(code)},
                                hovertemplate="%{x}: %{y}<extra>" + labels.get(code, code) + "</extra>"))

    points = data["submissions"]
    deadline = data["campaign"]["deadline"]
    submissions = go.Figure(layout=_layout(
        showlegend=True, xaxis={"title": {"text": _("Date")}, "type": "date", "gridcolor": "#eaeef2"},
        yaxis={**_count_axis(_("Submitted in all"), data["agencies"]),
               "range": [0, max(data["agencies"], 1) * 1.05]}))
    x = [p["date"] for p in points]
    y = [p["cumulative"] for p in points]
    if data["campaign"]["opens_on"] and (not x or data["campaign"]["opens_on"] < x[0]):
        x, y = [data["campaign"]["opens_on"], *x], [0, *y]
    submissions.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", line={"shape": "hv", "color": PALETTE[0]},
                                     name=_("Submitted"), hovertemplate="%{x}: %{y}<extra></extra>"))
    end = max([deadline, *x]) if deadline else (x[-1] if x else None)  # submissions may come after the deadline
    submissions.add_trace(go.Scatter(x=[x[0] if x else deadline, end],
                                     y=[data["agencies"], data["agencies"]], mode="lines", name=_("Agencies asked"),
                                     line={"dash": "dot", "color": "#999999"}, hoverinfo="skip"))
    if deadline:
        first, last = date.fromisoformat(min([deadline, *x])), date.fromisoformat(end)
        pad = timedelta(days=max(2, (last - first).days // 30))
        submissions.update_xaxes(range=[(first - pad).isoformat(), (last + pad).isoformat()])
        submissions.add_trace(go.Scatter(x=[deadline, deadline], y=[0, max(data["agencies"], 1)], mode="lines",
                                         name=_("Deadline"), line={"dash": "dash", "color": "#d55e00", "width": 2},
                                         hovertemplate=_("Deadline") + ": %{x}<extra></extra>"))
    return {"status": _done(status), "submissions": _done(submissions)}


# --- country profile -----------------------------------------------------------------------------------


def country_figures(data: dict) -> dict[str, dict]:
    """Area levels (grouped bars), indicator gaps ranked by priority, agencies x indicators, coverage."""
    scale = data["scale"]
    level_axis = {"range": [scale["min"], scale["max"]], "dtick": 1, "gridcolor": "#eaeef2",
                  "hoverformat": LEVEL_HOVER, "title": {"text": _("Level")}}
    areas = data["areas"]
    area_names = [_wrap(a["title"]) for a in areas]
    levels = go.Figure(layout=_layout(barmode="group", yaxis=level_axis, xaxis={"automargin": True}))
    for key, name in (("self_assessed", _("Self-assessed")), ("expert", _("Expert")), ("target", _("Target"))):
        levels.add_trace(go.Bar(x=area_names, y=[a[key] for a in areas], name=name,
                                marker={"color": SERIES_COLOURS[key]},
                                hovertemplate="%{x}: %{y:.2f}<extra>" + name + "</extra>"))

    ranked = [i for i in data["indicators"] if i["gap"]]
    # Labels on two short lines and a margin that follows them (a fixed 300-pixel margin left a phone's screen
    # no room for the bars).
    ranked_names = [_wrap(i["title"], 26, 2) for i in ranked]
    gaps = go.Figure(layout=_layout(
        height=max(220, 60 + 40 * len(ranked)), margin={"l": 10, "r": 20, "t": 10, "b": 50}, showlegend=False,
        xaxis={"title": {"text": _("Gap (target − assessed level)")}, "rangemode": "tozero", "gridcolor": "#eaeef2"},
        yaxis={"autorange": "reversed", "automargin": True}))
    gaps.add_trace(go.Bar(x=[i["gap"] for i in ranked], y=ranked_names, orientation="h",
                          marker={"color": SERIES_COLOURS["gap"]}, customdata=[[i["priority"]] for i in ranked],
                          hovertemplate="%{y}<br>" + _("Gap") + ": %{x:.2f}<br>" + _("Priority")
                          + ": %{customdata[0]:.2f}<extra></extra>"))

    heat = data["heatmap"]
    agencies = [_plain(a["acronym"]) for a in heat["agencies"]]
    indicator_names = [_plain(_short(i["title"], 30)) for i in heat["indicators"]]
    heatmap = go.Figure(layout=_layout(
        height=260 + 34 * len(agencies), margin={"l": 90, "r": 20, "t": 10, "b": 20},
        xaxis={"tickangle": -40, "automargin": True}, yaxis={"autorange": "reversed", "automargin": True},
        plot_bgcolor="#f3f4f6"))
    heatmap.add_trace(go.Heatmap(z=heat["levels"], x=indicator_names, y=agencies, zmin=scale["min"],
                                 zmax=scale["max"], colorscale=[[0, "#deebf7"], [1, "#08306b"]], xgap=2, ygap=2,
                                 colorbar={"title": {"text": _("Level")}, "dtick": 1},
                                 hovertemplate="%{y} · %{x}: %{z:.2~f}<extra></extra>"))

    coverage = go.Figure(layout=_layout(showlegend=False, yaxis={"range": [0, 100], "ticksuffix": "%",
                                                                 "title": {"text": _("Coverage")},
                                                                 "gridcolor": "#eaeef2"}))
    coverage.add_trace(go.Bar(x=area_names, y=[None if a["coverage"] is None else round(100 * a["coverage"], 1)
                                               for a in areas], marker={"color": PALETTE[0]},
                              hovertemplate="%{x}: %{y:.0f}%<extra></extra>"))
    return {"areas": _done(levels), "gaps": _done(gaps), "heatmap": _done(heatmap), "coverage": _done(coverage)}


# --- regional view -------------------------------------------------------------------------------------


def regional_figures(data: dict) -> dict[str, dict]:
    """Countries x areas gaps (with the regional average row), the largest gaps, agency levels per country."""
    areas = [_wrap(a["title"]) for a in data["areas"]]
    rows = [_plain(c["name"]) for c in data["countries"]]
    z = list(data["heatmap"]["gaps"])
    if data["heatmap"]["average"] is not None:
        rows.append(_("Regional average"))
        z.append(data["heatmap"]["average"])
    span = data["scale"]["max"] - data["scale"]["min"]
    heatmap = go.Figure(layout=_layout(
        height=140 + 40 * len(rows), margin={"l": 140, "r": 20, "t": 10, "b": 20},
        xaxis={"automargin": True, "side": "bottom"}, yaxis={"autorange": "reversed", "automargin": True},
        plot_bgcolor="#f3f4f6"))
    # Light to mid red only, with black figures: every cell's number reads at 4.5:1 or more (WCAG 1.4.3).
    heatmap.add_trace(go.Heatmap(z=z, x=areas, y=rows, zmin=0, zmax=span,
                                 colorscale=[[0, "#fff5f0"], [0.5, "#fcae91"], [1, "#fb6a4a"]], xgap=2, ygap=2,
                                 texttemplate="%{z:.2~f}", textfont={"size": 12, "color": "#000000"},
                                 colorbar={"title": {"text": _("Gap")}, "dtick": 1},
                                 hovertemplate="%{y} · %{x}: %{z:.2~f}<extra></extra>"))

    top = data["top_gaps"]
    labels = [_wrap(f"{t['country_name']} — {t['indicator']}", 28, 3) for t in top]
    largest = go.Figure(layout=_layout(
        height=max(220, 60 + 50 * len(top)), margin={"l": 10, "r": 20, "t": 10, "b": 50}, showlegend=False,
        xaxis={"title": {"text": _("Gap")}, "rangemode": "tozero", "gridcolor": "#eaeef2"},
        yaxis={"autorange": "reversed", "automargin": True}))
    largest.add_trace(go.Bar(x=[t["gap"] for t in top], y=labels, orientation="h",
                             marker={"color": SERIES_COLOURS["gap"]}, customdata=[[t["priority"]] for t in top],
                             hovertemplate="%{y}<br>" + _("Gap") + ": %{x:.2f}<br>" + _("Priority")
                             + ": %{customdata[0]:.2f}<extra></extra>"))

    scale = data["scale"]
    spread = go.Figure(layout=_layout(showlegend=False, yaxis={"range": [scale["min"], scale["max"]], "dtick": 1,
                                                               "title": {"text": _("Agency level")},
                                                               "hoverformat": LEVEL_HOVER, "gridcolor": "#eaeef2"}))
    for n, country in enumerate(data["spread"]):
        spread.add_trace(go.Box(y=[a["level"] for a in country["agencies"]], name=_plain(country["name"]),
                                text=[_plain(a["acronym"]) for a in country["agencies"]], boxpoints="all",
                                jitter=0.3, pointpos=0, quartilemethod="linear",
                                marker={"color": PALETTE[n % len(PALETTE)]},
                                hovertemplate="%{text}: %{y:.2f}<extra></extra>"))
    average = data.get("average")
    if average and average["level"] is not None:
        spread.add_hline(y=average["level"], line={"dash": "dash", "color": "#444444", "width": 1.5},
                         annotation={"text": _("Regional average") + ": " + _number(average["level"]),
                                     "xanchor": "right", "x": 1, "font": {"size": 12}})
    return {"heatmap": _done(heatmap), "top_gaps": _done(largest), "spread": _done(spread)}


# --- question explorer ---------------------------------------------------------------------------------


def question_figures(data: dict) -> dict[str, dict]:
    """The answers to one question by country and by agency type (stacked counts, or boxes for numbers)."""
    if data["question"] is None:
        return {}
    out = {}
    for name, groups, label in (("by_country", data["by_country"], lambda g: g["name"] or _("Regional bodies")),
                                ("by_kind", data["by_kind"], lambda g: kind_label(g["code"]))):
        names = [_plain(label(g)) for g in groups]
        if data["question"]["numeric"]:
            figure = go.Figure(layout=_layout(showlegend=False, yaxis={
                "title": {"text": _("Answer")}, "gridcolor": "#eaeef2", "tickformat": NUMBER_TICKS,
                "hoverformat": NUMBER_HOVER}))
            for n, g in enumerate(groups):
                figure.add_trace(go.Box(y=g["values"], name=names[n], boxpoints="all", jitter=0.3, pointpos=0,
                                        quartilemethod="linear", marker={"color": PALETTE[n % len(PALETTE)]}))
        else:
            mode = "group" if data["question"]["type"] == "multiple_choice" else "stack"
            counts = [sum(g["counts"].values()) if mode == "stack" else max(g["counts"].values() or [0])
                      for g in groups]
            # the legend above the bars takes a line per answer on a phone: the chart grows with it
            figure = go.Figure(layout=_layout(barmode=mode, yaxis=_count_axis(_("Agencies"), max(counts or [0])),
                                              height=380 + 22 * max(0, len(data["categories"]) - 3),
                                              margin={"l": 60, "r": 20, "b": 60,
                                                      "t": 40 + 22 * max(0, len(data["categories"]) - 3)}))
            for n, category in enumerate(data["categories"]):
                text = _plain(_short(category_label(category), 36))  # whole in the table beneath; fits a phone
                figure.add_trace(go.Bar(x=names, y=[g["counts"].get(category["value"], 0) for g in groups],
                                        name=text, marker=category_marker(n),
                                        hovertemplate="%{x}: %{y}<extra>" + text + "</extra>"))
        out[name] = _done(figure)
    return out
