"""`flask scores rebuild`: recompute the materialized scores from the answers."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.cli_options import RECORD_ID
from app.extensions import db
from app.scoring import store

scores_cli = AppGroup("scores", help="Materialized scores.")


@scores_cli.command("rebuild")
@click.option("--campaign", "campaign_id", type=RECORD_ID, help="Only this campaign (default: all).")
def rebuild(campaign_id: int | None):
    """Recompute every response's and country's scores from the answers, expert ratings and targets."""
    counts = store.rebuild(campaign_id)
    if campaign_id and not counts["campaigns"]:
        raise click.ClickException(f"no campaign with id {campaign_id} (see `flask campaigns list`)")
    db.session.commit()
    click.echo(f"{counts['campaigns']} campaign(s), {counts['responses']} scored response(s), "
               f"{counts['countries']} country figure set(s) rebuilt")
