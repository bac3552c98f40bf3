import pytest

from chalicelib.domain.postcodes import in_districts, normalise


@pytest.mark.parametrize("typed, normal", [
    ("de53rs", "DE5 3RS"), (" DE5  3RS ", "DE5 3RS"), ("SW1A1AA", "SW1A 1AA"), ("m1 1ae", "M1 1AE"),
])
def test_postcodes_are_read_however_they_are_typed(typed, normal):
    assert normalise(typed) == normal


@pytest.mark.parametrize("typed", ["", "DE5", "12345", "DE5 3R", "not a postcode"])
def test_text_not_shaped_like_a_postcode_is_not_one(typed):
    assert normalise(typed) is None


def test_an_area_entry_covers_its_districts_but_not_a_longer_area():
    assert in_districts("S40 1LP", ["S"])
    assert not in_districts("SK13 8AA", ["S"])


def test_a_district_entry_matches_that_district_only():
    assert in_districts("SK13 8AA", ["SK13"])
    assert not in_districts("SK1 3AA", ["SK13"])
    assert not in_districts("SK14 1AA", ["SK1"])
