"""prefect.yaml (what `prefect deploy --all` creates in AWS) declares the deployments flows/serve.py serves
locally: same names, entry points, schedules, tags and concurrency limits, so production cannot drift
from what the tests run."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Settings that change the local schedules; production runs the defaults.
SCHEDULE_SETTINGS = ("IAG_STRATEGIC_CRON", "IAG_RECONCILE_SECONDS", "IAG_REMINDER_CRON", "IAG_MEMBER_LIFE_CRON")


def declared() -> dict[str, dict]:
    from prefect.cli.deploy._models import PrefectYamlModel

    document = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    PrefectYamlModel.model_validate(document)  # the shape `prefect deploy` accepts
    return {d["name"]: d for d in document["deployments"]}


def present(entrypoint: str) -> bool:
    return (ROOT / entrypoint.split(":")[0]).is_file()


@pytest.fixture(scope="module")
def served(request) -> dict:
    monkeypatch = pytest.MonkeyPatch()
    for name in SCHEDULE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    from flows.serve import deployments

    try:
        return {d.name: d for d in deployments()}
    finally:
        monkeypatch.undo()


def schedule_of(config: dict) -> tuple:
    """A yaml schedule as `prefect deploy` builds it, in a form comparable with a served one."""
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule

    built = _schedule_config_to_deployment_schedule(config)
    return comparable(built["schedule"], built.get("parameters", {}))


def comparable(schedule, parameters: dict) -> tuple:
    if getattr(schedule, "cron", None):
        return ("cron", schedule.cron, schedule.timezone, schedule.day_or, parameters)
    return ("interval", schedule.interval.total_seconds(), parameters)  # anchors differ: serve anchors at start-up


def limit_of(value):
    return getattr(value, "limit", value)


def test_prefect_yaml_declares_exactly_the_deployments_serve_builds(served):
    # A deployment whose flow file is not on this branch yet (reports, retention) is compared once it is.
    expected = {name for name, d in declared().items() if present(d["entrypoint"])}
    assert expected == set(served)


@pytest.mark.parametrize("name", sorted(declared()))
def test_each_deployment_has_the_served_entry_point_schedules_tags_and_limit(name, served):
    config = declared()[name]
    if not present(config["entrypoint"]):
        pytest.skip(f"{config['entrypoint']} is not on this branch yet")
    deployment = served[name]
    assert config["entrypoint"] == deployment.entrypoint
    assert sorted(config["tags"]) == sorted(deployment.tags)
    assert config.get("concurrency_limit") == limit_of(deployment.concurrency_limit)
    assert sorted(map(repr, (schedule_of(s) for s in config.get("schedules", [])))) == \
        sorted(map(repr, (comparable(s.schedule, s.parameters) for s in deployment.schedules)))


@pytest.mark.parametrize("name", sorted(declared()))
def test_each_entry_point_is_that_flow_and_a_flow_that_suspends_persists_its_result(name):
    module, function = declared()[name]["entrypoint"].split(":")
    if not (ROOT / module).is_file():
        pytest.skip(f"{module} is not on this branch yet")
    flow = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), function)
    assert flow.name == name
    if "suspend_flow_run" in (ROOT / module).read_text():  # a suspended run resumes from its persisted result
        assert flow.persist_result is True


def test_every_deployment_runs_on_the_aws_pool_with_shared_s3_results():
    for name, config in declared().items():
        pool = config["work_pool"]
        assert pool["name"] == "iag-ecs", name
        env = pool["job_variables"]["env"]
        assert env["PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"] == "s3-bucket/iag-results", name
        assert env["IAG_STAGE"] == "prod" and "IAG_PREFECT_API_KEY_NAME" in env, name
        assert not [k for k in env if k in ("IAG_FORM_SECRET", "IAG_PREFECT_API_KEY", "PREFECT_API_KEY")], name


def test_each_deployment_creates_the_same_automations_as_serve(served):
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers

    for name, config in declared().items():
        if not present(config["entrypoint"]):
            continue
        from_yaml = _initialize_deployment_triggers(name, config.get("triggers") or [])
        assert [t.model_dump(mode="json") for t in from_yaml] == \
            [t.model_dump(mode="json") for t in served[name].triggers], name


def test_a_saved_filter_on_the_application_tag_shows_only_applications_runs(served):
    """docs/operators.md: the Prefect UI's run filter on the tag `application` (or without `housekeeping`)."""
    kinds = {name: {"application", "housekeeping", "group-business"} & set(d.tags) for name, d in served.items()}
    assert all(len(found) == 1 for found in kinds.values()), kinds  # each deployment is exactly one kind
    assert [name for name, found in kinds.items() if found == {"application"}] == ["review-application"]
    assert {name for name, found in kinds.items() if found == {"housekeeping"}} == {
        "reconcile-reviews", "review-reminders", "member-life", "recruitment-report", "retention", "alert-digest",
        "tell-run-failing"}


def test_a_run_failing_twice_is_what_the_automation_waits_for():
    [trigger] = declared()["tell-run-failing"]["triggers"]
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert (trigger["for_each"], trigger["threshold"], trigger["posture"]) == (["prefect.resource.id"], 2, "Reactive")
    assert trigger["parameters"] == {"flow_run_id": "{{ event.resource.id }}"}
