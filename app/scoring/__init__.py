"""Scoring and gaps: pure functions from answers to indicator, area and country levels, gaps and priorities.

Everything is documented in `app.scoring.engine` (rules, coverage, rounding); this package re-exports it.
"""

from app.scoring.engine import (
    AGGREGATIONS,
    ITEM_STATUSES,
    AreaScore,
    CountryArea,
    CountryIndicator,
    IndicatorScore,
    ItemScore,
    Rating,
    area_scores,
    country_area_scores,
    country_scores,
    country_targets,
    gap,
    latest_rating,
    priority,
    ranked_priorities,
    response_scores,
    round_score,
    scoring_items,
    weighted_mean,
)

__all__ = [
    "AGGREGATIONS",
    "ITEM_STATUSES",
    "AreaScore",
    "CountryArea",
    "CountryIndicator",
    "IndicatorScore",
    "ItemScore",
    "Rating",
    "area_scores",
    "country_area_scores",
    "country_scores",
    "country_targets",
    "gap",
    "latest_rating",
    "priority",
    "ranked_priorities",
    "response_scores",
    "round_score",
    "scoring_items",
    "weighted_mean",
]
