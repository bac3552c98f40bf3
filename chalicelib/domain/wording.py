"""What may be repeated, in an email, of words a stranger typed into a public form.

Anyone can submit someone else's email address, so an email sent in answer to a public request must not carry
a link or a lure chosen by the sender. A name is shown only when it looks like a name; nothing else they typed
is shown at all.
"""
from __future__ import annotations

import re

MAX_NAME = 40
MAX_WORDS = 5
_SEPARATORS = re.compile(r"[ '\u2019-]")


def looks_like_a_name(text: object) -> bool:
    """Letters of any alphabet in up to five words joined by a space, hyphen or apostrophe; an initial may carry a
    full stop ("M."). No digits, "@", "/", ":" or other full stops, so no address, number or link."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NAME:
        return False
    words = _SEPARATORS.split(text.strip())
    return len(words) <= MAX_WORDS and all(
        word.isalpha() or (len(word) == 2 and word[0].isalpha() and word[1] == ".") for word in words)
