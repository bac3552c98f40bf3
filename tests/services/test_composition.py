"""The composition root: each service built once per process and wired one way."""
from __future__ import annotations

from chalicelib import bootstrap
from chalicelib.services.events import PanelDecided


def test_a_warm_process_reuses_each_service_until_a_part_is_swapped(api, workflow):
    container = bootstrap.container()
    assert container.review is container.review
    assert container.joining is bootstrap.container().joining
    assert container.postbox is container.review._mail.postbox  # one outbox for every email

    swapped = bootstrap.override(workflow=workflow)
    assert swapped.review is not container.review  # built again from the new parts


def test_joining_follows_the_review_and_the_review_only_announces(api):
    container = bootstrap.container()
    assert container.joining._p.review is container.review
    assert container.review._bus is container.bus and container.bus.handles(PanelDecided)
