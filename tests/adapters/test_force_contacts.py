import pytest

from chalicelib.adapters.force_contacts import ContactsFromHolders
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.services.ports import UnknownForce


class Holders:
    def panel_members(self, force_id, group_id):
        return {"iag_coordinator": ("Set By Operator", "coordinator@derbyshire.example")}


def test_the_catalogue_services_use_requires_a_force_with_the_contacts_operators_set():
    forces = ContactsFromHolders(FileForceCatalogue(), Holders(), ttl=60)
    force = forces.require("derbyshire")
    assert force.contacts["iag_coordinator"].address() == "coordinator@derbyshire.example"
    with pytest.raises(UnknownForce):
        forces.require("atlantis")


class CountingHolders(Holders):
    def __init__(self):
        self.reads = 0

    def panel_members(self, force_id, group_id):
        self.reads += 1
        return super().panel_members(force_id, group_id)


def test_the_contacts_are_read_again_once_the_time_to_keep_them_has_passed():
    holders, now = CountingHolders(), [100.0]
    forces = ContactsFromHolders(FileForceCatalogue(), holders, ttl=1.0, monotonic=lambda: now[0])
    forces.require("derbyshire")
    now[0] += 0.9
    forces.require("derbyshire")
    assert holders.reads == 1  # kept
    now[0] += 0.2
    forces.require("derbyshire")
    assert holders.reads == 2  # another process's change is seen within the time set


def test_the_container_keeps_contacts_for_the_time_the_environment_sets(monkeypatch):
    from chalicelib import bootstrap

    monkeypatch.setenv("IAG_CONTACTS_TTL_SECONDS", "1.5")
    bootstrap.reset()
    try:
        assert bootstrap.container().forces.ttl == 1.5
    finally:
        bootstrap.reset()
