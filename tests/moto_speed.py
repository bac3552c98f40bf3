"""moto in process, at the cost of what it does rather than of its rollback copies.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction, all before the first
write, to restore it if the transaction is refused (moto 5.2.5: DynamoDBBackend.transact_write_items). The copies
are identical, so one per table and transaction restores the same state; with a few hundred items in the table
the copies were most of a test's time (a 122-member call-out: 56 s). Behaviour is unchanged: same copy, same
rollback, fewer copies.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

_copies = threading.local()  # id(table) -> its copy, while a transaction of this thread is being written


class _OneCopyPerTransaction:
    """Stands in for the `copy` module inside moto.dynamodb.models: a table is copied once per transaction."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        copies = getattr(_copies, "tables", None)
        if copies is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in copies:
            copies[id(value)] = copy.deepcopy(value, memo)
        return copies[id(value)]


def copy_each_table_once_per_transaction() -> None:
    import moto.dynamodb.models as moto_dynamodb

    backend = moto_dynamodb.DynamoDBBackend
    if getattr(backend.transact_write_items, "copies_once", False):
        return
    write = backend.transact_write_items

    def transact_write_items(self, transact_items):
        _copies.tables = {}
        try:
            return write(self, transact_items)
        finally:
            _copies.tables = None

    transact_write_items.copies_once = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    moto_dynamodb.copy = _OneCopyPerTransaction()  # type: ignore[assignment]


def one_cognito_key_for_every_pool() -> None:
    """moto signs every user pool's tokens with the same RSA key from its jwks-private.json, and rebuilt it for each
    pool it created (recovering the key's primes: about 0.1 s a pool, and most API tests make a pool). The key is
    built once; every pool still gets it, as before."""
    from moto.cognitoidp import models

    if getattr(models, "one_key", False):
        return
    built: dict[str, Any] = {}
    real = models.jwk

    class _Jwk:
        """Stands in for joserfc's jwk module inside moto.cognitoidp.models: the same key object for the same JWK."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        class RSAKey:
            @staticmethod
            def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
                import json

                text = json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
                if args or kwargs:
                    return real.RSAKey.import_key(value, *args, **kwargs)
                if text not in built:
                    built[text] = real.RSAKey.import_key(value)
                return built[text]

    models.jwk = _Jwk()  # type: ignore[assignment]
    models.one_key = True  # type: ignore[attr-defined]
