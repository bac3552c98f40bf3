import pytest

from chalicelib.domain.wording import looks_like_a_name


@pytest.mark.parametrize("name", ["Amira", "Mary-Jane", "O'Connor", "Zoë", "Nguyễn Văn An", "Jean-Luc M.", "Siân",
                                  "محمد", "Ōta"])
def test_names_from_many_languages_look_like_names(name):
    assert looks_like_a_name(name)


@pytest.mark.parametrize("lure", ["Visit evil.example/win", "https://evil.example", "call 0800 123 456",
                                  "winner@prize.example", "You have won a prize claim it now at our site today",
                                  "Amira <b>", "x" * 41, "", "   ", None, 42, "www.evil.example"])
def test_links_addresses_numbers_and_long_sentences_do_not(lure):
    assert not looks_like_a_name(lure)
