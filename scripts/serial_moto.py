"""moto in server mode for the local stack: `python -m scripts.serial_moto HOST PORT`.

One AWS request at a time: moto 5.2.5's server is threaded, and two DynamoDB transactions at once race
inside it ("dictionary changed size during iteration"): the API answered 500 to 93 of 200 applications
posted 8 at a time. Real DynamoDB has no such race. AWS requests take turns (each takes milliseconds),
while /moto-api/ stays free (the one-off migration replays a recording through this same server).

Made to run for days (a day of use grew moto 5.2.5 to 4.9 GB and its POSTs to 0.4 s):
- moto's instance registry is off: moto 5.2.5 keeps every model object it ever creates in a class-level
  list, only for its /moto-api/data.json dashboard, so every deleted item and every table copy stayed alive.
- a TransactWriteItems keeps a copy of only the items it names, to undo them if it is cancelled, instead of
  moto's deep copy of each whole table per item (latency grew with the table; 1.6 million item copies a day).
- a Query reads its own partition, of the table or of an index, instead of sorting or walking the whole table
  first (each Query grew with the table).
- an item's attributes are built in one pass, its size checked once (moto summed them again per attribute).
- the state is kept in a snapshot (scripts/moto_state.py) when IAG_MOTO_SNAPSHOT names a file: restored before
  the first request; every IAG_MOTO_SNAPSHOT_SECONDS (default 30), when something changed, and on SIGTERM, what
  changed is appended to its journal (each DynamoDB write notes its key), and now and then the whole is written.
- /moto-api/iag/mailbox?offset=0&limit=50: the sent emails, newest first, paged, straight from SES's list.
  /moto-api/iag/state: what was restored, and the last snapshot. POST /moto-api/iag/snapshot writes one now.
  /moto-api/iag/stats: the items each table holds (counted, nothing written), and per AWS action (a DynamoDB
  one with its table and index) the calls, CPU and bytes answered since start: what grows shows in a soak.
These are patches in our wrapper, written against moto 5.2.5 (pinned in constraints.txt), not changes to
moto itself: the registry feeds moto's own dashboard, which this stack does not use.
"""
from __future__ import annotations

import copy
import email
import io
import email.policy
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs

from moto.core import common_models
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from scripts import moto_state

# Read-only AWS operations (by name in X-Amz-Target): they leave nothing new to save.
READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "List", "Describe", "Query", "Scan", "AdminGet",
                 "AdminList")
ITEM_SIZE_LIMIT = 405_000  # moto's (DynamoDB's 400 KB, as moto measured it)
SNAPSHOT_COST_SHARE = 20  # wait at least 20 times what the last snapshot cost: at most 5% of moto's time


def untrack_instances() -> None:
    """moto's BaseModel.__new__ appends every instance to a class-level list that nothing but the debug
    dashboard reads: make new instances without it, so what moto drops is freed."""
    base = common_models.BaseModel

    def untracked(cls, *args, **kwargs):
        return super(base, cls).__new__(cls)

    base.__new__ = staticmethod(untracked)  # type: ignore[method-assign]


