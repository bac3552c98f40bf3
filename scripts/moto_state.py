"""The local stack's AWS state as one file: written by our moto wrapper (scripts/serial_moto.py), read back at start.

A restart costs time in proportion to the data, not to its history (moto's request recording replayed every
request ever made: 42,328 requests, 57.5 MB, over 600 s after a day). The snapshot holds:
- DynamoDB: each table's definition, time-to-live setting and items (DynamoDB JSON, portable across moto versions);
- SES: the sent emails (the local mailbox), the send count and the verified senders;
- Cognito: the user pools as moto holds them (pickled: pool and client ids, users, their passwords, groups and
  sessions come back exactly; a moto upgrade that cannot read them sets the snapshot aside).
S3 is not in it: the stack's only bucket holds the onboarding documents, which `up` publishes from
infra/documents at every start.

Between two snapshots, what changed is appended to a journal beside it (`<snapshot>.journal`, JSON lines): each
item changed since the last write as it is now (or its deletion), the emails sent since, and the operator pools if
they changed. Writing costs time in proportion to the changes, not to the data (a whole snapshot of 25,000 items
took 16% of moto's CPU in a soak, every 30 s). A restore loads the snapshot, then replays the journal lines of the
same generation: a new snapshot starts a new generation, so a journal left behind by a crash between the two is
ignored, and a line cut short by a crash is the last one and is skipped.
"""
from __future__ import annotations

import base64
import io
import json
import os
import pickle  # nosec B403 # our own file, written by this module on the developer's machine
import time
from pathlib import Path
from typing import Any, Optional

FORMAT = 1


def _moto_version() -> str:
    import moto

    return moto.__version__


def _created(backends) -> list[tuple[str, str, Any]]:
    """(account, region, backend) for the backends that exist; plain dict access, so none is created on the way."""
    return [(account, region, backend) for account, regions in dict.items(backends)
            for region, backend in dict.items(regions)]


# --- DynamoDB ---

def _dump_tables(backends) -> list[dict]:
    tables = []
    for account, region, backend in _created(backends):
        for table in backend.tables.values():
            tables.append({
                "account": account, "region": region, "name": table.name,
                "create": {"schema": table.schema, "attr": table.attr,
                           "throughput": None if table.billing_mode == "PAY_PER_REQUEST" else {
                               k: v for k, v in table.throughput.items() if k.endswith("CapacityUnits")},
                           "global_indexes": [{k: v for k, v in index.describe().items()
                                               if k in ("IndexName", "KeySchema", "Projection")}
                                              for index in table.global_indexes],
                           "indexes": [index.describe() for index in table.indexes],
                           "billing_mode": table.billing_mode or "PROVISIONED"},
                "ttl": table.ttl,
                # Each item encoded as it is read: a list of whole items' dicts, as large again as the table,
                # raised moto's memory at every snapshot (freed, but never given back).
                "items": [json.dumps(item.to_json()["Attributes"], separators=(",", ":"))
                          for item in _unsorted_items(table)],
            })
    return tables


def _unsorted_items(table):
    """Every item of the table; moto's all_items() sorts them all first, which the file does not need."""
    for by_hash in table.items.values():
        if table.range_key_attr:
            yield from by_hash.values()
        else:
            yield by_hash


def _load_tables(backends, tables: list[dict]) -> int:
    count = 0
    for saved in tables:
        backend = backends[saved["account"]][saved["region"]]
        backend.tables.pop(saved["name"], None)
        create = saved["create"]
        table = backend.create_table(saved["name"], schema=create["schema"], throughput=create["throughput"],
                                     attr=create["attr"], global_indexes=create["global_indexes"],
                                     indexes=create["indexes"], streams=None, billing_mode=create["billing_mode"],
                                     sse_specification=None, tags=[], deletion_protection_enabled=False,
                                     warm_throughput=None)
        table.ttl = saved["ttl"]
        for attributes in saved["items"]:
            table.put_item(attributes)  # the table's own write: no condition, no request parsing
        count += len(saved["items"])
    return count


# --- SES ---

def _dump_mail(backends, since: Optional[dict] = None) -> list[dict]:
    """Each SES backend's sent emails (from `since[(account, region)]` on, when given), send count and senders."""
    from moto.ses.models import Message, RawMessage

    saved = []
    for account, region, backend in _created(backends):
        messages = []
        for m in list(backend.sent_messages)[(since or {}).get((account, region), 0):]:
            if isinstance(m, Message):
                messages.append({"kind": "simple", "id": m.id, "source": m.source, "subject": m.subject,
                                 "body": m.body, "destinations": m.destinations})
            elif isinstance(m, RawMessage):
                messages.append({"kind": "raw", "id": m.id, "source": m.source, "destinations": m.destinations,
                                 "raw_data": m.raw_data})
            # templated sends: the app sends none
        if messages or backend.sent_message_count or backend.email_identities:
            saved.append({"account": account, "region": region, "sent_count": backend.sent_message_count,
                          "identities": sorted(backend.email_identities), "messages": messages})
    return saved


