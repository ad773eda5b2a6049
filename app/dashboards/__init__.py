"""Dashboards: plotly figures of a campaign's progress, country profiles, the regional view and answers.

- `data.py`: one function per view that reads the materialized scores (and, for the question explorer and
  the "priorities" texts, the answers of one question) within the actor's scope and returns plain dicts;
- `figures.py`: plotly figures built from those dicts (no database);
- `views.py`: the pages (and their data as JSON with `?format=json`).
"""
