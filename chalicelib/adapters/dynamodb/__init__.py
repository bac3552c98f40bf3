"""DynamoDB single-table storage through pynamodb, one module per area.

base.py holds the base model, the keys and the helpers every area shares; links.py the email links;
applications.py the applications; outbox.py, review.py, joining.py, meetings.py, strategic.py, elections.py,
callouts.py, drafts.py, reports.py, access.py and data_protection.py one area each; member_refs.py the index
items that find what names a member. No module imports another's
underscore names, no pynamodb item leaves the package (services get domain objects), and nothing connects before
configure(settings) (tests/adapters/test_storage_shape.py).
"""
from chalicelib.adapters.dynamodb.applications import DynamoApplicationRepository
from chalicelib.adapters.dynamodb.base import (
    Item, StorageNotConfigured, all_models, configure, create_table_if_missing, warm_connections,
)

__all__ = ["DynamoApplicationRepository", "Item", "StorageNotConfigured", "all_models", "configure",
           "create_table_if_missing", "warm_connections"]