def _messages(saved: list[dict]) -> list:
    from moto.ses.models import Message, RawMessage

    return [Message(m["id"], m["source"], m["subject"], m["body"], m["destinations"]) if m["kind"] == "simple"
            else RawMessage(m["id"], m["source"], m["destinations"], m["raw_data"]) for m in saved]


def _load_mail(backends, saved: list[dict]) -> int:
    count = 0
    for entry in saved:
        backend = backends[entry["account"]][entry["region"]]
        backend.sent_messages = _messages(entry["messages"])
        backend.sent_message_count = entry["sent_count"]
        for identity in entry["identities"]:  # verified senders and domains
            backend.create_email_identity_v2(identity, None, None, None)
        count += len(entry["messages"])
    return count


# --- Cognito ---

class _PoolPickler(pickle.Pickler):
    """Leaves out each pool's signing key: moto loads the same one from its package for every pool."""

    def persistent_id(self, obj):
        from joserfc.jwk import RSAKey

        return "moto-jwks" if isinstance(obj, RSAKey) else None


class _PoolUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        from joserfc import jwk
        from moto.utilities.utils import load_resource

        if pid != "moto-jwks":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def _dump_pools(backends) -> list[dict]:
    saved = []
    for account, region, backend in _created(backends):
        if backend.user_pools:
            buffer = io.BytesIO()
            _PoolPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(dict(backend.user_pools))
            saved.append({"account": account, "region": region, "user_pools": base64.b64encode(
                buffer.getvalue()).decode()})
    return saved


def _load_pools(backends, saved: list[dict]) -> tuple[int, int]:
    pools = users = 0
    for entry in saved:
        backend = backends[entry["account"]][entry["region"]]
        loaded = _PoolUnpickler(io.BytesIO(base64.b64decode(entry["user_pools"]))).load()  # nosec B301
        backend.user_pools.update(loaded)
        pools += len(loaded)
        users += sum(len(pool.users) for pool in loaded.values())
    return pools, users


# --- the file ---

def dump(generation: int = 0) -> dict:
    """The state to save; called with AWS requests held back, so it is one consistent moment. Each table's items
    are already JSON text (see write())."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    return {"format": FORMAT, "generation": generation, "moto": _moto_version(), "written_at": time.time(),
            "dynamodb": _dump_tables(dynamodb_backends), "ses": _dump_mail(ses_backends),
            "cognito": _dump_pools(cognitoidp_backends)}


def write(state: dict, path: Path) -> None:
    """Atomically: a crash mid-write leaves the previous snapshot whole."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w") as out:
        head = {key: value for key, value in state.items() if key != "dynamodb"}
        out.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"dynamodb":[')
        for number, table in enumerate(state["dynamodb"]):
            described = json.dumps({key: value for key, value in table.items() if key != "items"},
                                   separators=(",", ":"))
            out.write(("," if number else "") + described[:-1] + ',"items":[')
            out.write(",".join(table["items"]))  # already encoded by dump()
            out.write("]}")
        out.write("]}")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def load(state: dict) -> dict:
    """Put a snapshot into this process's moto; the counts restored."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    if state.get("format") != FORMAT:
        raise ValueError(f"snapshot format {state.get('format')!r}, this code reads {FORMAT}")
    _load_pools(cognitoidp_backends, state["cognito"])
    _load_tables(dynamodb_backends, state["dynamodb"])
    _load_mail(ses_backends, state["ses"])
    return {"generation": state.get("generation", 0)}


def counts() -> dict:
    """What moto holds now: items, emails, operator pools and their users."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    pools = [pool for _, _, backend in _created(cognitoidp_backends) for pool in backend.user_pools.values()]
    return {"items": sum(item_count(table) for _, _, backend in _created(dynamodb_backends)
                         for table in backend.tables.values()),
            "emails": sum(len(backend.sent_messages) for _, _, backend in _created(ses_backends)),
            "user_pools": len(pools), "users": sum(len(pool.users) for pool in pools)}


def item_count(table) -> int:
    return sum(len(by_hash) for by_hash in table.items.values()) if table.range_key_attr else len(table.items)


# --- the journal ---

def journal_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name + ".journal")


