"""The recruitment report: each force's review queues and funnel as Prefect artifacts, so an operator sees how
recruitment stands in the Prefect UI without running a query. Counts and ages only."""
from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from chalicelib import bootstrap
from chalicelib.domain.recruitment import EXITS, STEPS


def artifact_key(kind: str, force_id: str) -> str:
    """Prefect allows only lowercase letters, digits and dashes in keys; force ids are such slugs."""
    return f"{kind}-{force_id}"


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def publish_force(force_id: str) -> dict:
    container = bootstrap.container()
    force = container.forces.require(force_id)
    queues = container.reports.queues(force_id)
    funnel = container.reports.funnel(force_id)
    names = {g.id: g.name for g in force.groups} | {"all": "All groups"}
    create_table_artifact(
        key=artifact_key("review-queue", force_id),
        description=f"{force.name}: applications waiting for the panel on {queues.generated_on:%d %B %Y}; "
                    "ages are days since the application was made.",
        table=[{"group": names[q.group_id], "awaiting review": q.awaiting_review, "in discussion": q.in_discussion,
                "oldest (days)": q.oldest_days, "median (days)": q.median_days}
               for q in (*queues.groups, queues.total)])
    create_table_artifact(
        key=artifact_key("recruitment", force_id),
        description=f"{force.name}: recruitment funnel on {funnel.generated_on:%d %B %Y}, deleted applications "
                    "included; screened only for groups that screen.",
        table=[{"group": names[g.group_id], **{s: g.steps[s] for s in STEPS}, **{e: g.exits[e] for e in EXITS}}
               for g in (*funnel.groups, funnel.total)])
    waiting = queues.total
    create_markdown_artifact(
        key=artifact_key("recruitment-summary", force_id),
        markdown=f"## {force.name}\n\n"
                 f"- {waiting.waiting} waiting for the panel"
                 + (f", the oldest for {waiting.oldest_days} days" if waiting.oldest_days is not None else "") + "\n"
                 + "".join(f"- {step}: {funnel.total.steps[step]}\n" for step in STEPS
                           if funnel.total.steps[step] is not None))
    return {"waiting": waiting.waiting, "oldest_days": waiting.oldest_days, **funnel.total.steps}


@flow(name="recruitment-report")
def recruitment_report() -> dict:
    """Publish every force's review queues and recruitment funnel as artifacts (one task per force)."""
    results = {force_id: publish_force(force_id) for force_id in bootstrap.container().forces.ids()}
    get_run_logger().info("recruitment report: %s", results)  # counts only
    return results