def cheap_transaction_rollback() -> None:
    """TransactWriteItems undoes a cancelled transaction from copies of the items it names only."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import __name__ as models_module
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    module = sys.modules[models_module]

    class _Copy:
        """moto's `copy` module in dynamodb.models, except that a Table is 'copied' as itself: upstream's
        rollback then puts the same table back, and ours below restores the items."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    module.copy = _Copy()  # type: ignore[attr-defined]
    upstream = DynamoDBBackend.transact_write_items

    def key_of(table, operation: dict):
        key = operation["Item"] if "Item" in operation else operation["Key"]
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return hash_value, range_value

    def transact_write_items(self, transact_items):
        before = []  # (table, hash, range, the item as it was or None)
        for entry in transact_items:
            try:
                operation = next(iter(entry.values()))
                table = self.tables[operation["TableName"]]
                hash_value, range_value = key_of(table, operation)
                before.append((table, hash_value, range_value,
                               copy.deepcopy(table.get_item(hash_value, range_value))))
            except Exception:  # noqa: BLE001  # nosec B112 # malformed: upstream rejects it before changing anything
                continue
        try:
            return upstream(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(before):
                if range_value is None:
                    table.items.pop(hash_value, None) if item is None else table.items.__setitem__(hash_value, item)
                elif item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class IndexPartitions:
    """A table's items by the value of each global secondary index's hash attribute, kept as items are written,
    so that a Query on the index reads its own partition as a Query on the table does. Built on the first Query of
    an index (one walk of the table), then changed key by key: whatever writes an item (put, delete, update,
    transaction, a cancelled transaction's undo) calls `rewrite` with its key after the write."""

    def __init__(self, table) -> None:
        from moto.dynamodb.models.table import GlobalSecondaryIndex

        self.hash_attrs = {}  # index name -> its one hash attribute (an index with several keeps no partitions)
        for index in table.global_indexes:
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            if isinstance(index, GlobalSecondaryIndex) and len(hashes) == 1:
                self.hash_attrs[index.name] = hashes[0]
        self.partitions: dict[str, dict] = {name: {} for name in self.hash_attrs}  # index -> value -> key -> item
        self._where: dict = {}  # item key -> [(index, value)]
        for partition in table.items.values():
            for item in (partition.values() if table.range_key_attr else (partition,)):
                self._add((item.hash_key, item.range_key), item)

    def _add(self, key, item) -> None:
        for index, attr in self.hash_attrs.items():
            value = item.attrs.get(attr)
            if value is not None:
                self.partitions[index].setdefault(value, {})[key] = item
                self._where.setdefault(key, []).append((index, value))

    def rewrite(self, table, hash_value, range_value) -> None:
        key = (hash_value, range_value if table.range_key_attr else None)
        for index, value in self._where.pop(key, ()):
            partition = self.partitions[index].get(value, {})
            partition.pop(key, None)
            if not partition:
                self.partitions[index].pop(value, None)
        stored = table.items.get(hash_value)  # a defaultdict: get() adds nothing
        item = stored.get(range_value) if table.range_key_attr and stored is not None else stored
        if item is not None:
            self._add(key, item)


def index_partitions(table) -> IndexPartitions:
    kept = table.__dict__.get("_iag_index_partitions")
    if kept is None:
        kept = table._iag_index_partitions = IndexPartitions(table)
    return kept


def rewritten(table, hash_value, range_value) -> None:
    """After a write of one key: its index partitions follow (nothing to do before an index was first queried)."""
    kept = table.__dict__.get("_iag_index_partitions")
    if kept is not None:
        kept.rewrite(table, hash_value, range_value)


def queries_read_their_partition() -> None:
    """A Query reads its own partition, of the table or of a global secondary index, instead of sorting the whole
    table.

    moto 5.2.5's Table.query starts from `all_items()`, every item of the table sorted, and then keeps one
    partition's items: each Query cost O(n log n) in the table's size. In a soak after 200-400 applications (9,000
    items) 82% of moto's CPU was in Query, 77% in that sort. A Query on an index walked the whole table even after
    that: 20 ms a Query at 13,000 items, growing with the table (a later soak), so the index's partitions are kept
    too (IndexPartitions). Upstream then sorts what it kept (by range key, or by the index's keys), so the answer's
    order is unchanged. Requests take turns (LocalMoto), so the table's `all_items` can be narrowed for the length
    of one call. With IAG_MOTO_CHECK_INDEXES set (the test stacks), every index Query is checked against a walk."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    upstream = Table.query
    index_name_at = 6  # query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
    #                              scan_index_forward, projection_expressions, index_name, ...)

    def walk(table) -> list:
        return [item for partition in table.items.values()
                for item in (partition.values() if table.range_key_attr else (partition,))]

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[index_name_at] if len(args) > index_name_at else None)
        if index_name:
            kept = index_partitions(self)
            attr = kept.hash_attrs.get(index_name)
            if attr is None or hash_key is None:
                candidates = walk(self)
            else:
                candidates = list(kept.partitions[index_name].get(hash_key, {}).values())
                if os.environ.get("IAG_MOTO_CHECK_INDEXES"):
                    walked = [item for item in walk(self) if attr in item.attrs and item.attrs[attr] == hash_key]
                    assert {id(i) for i in candidates} == {id(i) for i in walked}, (  # nosec B101 # a test check
                        f"index {index_name} of {self.name}: {len(candidates)} kept, {len(walked)} found walking")
        else:
            partition = self.items.get(hash_key)  # a defaultdict: get() adds nothing
            candidates = ([] if partition is None else
                          list(partition.values()) if self.range_key_attr else [partition])
        self.all_items = lambda: candidates
        try:
            return upstream(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    put, delete, update = Table.put_item, Table.delete_item, DynamoDBBackend.update_item
    transact = DynamoDBBackend.transact_write_items

    def key_values(table, key: dict):
        return (DynamoType(key[table.hash_key_attr]),
                DynamoType(key[table.range_key_attr]) if table.range_key_attr else None)

    def put_item(self, item_attrs, *args, **kwargs):
        item = put(self, item_attrs, *args, **kwargs)
        rewritten(self, item.hash_key, item.range_key)
        return item

    def delete_item(self, hash_key, range_key):
        try:
            return delete(self, hash_key, range_key)
        finally:
            rewritten(self, hash_key, range_key)

    def update_item(self, table_name, key, *args, **kwargs):
        try:
            return update(self, table_name, key, *args, **kwargs)  # changes the item in place
        finally:
            table = self.tables.get(table_name)
            if table is not None and table.hash_key_attr in key and (not table.range_key_attr
                                                                     or table.range_key_attr in key):
                rewritten(table, *key_values(table, key))

    def transact_write_items(self, transact_items):
        try:
            return transact(self, transact_items)
        finally:  # a cancelled one was undone by hand (cheap_transaction_rollback): every key it names
            for entry in transact_items:
                try:
                    operation = next(iter(entry.values()))
                    table = self.tables[operation["TableName"]]
                    rewritten(table, *key_values(table, operation["Item"] if "Item" in operation
                                                  else operation["Key"]))
                except Exception:  # noqa: BLE001  # nosec B112 # malformed: upstream refused it, nothing changed
                    continue

    Table.query = query  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def items_built_in_one_pass() -> None:
    """An item's attributes are put together, then their size is checked once against DynamoDB's limit.

    moto 5.2.5 builds every item through LimitedSizeDict, which sums the size of all the attributes already set
    each time one more is set: quadratic in the attributes, and it walks each nested map again every time. On
    restoring a snapshot of 14,600 items, 80% of the time went there (12.5 of 15.3 s under a profiler), and every
    PutItem and transaction pays it too. The rule kept is moto's: an item over 405,000 bytes is refused."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self, hash_key, range_key, attrs) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        built = LimitedSizeDict()
        for key, value in attrs.items():
            dict.__setitem__(built, key, DynamoType(value))
        if sum(bytesize(key) + value.size() for key, value in built.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = built

    Item.__init__ = __init__  # type: ignore[method-assign]


class ChangeLog:
    """What changed since moto's state was last written (requests take turns, so no lock of its own): DynamoDB
    items by key, the emails written so far, whether the operator pools changed, and whether only a whole snapshot
    will do (tables created or dropped, a failed write, a restart)."""

    def __init__(self) -> None:
        self.items: set = set()  # (account, region, table, hash DynamoType, range DynamoType or None)
        self.mail_written: dict = {}  # (account, region) -> emails already written
        self.pools_changed = False
        self.whole_snapshot_due = False

    def item(self, table, hash_value, range_value) -> None:
        self.items.add((table.account_id, table.region_name, table.name, hash_value, range_value))

    def written(self, mail_after_whole_snapshot: Optional[dict]) -> None:
        self.items = set()
        self.pools_changed = False
        if mail_after_whole_snapshot is not None:
            self.mail_written = dict(mail_after_whole_snapshot)
            self.whole_snapshot_due = False


CHANGES = ChangeLog()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def changes_are_tracked() -> None:
    """Every DynamoDB write notes the key it wrote, so the next write to disk is only what changed: a table's own
    put and delete (PutItem, BatchWriteItem, transactions and restores go through them), UpdateItem (it changes the
    item in place), and a transaction's undo (ours, above). Creating, changing or dropping a table asks for a whole
    snapshot."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    put, delete, update = Table.put_item, Table.delete_item, DynamoDBBackend.update_item
    transact = DynamoDBBackend.transact_write_items

    def put_item(self, item_attrs, *args, **kwargs):
        item = put(self, item_attrs, *args, **kwargs)
        CHANGES.item(self, item.hash_key, item.range_key)
        return item

    def delete_item(self, hash_key, range_key):
        CHANGES.item(self, hash_key, range_key)
        return delete(self, hash_key, range_key)

    def update_item(self, table_name, key, *args, **kwargs):
        try:
            return update(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None and table.hash_key_attr in key and (not table.range_key_attr
                                                                     or table.range_key_attr in key):
                CHANGES.item(table, DynamoType(key[table.hash_key_attr]),
                             DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None)

    def transact_write_items(self, transact_items):
        try:
            return transact(self, transact_items)
        finally:  # an undone transaction put items back by hand: note every key it names
            for entry in transact_items:
                try:
                    operation = next(iter(entry.values()))
                    table = self.tables[operation["TableName"]]
                    key = operation["Item"] if "Item" in operation else operation["Key"]
                    CHANGES.item(table, DynamoType(key[table.hash_key_attr]),
                                 DynamoType(key[table.range_key_attr]) if table.range_key_attr else None)
                except Exception:  # noqa: BLE001  # nosec B112 # malformed: upstream refused it, nothing changed
                    continue

    def whole_snapshot_after(upstream):
        def changed_table(self, *args, **kwargs):
            CHANGES.whole_snapshot_due = True
            return upstream(self, *args, **kwargs)
        return changed_table

    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in ("create_table", "delete_table", "update_table", "update_time_to_live"):
        setattr(DynamoDBBackend, name, whole_snapshot_after(getattr(DynamoDBBackend, name)))


def mailbox_page(offset: int, limit: int) -> dict:
    """Sent emails newest first, as {"total", "messages": [{id, to, subject, body, attachments}]}; only the page is
    parsed, so the answer costs the same with 10 emails or 100,000."""
    from moto.ses.models import Message, RawMessage, ses_backends

    sent = [m for _, _, backend in moto_state._created(ses_backends) for m in list(backend.sent_messages)]
    page = sent[::-1][offset:offset + limit]
    messages = []
    for m in page:
        if isinstance(m, Message):
            messages.append({"id": m.id, "to": m.destinations.get("ToAddresses", []), "subject": m.subject,
                             "body": m.body, "attachments": []})
        elif isinstance(m, RawMessage):
            parsed = email.message_from_string(m.raw_data, policy=email.policy.default)
            body = parsed.get_body(("html", "plain"))
            messages.append({"id": m.id, "to": sorted({str(address) for address in m.destinations}), "subject": parsed["Subject"],
                             "body": body.get_content() if body else "",
                             "attachments": [part.get_filename() or "" for part in parsed.iter_attachments()]})
    return {"total": len(sent), "offset": offset, "limit": limit, "messages": messages}


def action_of(environ) -> str:
    """The AWS action a request asks for: "dynamodb Query applications/by-stage" (a DynamoDB action with its table
    and index, read from the body, which is put back), "ses SendEmail", or a REST service's method and first path
    segment ("s3 PUT /documents")."""
    def body() -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        read = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(read)
        return read

    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        try:
            asked = json.loads(body() or b"{}")
        except ValueError:
            asked = {}
        where = "/".join(str(asked[k]) for k in ("TableName", "IndexName") if isinstance(asked, dict) and k in asked)
        return f"dynamodb {target.rsplit('.', 1)[-1]} {where}".rstrip()
    if target:
        return target.rsplit(".", 1)[-1]
    credential = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
    service = credential[3] if len(credential) > 3 else "?"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" not in query and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        query = parse_qs(body().decode("utf-8", "replace"))  # the query protocol (SES) names it in the body
    if "Action" in query:
        return f"{service} {query['Action'][0]}"
    # A REST service: its method and first path segment (an S3 bucket, SESv2's "v2"), never a whole path.
    return f"{service} {environ.get('REQUEST_METHOD', '?')} /{environ.get('PATH_INFO', '/').split('/')[1]}"


class ActionStats:
    """Calls, CPU seconds and bytes answered per action since start (kept under the request turn)."""

    def __init__(self) -> None:
        self._by_action: dict[str, list[float]] = {}

    def add(self, action: str, cpu: float, size: int) -> None:
        totals = self._by_action.setdefault(action, [0, 0.0, 0])
        totals[0] += 1
        totals[1] += cpu
        totals[2] += size

    def as_dict(self) -> dict[str, dict]:
        return {action: {"calls": calls, "cpu_s": round(cpu, 4), "bytes": size}
                for action, (calls, cpu, size) in sorted(self._by_action.items())}


def stored_items() -> dict[str, int]:
    """The items each DynamoDB table holds now, by table name (every account and region of this server)."""
    from moto.dynamodb.models import dynamodb_backends

    counts: dict[str, int] = {}
    for account in dynamodb_backends.values():
        for backend in account.values():
            for name, table in backend.tables.items():
                held = (sum(len(partition) for partition in table.items.values()) if table.range_key_attr
                        else len(table.items))
                counts[name] = counts.get(name, 0) + held
    return counts


class LocalMoto:
    """The WSGI app: AWS requests one at a time, state kept, and our own /moto-api/iag/ endpoints."""

    def __init__(self, app, snapshot: Optional[Path], interval: float):
        self._app = app
        self._turn = threading.Lock()
        self.snapshot, self.interval = snapshot, interval
        self.changes = 0  # AWS requests that may have changed state, counted
        self.saved_changes = 0  # ... up to the last snapshot written
        self.startup: dict = {"restored": None, "set_aside": None, "seconds": 0.0, "error": None}
        self.last_written: Optional[dict] = None
        self._writing = threading.Lock()
        self.generation = 0  # of the snapshot on disk: journal lines carry it
        self.actions = ActionStats()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api/iag/"):
            return self._own(path, environ, start_response)
        if path.startswith("/moto-api/"):
            return self._app(environ, start_response)
        action = action_of(environ)
        with self._turn:
            if not self._reads_only(environ):
                self.changes += 1
                if environ.get("HTTP_X_AMZ_TARGET", "").startswith("AWSCognitoIdentityProviderService."):
                    CHANGES.pools_changed = True
            cpu = time.thread_time()
            answer = list(self._app(environ, start_response))  # the whole answer, before the next request
            self.actions.add(action, time.thread_time() - cpu, sum(len(part) for part in answer))
            return answer

    @staticmethod
    def _reads_only(environ) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.rsplit(".", 1)[-1].startswith(READ_PREFIXES)
        return environ.get("REQUEST_METHOD") in ("GET", "HEAD")

    def _own(self, path, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if path == "/moto-api/iag/mailbox" and method == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            try:
                offset = max(0, int(query.get("offset", ["0"])[0]))
                limit = min(500, max(1, int(query.get("limit", ["50"])[0])))
            except ValueError:
                return self._json(start_response, 400, {"error": "offset and limit must be whole numbers"})
            return self._json(start_response, 200, mailbox_page(offset, limit))
        if path == "/moto-api/iag/state" and method == "GET":
            return self._json(start_response, 200, {"snapshot": str(self.snapshot) if self.snapshot else None,
                                                    "interval": self.interval, "next_interval": self.next_interval(),
                                                    "startup": self.startup,
                                                    "last_written": self.last_written})
        if path == "/moto-api/iag/stats" and method == "GET":
            with self._turn:  # the tables do not change while they are counted
                return self._json(start_response, 200, {"items": stored_items(), "actions": self.actions.as_dict()})
        if path == "/moto-api/iag/snapshot" and method == "POST":
            if not self.snapshot:
                return self._json(start_response, 409, {"error": "started without IAG_MOTO_SNAPSHOT"})
            return self._json(start_response, 200, self.save(force=True))
        return self._json(start_response, 404, {"error": f"no {method} {path}"})

    @staticmethod
    def _json(start_response, status: int, body: dict):
        data = json.dumps(body).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def restore(self) -> None:
        if self.snapshot:
            self.startup = moto_state.restore(self.snapshot)
            self.generation = self.startup["generation"]
            if self.startup["set_aside"] and not self.startup["restored"]:
                print(f"moto: could not read the snapshot ({self.startup['error']}); set it aside as "
                      f"{self.startup['set_aside']} and started empty", flush=True)
            elif self.startup["restored"]:
                print(f"moto: restored {self.startup['restored']} in {self.startup['seconds']:.1f} s", flush=True)
                if self.startup["set_aside"]:
                    print(f"moto: {self.startup['error']}; the journal is kept as {self.startup['set_aside']}",
                          flush=True)
            if self.startup["restored"] or self.startup["set_aside"]:
                CHANGES.whole_snapshot_due = True  # start the next generation from what was restored

    def save(self, force: bool = False, wait: float = 30) -> dict:
        """Write what changed since the last write: the journal's next lines, or a whole snapshot (when `force`d, the
        first time, after a restart or a failed write, and once the journal has grown to half the snapshot's size).
        {"written": bool, "kind": "snapshot" | "journal", ...}."""
        if self.snapshot is None:
            return {"written": False, "error": "no snapshot file configured"}
        journal = moto_state.journal_path(self.snapshot)
        with self._writing:
            if not self._turn.acquire(timeout=wait):
                return {"written": False, "error": "moto stayed busy"}
            try:  # the copy is taken between two requests: one consistent moment
                changes = self.changes
                if changes == self.saved_changes and not force:
                    return {"written": False}
                began = time.monotonic()
                whole = (force or CHANGES.whole_snapshot_due or not self.snapshot.exists()
                         or _size(journal) > _size(self.snapshot) // 2)
                if whole:
                    self.generation += 1
                    state, lines = moto_state.dump(self.generation), []
                else:
                    state, lines = None, moto_state.changed_lines(self.generation, CHANGES.items,
                                                                  CHANGES.mail_written, CHANGES.pools_changed)
                CHANGES.written(moto_state.mail_counts() if whole else None)
                held = moto_state.counts()
            finally:
                self._turn.release()
            try:
                if state is not None:
                    moto_state.write(state, self.snapshot)
                    journal.unlink(missing_ok=True)  # its lines are of the generation before: ignored if left
                else:
                    moto_state.append(lines, journal)
            except BaseException:
                CHANGES.whole_snapshot_due = True  # what was not written goes into the next, whole, snapshot
                raise
            self.saved_changes = changes  # only once written: a failed write is tried again next interval
            self.last_written = {"written": True, "kind": "snapshot" if whole else "journal",
                                 "at": time.time(), "seconds": round(time.monotonic() - began, 3),
                                 "lines": len(lines), "items": held["items"], "emails": held["emails"]}
            return self.last_written

    def next_interval(self) -> float:
        """The configured interval, or longer once a snapshot costs more than 5% of it: writing one takes time in
        proportion to the data (about 1 s at 15,000 items on a busy machine), and requests wait while it is taken.
        A crash loses at most this long."""
        cost = (self.last_written or {}).get("seconds", 0.0)
        return max(self.interval, SNAPSHOT_COST_SHARE * cost)

    def save_every_interval(self) -> None:
        while True:
            time.sleep(self.next_interval())
            try:
                self.save()
            except Exception as error:  # noqa: BLE001 -- e.g. a full disk: say so, keep serving, try again
                print(f"moto: snapshot not written: {type(error).__name__}: {error}", flush=True)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # moto builds some URLs from it, as its own launcher does
    untrack_instances()
    cheap_transaction_rollback()
    queries_read_their_partition()
    items_built_in_one_pass()
    snapshot = Path(os.environ["IAG_MOTO_SNAPSHOT"]) if os.environ.get("IAG_MOTO_SNAPSHOT") else None
    if snapshot:
        changes_are_tracked()
    app = LocalMoto(DomainDispatcherApplication(create_backend_app), snapshot,
                    float(os.environ.get("IAG_MOTO_SNAPSHOT_SECONDS") or 30))
    app.restore()  # before listening: the first answer comes from the restored state
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if snapshot:
        threading.Thread(target=app.save_every_interval, daemon=True, name="snapshot").start()
    try:
        run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    finally:
        if snapshot:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the last write short
            print(f"moto: final snapshot {app.save(wait=5)}", flush=True)


if __name__ == "__main__":
    main()