def changed_lines(generation: int, items: set, mail_written: dict, pools_changed: bool) -> list[str]:
    """Journal lines for what changed since the last write: `items` are (account, region, table, hash, range) keys,
    each written as the item is now or as deleted; emails past `mail_written[(account, region)]` (updated here);
    the operator pools whole if they changed. Called with AWS requests held back."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    lines = []
    for account, region, name, hash_value, range_value in items:
        backend = dict.get(dict.get(dynamodb_backends, account, {}), region)
        table = backend.tables.get(name) if backend is not None else None
        if table is None:  # dropped since: the tables changed, and a whole snapshot follows
            continue
        item = table.get_item(hash_value, range_value)
        where = {"account": account, "region": region, "table": name}
        if item is not None:
            lines.append({"g": generation, "put": {**where, "item": item.to_json()["Attributes"]}})
        else:
            key = {table.hash_key_attr: hash_value.to_json()}
            if table.range_key_attr and range_value is not None:
                key[table.range_key_attr] = range_value.to_json()
            lines.append({"g": generation, "delete": {**where, "key": key}})
    written_before = dict(mail_written)
    mail_written.update(mail_counts())
    for entry in _dump_mail(ses_backends, since=written_before):
        if entry["messages"]:
            lines.append({"g": generation, "mail": entry})
    if pools_changed:
        lines.append({"g": generation, "cognito": _dump_pools(cognitoidp_backends)})
    return [json.dumps(line, separators=(",", ":")) for line in lines]


def mail_counts() -> dict:
    """(account, region) -> emails held: what a whole snapshot has written."""
    from moto.ses.models import ses_backends

    return {(account, region): len(backend.sent_messages) for account, region, backend in _created(ses_backends)}


def append(lines: list[str], path: Path) -> None:
    if lines:
        with open(path, "a") as out:
            out.write("".join(line + "\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())


def replay(path: Path, generation: int) -> int:
    """Apply the journal's lines of this generation, in order; the lines applied. A last line cut short by a crash
    is skipped; any other unreadable line raises (ValueError)."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.ses.models import ses_backends

    if not path.exists():
        return 0
    text = path.read_text()
    lines = text.split("\n")
    applied = 0
    for number, raw in enumerate(lines):
        if not raw:
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            if number == len(lines) - 1:  # no newline after it: the append a crash cut short
                break
            raise ValueError(f"journal line {number + 1} cannot be read") from None
        if line.get("g") != generation:
            continue  # written before the snapshot that replaced it
        if "put" in line or "delete" in line:
            change = line.get("put") or line["delete"]
            table = dynamodb_backends[change["account"]][change["region"]].tables[change["table"]]
            if "put" in line:
                table.put_item(change["item"])
            else:
                key = change["key"]
                table.delete_item(DynamoType(key[table.hash_key_attr]),
                                  DynamoType(key[table.range_key_attr]) if table.range_key_attr else None)
        elif "mail" in line:
            entry = line["mail"]
            backend = ses_backends[entry["account"]][entry["region"]]
            backend.sent_messages.extend(_messages(entry["messages"]))
            backend.sent_message_count = entry["sent_count"]
            for identity in set(entry["identities"]) - set(backend.email_identities):
                backend.create_email_identity_v2(identity, None, None, None)
        elif "cognito" in line:
            for entry in line["cognito"]:
                cognitoidp_backends[entry["account"]][entry["region"]].user_pools.clear()
            _load_pools(cognitoidp_backends, line["cognito"])
        applied += 1
    return applied


def restore(path: Path) -> dict:
    """Restore from `path` if it exists, then replay its journal. A snapshot that cannot be read or loaded is
    renamed aside (nothing is deleted) and moto starts empty; a journal line that cannot be read (other than a
    last one cut short) sets the journal aside, the lines before it applied. {"restored": counts or None,
    "set_aside": new name or None, "seconds", "error", "generation"}."""
    began = time.monotonic()
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # a write cut short by a crash; the snapshot is whole
        stale.unlink(missing_ok=True)
    if not path.exists():
        return {"restored": None, "set_aside": None, "seconds": 0.0, "error": None, "generation": 0}
    try:
        with open(path) as source:
            generation = load(json.load(source))["generation"]
    except Exception as error:  # noqa: BLE001 -- any unreadable file: start empty rather than not at all
        _reset_moto()
        aside = _set_aside(path)
        return {"restored": None, "set_aside": str(aside), "seconds": time.monotonic() - began,
                "error": f"{type(error).__name__}: {error}"[:500], "generation": 0}
    journal, set_aside, error_text = journal_path(path), None, None
    try:
        replayed = replay(journal, generation)
    except Exception as error:  # noqa: BLE001 -- the snapshot and the journal's lines before the bad one stay
        replayed, set_aside = None, str(_set_aside(journal))
        error_text = f"journal: {type(error).__name__}: {error}"[:500]
    return {"restored": {**counts(), "journal_lines": replayed}, "set_aside": set_aside,
            "seconds": time.monotonic() - began, "error": error_text, "generation": generation}


def _set_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, aside)
    return aside


def _reset_moto() -> None:
    """Drop whatever a half-loaded snapshot put in, so the stack starts from a clean, empty moto."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    for backends in (cognitoidp_backends, dynamodb_backends, ses_backends):
        for _, _, backend in _created(backends):
            backend.reset()
