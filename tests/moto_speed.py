"""moto in process, at the cost of what it does rather than of its rollback copies.

moto's TransactWriteItems deep-copies the whole table once per item of the transaction, all before the first
write, to restore it if the transaction is refused (moto 5.2.5: DynamoDBBackend.transact_write_items). Tests use
the local stack's moto rollback instead (scripts/serial_moto.py, `cheap_transaction_rollback`): a copy of each item
the transaction names, put back if it is refused. A refused transaction changes nothing, as before, and the cost
no longer grows with the table (a 122-member call-out writes three links per member, a transaction each).
"""
from __future__ import annotations

from typing import Any


def copies_of_the_named_items_only() -> None:
    import moto.dynamodb.models as moto_dynamodb

    from scripts.serial_moto import cheap_transaction_rollback

    if getattr(moto_dynamodb.DynamoDBBackend.transact_write_items, "named_items_only", False):
        return
    cheap_transaction_rollback()
    moto_dynamodb.DynamoDBBackend.transact_write_items.named_items_only = True  # type: ignore[attr-defined]


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
