"""Fixtures the service tests share."""
from __future__ import annotations

import pytest

from chalicelib import bootstrap
from tests.services.review_panel import seat_panel


@pytest.fixture
def review(api):
    """The review service, with Derbyshire's panel seated (tests/services/review_panel.py)."""
    seat_panel()
    return bootstrap.container().review
