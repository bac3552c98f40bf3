"""Flow runs started by `serve` fork from a warm process instead of starting a new interpreter.

Prefect 3.8's runner starts each run of a served flow with multiprocessing's "spawn": a fresh Python that imports
prefect, the flow module and chalicelib again, about 3 s of CPU per run on these machines, so a campaign surge
was bound by imports (200 applications = 600 CPU s). Here "spawn" in prefect.flow_engine means a forkserver
that has imported all that once: each run is a fork of it, its own process as before (a run still cannot take
the runner down; cancellation and limits work on its pid), ready in milliseconds. Only the local stack's
`python -m flows.serve` uses this; the run itself is unchanged (it sets its environment and settings afresh).
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.context
from types import ModuleType

# What every run imports: loaded once in the forkserver, shared by its forks.
PRELOAD = ["prefect.flow_engine", "prefect.flows", "prefect.tasks", "prefect.flow_runs", "prefect.input",
           "flows.review", "flows.housekeeping", "flows.callouts", "flows.strategic", "flows.reports",
           "flows.retention", "flows.member_life", "chalicelib.bootstrap",
           "flows.warm_start_preload"]  # last: runs warm() once everything is imported


def warm() -> None:
    """In the forkserver, once: what every run would otherwise build again (profiled under a surge, most of a
    run's CPU): the app's container with its force profiles loaded and checked, and a DynamoDB client for each
    pynamodb model and the default boto3 session's clients (botocore parses large JSON models for each). Forks
    inherit them; clients hold no connection yet, so each run opens its own. Anything that fails here is simply
    built by the run, as before."""
    import logging

    try:
        from chalicelib import bootstrap

        bootstrap.container().warm()
    except Exception:  # a warm-up only: runs build what is missing themselves
        logging.getLogger(__name__).warning("warm start: could not prepare the runs' clients", exc_info=True)


class _SpawnMeansWarmFork(ModuleType):
    """Stands in for `multiprocessing` inside prefect.flow_engine; everything but get_context("spawn") passes through."""

    def __init__(self, context: multiprocessing.context.BaseContext):
        super().__init__("multiprocessing")
        self._context = context

    def __getattr__(self, name: str):
        return getattr(multiprocessing, name)

    def get_context(self, method: str | None = None):
        return self._context if method == "spawn" else multiprocessing.get_context(method)


def install(preload: list[str] = PRELOAD) -> multiprocessing.context.BaseContext:
    """Make Prefect's runs of served flows fork from a warm forkserver; returns that context."""
    import prefect.flow_engine

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    prefect.flow_engine.multiprocessing = _SpawnMeansWarmFork(context)
    return context
