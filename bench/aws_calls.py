"""Counts every AWS call a bench makes, by (service, operation).

pynamodb 6.1 sends every request through its botocore client's _make_api_call (Connection._make_api_call
calls self.client._make_api_call), whichever model's connection it is; so does boto3 (SES, S3). Count there.
"""
from __future__ import annotations

import time
from collections import Counter

from botocore.client import BaseClient

calls: Counter = Counter()
waited = [0.0]  # seconds spent inside AWS calls (moto, in process), so a bench can subtract them
_make_api_call = BaseClient._make_api_call


def _counted(self, operation_name, api_params):
    calls[(self.meta.service_model.service_name, operation_name)] += 1
    began = time.perf_counter()
    try:
        return _make_api_call(self, operation_name, api_params)
    finally:
        waited[0] += time.perf_counter() - began


BaseClient._make_api_call = _counted
