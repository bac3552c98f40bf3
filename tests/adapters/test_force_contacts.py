import pytest

from chalicelib.adapters.force_contacts import ContactsFromHolders
from chalicelib.adapters.force_files import FileForceCatalogue
from chalicelib.services.ports import UnknownForce


class Holders:
    def panel_members(self, force_id, group_id):
        return {"iag_coordinator": ("Set By Operator", "coordinator@derbyshire.example")}


def test_the_catalogue_services_use_requires_a_force_with_the_contacts_operators_set():
    forces = ContactsFromHolders(FileForceCatalogue(), Holders())
    force = forces.require("derbyshire")
    assert force.contacts["iag_coordinator"].address() == "coordinator@derbyshire.example"
    with pytest.raises(UnknownForce):
        forces.require("atlantis")
