"""Tenancy, route by route: an operator of another force, a coordinator of another group and the force's auditor
are refused every admin route they may not use, and the refusal changes nothing.

Every case shares one moto, one operator pool, Derbyshire's data and one application (a module fixture): each
checks what its own call changed, before and after, so none needs a table and a pool of its own (building them was
most of each case's time)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib import bootstrap
from tests.api.test_admin_api import (
    CHANGES, REF, ROUTES, applied, call, changeable_state, seed_derbyshire, with_reference,
)
from tests.conftest import TODAY, FakeWorkflow, FixedClock, OperatorPool, application_table


@pytest.fixture(scope="module")
def matrix():
    """As the `table`, `api`, `operator_pool` and `derbyshire` fixtures together, once for the module."""
    from dataclasses import replace

    from chalice.test import Client

    from app import app

    with application_table():
        workflow = FakeWorkflow()
        bootstrap.reset()
        bootstrap.override(clock=FixedClock(TODAY), workflow=workflow)
        with Client(app) as client:
            pool = OperatorPool()
            container = bootstrap.container()
            bootstrap.override(operator_tokens=pool.verifier(), settings=replace(
                container.settings, operator_pool_id=pool.pool_id, operator_client_id=pool.client_id))
            seed_derbyshire()
            # One application for every case (a case that wrongly changed it fails on its own before/after check;
            # a new one per case would also run into the intake's limit per client address).
            yield SimpleNamespace(api=client, pool=pool, workflow=workflow, reference=applied(client))
        bootstrap.reset()


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize("who", [
    ("force_admin", "northamptonshire", ""),
    ("auditor", "thames-valley", ""),
    ("coordinator", "northamptonshire", "northampton"),
    ("coordinator", "avon-and-somerset", "derbyshire-iag"),  # a group id of the same name in another force
])
def test_another_forces_operator_is_refused_every_route_and_changes_nothing(matrix, method, path, body, who):
    reference = matrix.reference
    before = changeable_state(matrix.workflow, reference)
    answer = call(matrix.api, matrix.pool.token(f"{who[0]}-{who[1]}", *who), method, path.replace(REF, reference),
                  with_reference(body, reference))
    assert answer.status_code == 403
    assert reference not in answer.body.decode() and "Amira" not in answer.body.decode()
    assert changeable_state(matrix.workflow, reference) == before


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_an_auditor_of_the_force_cannot_change_anything(matrix, method, path, body):
    reference = matrix.reference
    bootstrap.container().review.advance("derbyshire", reference)
    before = changeable_state(matrix.workflow, reference)
    answer = call(matrix.api, matrix.pool.token("aud", "auditor", "derbyshire"), method, path.replace(REF, reference),
                  with_reference(body, reference))
    assert answer.status_code == 403
    assert changeable_state(matrix.workflow, reference) == before


@pytest.mark.parametrize("method, path, body", [r for r in ROUTES if "access-log" not in r[1]
                                                 and not r[1].endswith("/roles")  # lists only their own groups' roles
                                                 and "equality" not in r[1] and "subject-access" not in r[1]
                                                 and "erasure" not in r[1]])
def test_a_coordinator_of_another_group_of_the_same_force_is_refused(matrix, method, path, body):
    reference = matrix.reference
    before = changeable_state(matrix.workflow, reference)
    token = matrix.pool.token("coord", "coordinator", "derbyshire", "derbyshire-scrutiny")
    assert call(matrix.api, token, method, path.replace(REF, reference), with_reference(body, reference)).status_code == 403
    assert changeable_state(matrix.workflow, reference) == before
