"""A watch that runs in Lambda on a schedule, outside Prefect: a decision recorded while Prefect is down cannot be
seen by Prefect's own automations, nor by reconciliation (a Prefect flow), so this tells the platform operator and
the coordinator when one has waited over an hour (services/alerts.py; once per decision)."""
from __future__ import annotations

import logging

from chalice import Blueprint, Rate

from chalicelib import bootstrap
from chalicelib.adapters.logs import configure_logging

log = logging.getLogger(__name__)

watch = Blueprint(__name__)


@watch.schedule(Rate(15, unit=Rate.MINUTES), name="watch_decisions")
def watch_decisions(event) -> dict:
    # Lambda imports this module as the handler, not app.py: the JSON log lines (with their redaction) are set here.
    configure_logging()
    container = bootstrap.container()
    told, failed = {}, []
    for force_id in container.forces.ids():
        try:
            told[force_id] = container.alerts.watch(force_id)
        except Exception:
            log.exception("%s: undelivered decisions not checked", force_id)
            failed.append(force_id)
    if failed:
        raise RuntimeError(f"undelivered decisions not checked for {', '.join(failed)}")
    return told
