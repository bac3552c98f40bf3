import re

import pytest

from chalicelib.domain.references import new_reference


def test_a_reference_names_the_force_and_year_and_avoids_letters_people_misread():
    reference = new_reference("DBY", 2026, bytes([255, 1, 2, 3, 4]))
    assert re.fullmatch(r"DBY-2026-[0-9A-HJKMNP-TV-Z]{8}", reference)


def test_different_random_bytes_give_different_references():
    assert new_reference("TVP", 2026, b"\x00\x00\x00\x00\x01") != new_reference("TVP", 2026, b"\x00\x00\x00\x00\x02")


def test_a_reference_needs_five_random_bytes():
    with pytest.raises(ValueError):
        new_reference("TVP", 2026, b"\x00")
