"""Our moto wrapper (scripts/serial_moto.py) keeps the local stack's state across restarts and crashes,
does not grow without bound, and serves the mailbox newest first. Each test starts the wrapper alone on a
free port: a few seconds."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.stack import ROOT, free_ports

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PASSWORD = "Operator-Pass-1"  # nosec B105 # moto only


class Moto:
    def __init__(self, snapshot: Path, log: Path, interval: float = 30):
        self.port, self.snapshot, self.log, self.interval = free_ports(1)[0], snapshot, log, interval
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, **extra_env) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "IAG_"))}
        env.update(**extra_env)
        env.update(IAG_MOTO_SNAPSHOT=str(self.snapshot), IAG_MOTO_SNAPSHOT_SECONDS=str(self.interval),
                   MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY="HASH", MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY="HASH")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "scripts.serial_moto", "127.0.0.1",
                                             str(self.port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                return self.get("/moto-api/iag/state")
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.1)
        raise AssertionError(f"moto did not start:\n{self.log.read_text()}")

    def get(self, path: str) -> dict:
        with _http.open(f"{self.url}{path}", timeout=10) as response:
            return json.load(response)

    def stop(self, signum=signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=30)

    def client(self, service: str):
        return boto3.client(service, region_name="eu-west-2", endpoint_url=self.url, aws_access_key_id="local",
                            aws_secret_access_key="local")


@pytest.fixture
def moto(tmp_path):
    started = Moto(tmp_path / "moto-state.json", tmp_path / "moto.log")
    yield started
    started.stop(signal.SIGKILL)


def make_table(dynamodb) -> None:
    dynamodb.create_table(TableName="things", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                     {"AttributeName": "sk", "KeyType": "RANGE"}],
                          AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                                                for name in ("pk", "sk", "kind")],
                          GlobalSecondaryIndexes=[{"IndexName": "by-kind", "Projection": {"ProjectionType": "ALL"},
                                                   "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}]}])


def put(dynamodb, pk: str, **attributes) -> None:
    dynamodb.put_item(TableName="things", Item={"pk": {"S": pk}, "sk": {"S": "0"}, "kind": {"S": "thing"},
                                                **{k: {"S": v} for k, v in attributes.items()}})


def keys(dynamodb) -> set[str]:
    return {item["pk"]["S"] for item in dynamodb.scan(TableName="things")["Items"]}


def send(ses, subject: str) -> None:
    ses.send_email(Source="noreply@local.example", Destination={"ToAddresses": ["someone@local.example"]},
                   Message={"Subject": {"Data": subject}, "Body": {"Html": {"Data": f"<p>{subject}</p>"}}})


def test_a_restart_brings_back_the_table_the_emails_and_operators_who_can_still_sign_in(moto):
    assert moto.start()["startup"]["restored"] is None  # nothing to restore yet
    dynamodb, ses, cognito = moto.client("dynamodb"), moto.client("ses"), moto.client("cognito-idp")
    make_table(dynamodb)
    dynamodb.update_time_to_live(TableName="things", TimeToLiveSpecification={"Enabled": True,
                                                                                "AttributeName": "expires"})
    put(dynamodb, "application-1", name="Amira")
    ses.verify_email_identity(EmailAddress="noreply@local.example")
    send(ses, "first")
    send(ses, "second")
    pool = cognito.create_user_pool(PoolName="operators")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="admin",
                                             ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="admin.derbyshire", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="admin.derbyshire", Password=PASSWORD,
                                    Permanent=True)
    moto.stop()  # a clean stop writes the snapshot

    state = moto.start()
    assert state["startup"]["restored"] == {"items": 1, "emails": 2, "user_pools": 1, "users": 1, "journal_lines": 0}
    [item] = dynamodb.scan(TableName="things")["Items"]
    assert item["name"] == {"S": "Amira"}
    assert dynamodb.query(TableName="things", IndexName="by-kind", KeyConditionExpression="kind = :k",
                          ExpressionAttributeValues={":k": {"S": "thing"}})["Count"] == 1
    assert dynamodb.describe_time_to_live(TableName="things")["TimeToLiveDescription"]["AttributeName"] == "expires"
    assert [m["subject"] for m in moto.get("/moto-api/iag/mailbox")["messages"]] == ["second", "first"]
    assert cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"] == pool  # the API's settings still hold
    signed_in = cognito.initiate_auth(ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": "admin.derbyshire", "PASSWORD": PASSWORD})
    assert signed_in["AuthenticationResult"]["IdToken"]
    send(ses, "third")  # and it carries on: sends after the restore come first in the mailbox
    assert moto.get("/moto-api/iag/mailbox?limit=1")["messages"][0]["subject"] == "third"


def test_after_sigkill_at_most_the_last_interval_is_lost(tmp_path):
    moto = Moto(tmp_path / "moto-state.json", tmp_path / "moto.log", interval=1)
    try:
        moto.start()
        dynamodb = moto.client("dynamodb")
        make_table(dynamodb)
        put(dynamodb, "before-the-interval")
        deadline = time.monotonic() + 20
        while not (moto.get("/moto-api/iag/state")["last_written"] or {}).get("items"):
            assert time.monotonic() < deadline, "no snapshot within 20 s at a 1 s interval"
            time.sleep(0.2)
        moto.stop(signal.SIGKILL)

        assert moto.start()["startup"]["restored"]["items"] == 1
        assert keys(dynamodb) == {"before-the-interval"}
    finally:
        moto.stop(signal.SIGKILL)


def test_an_unreadable_snapshot_is_set_aside_and_moto_starts_empty(moto):
    moto.snapshot.write_text('{"format": 1, "dynamodb": [')  # cut short, as by a full disk
    state = moto.start()
    aside = Path(state["startup"]["set_aside"])
    assert aside.read_text() == '{"format": 1, "dynamodb": ['  # kept, not deleted
    assert not moto.snapshot.exists()
    assert "could not read the snapshot" in moto.log.read_text()
    assert moto.client("dynamodb").list_tables()["TableNames"] == []
    make_table(moto.client("dynamodb"))  # and it works
    assert moto.client("dynamodb").list_tables()["TableNames"] == ["things"]


def test_a_cancelled_transaction_changes_nothing(moto):
    moto.start()
    dynamodb = moto.client("dynamodb")
    make_table(dynamodb)
    put(dynamodb, "existing", status="submitted")
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "things", "Key": {"pk": {"S": "existing"}, "sk": {"S": "0"}},
                        "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "offered"}}}},
            {"Put": {"TableName": "things", "Item": {"pk": {"S": "new"}, "sk": {"S": "0"}}}},
            {"Put": {"TableName": "things", "Item": {"pk": {"S": "guard"}, "sk": {"S": "0"}},
                     "ConditionExpression": "attribute_exists(pk)"}}])
    [item] = dynamodb.scan(TableName="things")["Items"]
    assert (item["pk"]["S"], item["status"]["S"]) == ("existing", "submitted")


def test_the_mailbox_pages_newest_first_and_refuses_bad_paging(moto):
    moto.start()
    ses = moto.client("ses")
    ses.verify_email_identity(EmailAddress="noreply@local.example")
    for number in range(7):
        send(ses, f"email {number}")
    page = moto.get("/moto-api/iag/mailbox?offset=2&limit=3")
    assert page["total"] == 7
    assert [m["subject"] for m in page["messages"]] == ["email 4", "email 3", "email 2"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        moto.get("/moto-api/iag/mailbox?limit=many")
    assert refused.value.code == 400


def test_stats_count_the_items_held_and_each_actions_calls_without_writing_a_snapshot(moto):
    moto.start()
    dynamodb, ses = moto.client("dynamodb"), moto.client("ses")
    make_table(dynamodb)
    for pk in ("a", "b", "c"):
        put(dynamodb, pk)
    dynamodb.delete_item(TableName="things", Key={"pk": {"S": "b"}, "sk": {"S": "0"}})
    dynamodb.query(TableName="things", IndexName="by-kind", KeyConditionExpression="kind = :k",
                   ExpressionAttributeValues={":k": {"S": "thing"}})
    ses.verify_email_identity(EmailAddress="noreply@local.example")
    send(ses, "counted")
    stats = moto.get("/moto-api/iag/stats")
    assert stats["items"] == {"things": 2}
    actions = stats["actions"]
    assert actions["dynamodb PutItem things"]["calls"] == 3 and actions["dynamodb DeleteItem things"]["calls"] == 1
    assert actions["dynamodb Query things/by-kind"]["calls"] == 1 and actions["dynamodb Query things/by-kind"]["bytes"] > 0
    assert actions["ses SendEmail"]["calls"] == 1
    assert not moto.snapshot.exists()  # counting wrote nothing


def test_moto_keeps_only_the_items_that_exist_however_many_transactions_ran():
    """moto 5.2.5 tracks every object it creates and deep-copies the table for each item of a transaction:
    200 transactions of two items on a growing table left 40,200 Item objects alive (measured). With our
    patches: the 200 in the table."""
    script = textwrap.dedent("""
        import gc, boto3
        from moto import mock_aws
        from moto.dynamodb.models.dynamo_type import Item
        from scripts.serial_moto import cheap_transaction_rollback, untrack_instances
        untrack_instances()
        cheap_transaction_rollback()
        with mock_aws():
            db = boto3.client("dynamodb", region_name="eu-west-2")
            db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
            for i in range(200):
                db.transact_write_items(TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"item-{i}"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"guard-{i}"}}}}])
                db.delete_item(TableName="t", Key={"pk": {"S": f"guard-{i}"}})
            gc.collect()
            print(sum(1 for o in gc.get_objects() if isinstance(o, Item)))
    """)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) <= 210  # the 200 items in the table, and a few in flight


def test_an_old_recording_is_migrated_once_into_a_snapshot(moto, tmp_path, monkeypatch):
    from scripts import local_stack

    recording = tmp_path / "moto-recording.jsonl"
    moto.start(MOTO_ENABLE_RECORDING="1", MOTO_RECORDER_FILEPATH=str(recording))  # as earlier versions ran moto
    dynamodb = moto.client("dynamodb")
    make_table(dynamodb)
    put(dynamodb, "from-the-recording")
    moto.stop(signal.SIGKILL)  # no snapshot: only the recording
    moto.snapshot.unlink(missing_ok=True)
    assert recording.stat().st_size

    monkeypatch.setattr(local_stack, "RECORDING", recording)
    monkeypatch.setattr(local_stack, "SNAPSHOT", moto.snapshot)
    monkeypatch.delenv("MOTO_ENABLE_RECORDING", raising=False)
    moto.start(MOTO_RECORDER_FILEPATH=str(recording))
    local_stack.report_state(moto.url)
    assert keys(dynamodb) == {"from-the-recording"}
    assert moto.snapshot.exists() and not recording.exists()
    assert (tmp_path / "moto-recording.jsonl.migrated").exists()  # kept, for the developer to delete
    moto.stop(signal.SIGKILL)

    assert moto.start()["startup"]["restored"]["items"] == 1  # from now on, the snapshot


def test_a_recording_that_cannot_be_replayed_is_refused_with_what_to_do(moto, tmp_path, monkeypatch):
    from scripts import local_stack

    recording = tmp_path / "moto-recording.jsonl"
    recording.write_text('{"cut short\n')
    monkeypatch.setattr(local_stack, "RECORDING", recording)
    monkeypatch.setattr(local_stack, "SNAPSHOT", moto.snapshot)
    monkeypatch.delenv("MOTO_ENABLE_RECORDING", raising=False)
    moto.start(MOTO_RECORDER_FILEPATH=str(recording))
    with pytest.raises(local_stack.Failed, match="move .*moto-recording.jsonl away"):
        local_stack.report_state(moto.url)
    assert recording.read_text() == '{"cut short\n'  # untouched


def test_reads_alone_write_no_snapshot(tmp_path):
    """An idle stack (reconciliation reading, a person browsing) leaves the file as it is."""
    moto = Moto(tmp_path / "moto-state.json", tmp_path / "moto.log", interval=0.5)
    try:
        moto.start()
        dynamodb = moto.client("dynamodb")
        make_table(dynamodb)
        put(dynamodb, "one")
        deadline = time.monotonic() + 20
        while not (moto.get("/moto-api/iag/state")["last_written"] or {}).get("items"):
            assert time.monotonic() < deadline, "no snapshot within 20 s at a 0.5 s interval"
            time.sleep(0.1)
        written = moto.get("/moto-api/iag/state")["last_written"]
        modified = moto.snapshot.stat().st_mtime_ns
        for _ in range(20):  # about 3 s of reads: six intervals
            dynamodb.scan(TableName="things")
            dynamodb.get_item(TableName="things", Key={"pk": {"S": "one"}, "sk": {"S": "0"}})
            time.sleep(0.15)
        assert moto.get("/moto-api/iag/state")["last_written"] == written
        assert moto.snapshot.stat().st_mtime_ns == modified
        put(dynamodb, "two")  # and a write is saved again
        deadline = time.monotonic() + 20
        while moto.get("/moto-api/iag/state")["last_written"] == written:
            assert time.monotonic() < deadline, "the write after the reads was not saved"
            time.sleep(0.1)
    finally:
        moto.stop(signal.SIGKILL)


def restore_patched_methods(monkeypatch) -> None:
    """queries_read_their_partition patches moto process-wide: these are put back after the test."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    for owner, name in ((Table, "query"), (Table, "put_item"), (Table, "delete_item"),
                        (DynamoDBBackend, "update_item"), (DynamoDBBackend, "transact_write_items")):
        monkeypatch.setattr(owner, name, getattr(owner, name))


def test_a_query_reads_its_partition_and_answers_as_moto_does(monkeypatch):
    """Same answers as moto's own Query (pages, order, the index), without sorting the whole table each time."""
    from moto import mock_aws
    from moto.dynamodb.models.dynamo_type import DynamoType

    from scripts.serial_moto import queries_read_their_partition

    restore_patched_methods(monkeypatch)
    with mock_aws():
        db = boto3.client("dynamodb", region_name="eu-west-2", aws_access_key_id="t", aws_secret_access_key="t")
        db.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G", "GS")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "G", "KeyType": "HASH"}, {"AttributeName": "GS", "KeyType": "RANGE"}]}])
        for i in range(2000):
            item = {"PK": {"S": f"P#{i % 200}"}, "SK": {"S": f"S#{(i * 7) % 1000:04d}"}}
            if i % 3 == 0:  # only some items are in the index, as in the product
                item.update(G={"S": f"G#{i % 5}"}, GS={"S": f"{i:05d}"})
            db.put_item(TableName="t", Item=item)

        def answers() -> list:
            asked = [
                {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "P#7"}}},
                {"KeyConditionExpression": "PK = :p AND begins_with(SK, :s)", "ScanIndexForward": False,
                 "ExpressionAttributeValues": {":p": {"S": "P#7"}, ":s": {"S": "S#0"}}},
                {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "P#404"}}},
                {"IndexName": "GSI1", "KeyConditionExpression": "G = :g AND GS > :f",
                 "ExpressionAttributeValues": {":g": {"S": "G#3"}, ":f": {"S": "00500"}}},
            ]
            pages = []
            for question in asked:
                start = None
                while True:
                    page = db.query(TableName="t", Limit=4, **question, **({"ExclusiveStartKey": start} if start else {}))
                    pages.append((page["Items"], page.get("LastEvaluatedKey")))
                    start = page.get("LastEvaluatedKey")
                    if not start:
                        break
            return pages

        upstream = answers()
        queries_read_their_partition()
        assert answers() == upstream and len(upstream) > 20

        compared = []
        monkeypatch.setattr(DynamoType, "__lt__", lambda self, other: compared.append(1) or
                            (self.type, self.cast_value) < (other.type, other.cast_value))
        db.query(TableName="t", KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "P#7"}})
        assert len(compared) < 100  # the partition's 10 items sorted, not the table's 2,000


def test_a_query_on_an_index_reads_its_partition_kept_right_through_every_kind_of_write(monkeypatch):
    """The index's partitions follow puts, updates that move an item to another partition or out of the index,
    deletes, batch writes and transactions (a cancelled one changes nothing); a Query on the index reads only
    its partition."""
    from collections import defaultdict

    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from scripts.serial_moto import queries_read_their_partition

    restore_patched_methods(monkeypatch)
    monkeypatch.setenv("IAG_MOTO_CHECK_INDEXES", "1")  # every index Query also checked against a walk
    with mock_aws():
        db = boto3.client("dynamodb", region_name="eu-west-2", aws_access_key_id="t", aws_secret_access_key="t")
        db.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}]}])
        for i in range(300):
            db.put_item(TableName="t", Item={"PK": {"S": f"P#{i}"}, "SK": {"S": "0"}, "G": {"S": f"G#{i % 3}"}})
        queries_read_their_partition()

        def key(pk: str) -> dict:
            return {"PK": {"S": pk}, "SK": {"S": "0"}}

        def in_index(group: str) -> set[str]:
            found, start = set(), None
            while True:
                page = db.query(TableName="t", IndexName="GSI1", KeyConditionExpression="G = :g", Limit=40,
                                ExpressionAttributeValues={":g": {"S": group}},
                                **({"ExclusiveStartKey": start} if start else {}))
                found |= {item["PK"]["S"] for item in page["Items"]}
                start = page.get("LastEvaluatedKey")
                if not start:
                    return found

        def truth(group: str) -> set[str]:
            return {item["PK"]["S"] for item in db.scan(TableName="t")["Items"] if item.get("G", {}).get("S") == group}

        assert in_index("G#1") == truth("G#1") and len(truth("G#1")) == 100
        db.put_item(TableName="t", Item={**key("new"), "G": {"S": "G#1"}})
        db.update_item(TableName="t", Key=key("P#1"), UpdateExpression="SET G = :g",  # moved to G#2
                       ExpressionAttributeValues={":g": {"S": "G#2"}})
        db.update_item(TableName="t", Key=key("P#4"), UpdateExpression="REMOVE G")  # out of the index
        db.update_item(TableName="t", Key=key("fresh"), UpdateExpression="SET G = :g",  # created by an update
                       ExpressionAttributeValues={":g": {"S": "G#1"}})
        db.delete_item(TableName="t", Key=key("P#7"))
        db.put_item(TableName="t", Item={**key("P#10"), "G": {"S": "G#0"}})  # replaced, in another partition
        db.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {**key("batch"), "G": {"S": "G#1"}}}},
                                                {"DeleteRequest": {"Key": key("P#13")}}]})
        db.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": key("P#16"), "UpdateExpression": "SET G = :g",
                        "ExpressionAttributeValues": {":g": {"S": "G#0"}}}},
            {"Put": {"TableName": "t", "Item": {**key("transacted"), "G": {"S": "G#1"}}}}])
        with pytest.raises(ClientError, match="TransactionCanceled"):
            db.transact_write_items(TransactItems=[
                {"Update": {"TableName": "t", "Key": key("P#19"), "UpdateExpression": "SET G = :g",
                            "ExpressionAttributeValues": {":g": {"S": "G#0"}}}},
                {"Delete": {"TableName": "t", "Key": key("P#22")}},
                {"Put": {"TableName": "t", "Item": {**key("P#25"), "G": {"S": "G#0"}},
                         "ConditionExpression": "attribute_not_exists(PK)"}}])
        for group in ("G#0", "G#1", "G#2"):
            assert in_index(group) == truth(group)
        assert {"new", "fresh", "batch", "transacted", "P#19", "P#22", "P#25"} <= in_index("G#1")
        assert not {"P#1", "P#4", "P#7", "P#10", "P#13", "P#16"} & in_index("G#1")

        table = dynamodb_backends["123456789012"]["eu-west-2"].tables["t"]
        walks = []

        class Watched(defaultdict):
            def values(self):
                walks.append(1)
                return super().values()

        table.items = Watched(dict, table.items)
        monkeypatch.delenv("IAG_MOTO_CHECK_INDEXES")
        in_index("G#1")
        assert walks == []  # the index's partition was read, not the table


def test_snapshots_are_spaced_out_as_they_grow_costly():
    from scripts.serial_moto import LocalMoto

    moto = LocalMoto(app=None, snapshot=None, interval=30)
    assert moto.next_interval() == 30  # none written yet
    moto.last_written = {"written": True, "seconds": 0.4}
    assert moto.next_interval() == 30  # cheap: the configured interval
    moto.last_written = {"written": True, "seconds": 3.0}
    assert moto.next_interval() == 60  # 3 s every 60 s: requests wait at most 5% of the time


def test_an_item_is_built_in_one_pass_and_one_too_large_is_still_refused(monkeypatch):
    from moto import mock_aws
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from scripts.serial_moto import items_built_in_one_pass

    monkeypatch.setattr(Item, "__init__", Item.__init__)  # restored after the test: the patch is process-wide
    wide = {"PK": {"S": "P#1"}, "SK": {"S": "S#1"},
            **{f"a{n}": {"M": {"name": {"S": f"v{n}"}, "tags": {"L": [{"S": "x"}, {"N": str(n)}]}}} for n in range(60)}}
    with mock_aws():
        db = boto3.client("dynamodb", region_name="eu-west-2", aws_access_key_id="t", aws_secret_access_key="t")
        db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                                   {"AttributeName": "SK", "KeyType": "RANGE"}])

        def put_counting_sizes(item: dict) -> int:
            sized = []
            size = DynamoType.size
            monkeypatch.setattr(DynamoType, "size", lambda self: sized.append(1) or size(self))
            try:
                db.put_item(TableName="t", Item=item)
            finally:
                monkeypatch.setattr(DynamoType, "size", size)
            return len(sized)

        upstream_sizes = put_counting_sizes(wide)
        upstream = db.get_item(TableName="t", Key={"PK": {"S": "P#1"}, "SK": {"S": "S#1"}})["Item"]
        items_built_in_one_pass()
        sizes = put_counting_sizes(wide)
        assert db.get_item(TableName="t", Key={"PK": {"S": "P#1"}, "SK": {"S": "S#1"}})["Item"] == upstream == wide
        assert sizes < upstream_sizes / 10, (sizes, upstream_sizes)  # each attribute's size once, not again per key

        too_large = {"PK": {"S": "P#2"}, "SK": {"S": "S#2"}, "big": {"S": "x" * 200_000}, "more": {"S": "y" * 205_000}}
        with pytest.raises(ClientError, match="Item size has exceeded"):
            db.put_item(TableName="t", Item=too_large)
        assert "Item" not in db.get_item(TableName="t", Key={"PK": {"S": "P#2"}, "SK": {"S": "S#2"}})


def lines_of(journal: Path) -> list[dict]:
    return [json.loads(line) for line in journal.read_text().splitlines()] if journal.exists() else []


def snapshot_now(moto: Moto) -> dict:
    request = urllib.request.Request(f"{moto.url}/moto-api/iag/snapshot", method="POST")
    with _http.open(request, timeout=30) as response:
        return json.load(response)


def written(moto: Moto, kind: str, after: float = 0.0, bound: float = 20) -> dict:
    """Wait for the wrapper's next write of `kind` ("snapshot" or "journal") after time `after`."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        last = moto.get("/moto-api/iag/state")["last_written"]
        if last and last["kind"] == kind and last["at"] > after:
            return last
        time.sleep(0.1)
    raise AssertionError(f"no {kind} written within {bound} s: {moto.get('/moto-api/iag/state')}")


def test_between_snapshots_only_the_changes_are_written_and_a_crash_keeps_them(tmp_path):
    moto = Moto(tmp_path / "moto-state.json", tmp_path / "moto.log", interval=0.5)
    try:
        moto.start()
        dynamodb, ses = moto.client("dynamodb"), moto.client("ses")
        ses.verify_email_identity(EmailAddress="noreply@local.example")
        make_table(dynamodb)
        for n in range(300):
            put(dynamodb, f"p{n}")
        first = snapshot_now(moto)
        assert first["kind"] == "snapshot" and first["items"] == 300
        snapshot_bytes = moto.snapshot.stat().st_size

        put(dynamodb, "new")
        dynamodb.update_item(TableName="things", Key={"pk": {"S": "p1"}, "sk": {"S": "0"}},
                             UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "changed"}})
        dynamodb.delete_item(TableName="things", Key={"pk": {"S": "p2"}, "sk": {"S": "0"}})
        send(ses, "after the snapshot")
        journal = moto.snapshot.with_name(moto.snapshot.name + ".journal")
        deadline = time.monotonic() + 20
        while len(lines_of(journal)) < 4 and time.monotonic() < deadline:  # written as the interval comes
            time.sleep(0.1)
        # Three items and the new email, in one write or over several: not the 300 items again.
        assert sorted(next(iter(set(line) - {"g"})) for line in lines_of(journal)) == ["delete", "mail", "put", "put"]
        assert moto.snapshot.stat().st_size == snapshot_bytes  # the snapshot was not written again

        moto.stop(signal.SIGKILL)  # a crash: the journal is all there is of those changes
        restored = moto.start()["startup"]
        assert restored["restored"]["journal_lines"] == 4 and restored["set_aside"] is None
        assert keys(dynamodb) == {f"p{n}" for n in range(300)} - {"p2"} | {"new"}
        item = dynamodb.get_item(TableName="things", Key={"pk": {"S": "p1"}, "sk": {"S": "0"}})["Item"]
        assert item["note"] == {"S": "changed"}
        assert moto.get("/moto-api/iag/mailbox?limit=1")["messages"][0]["subject"] == "after the snapshot"
        put(dynamodb, "after the restart")
        assert written(moto, "snapshot", after=first["at"])["items"] == 301  # a new generation starts whole
    finally:
        moto.stop(signal.SIGKILL)


def test_a_journal_cut_short_or_left_from_before_the_snapshot_is_not_replayed(tmp_path):
    moto = Moto(tmp_path / "moto-state.json", tmp_path / "moto.log", interval=0.5)
    try:
        moto.start()
        dynamodb = moto.client("dynamodb")
        make_table(dynamodb)
        put(dynamodb, "kept")
        first = snapshot_now(moto)
        put(dynamodb, "journalled")
        written(moto, "journal", after=first["at"])
        moto.stop(signal.SIGKILL)
        journal = moto.snapshot.with_name(moto.snapshot.name + ".journal")
        generation = json.loads(journal.read_text().splitlines()[0])["g"]
        ghost = {"account": "123456789012", "region": "eu-west-2", "table": "things",
                 "item": {"pk": {"S": "ghost"}, "sk": {"S": "0"}, "kind": {"S": "thing"}}}
        with open(journal, "a") as out:  # a line of an older generation, then an append a crash cut short
            out.write(json.dumps({"g": generation - 1, "put": ghost}) + "\n" + '{"g": %d, "put": {"acc' % generation)
        restored = moto.start()["startup"]
        assert restored["set_aside"] is None and restored["error"] is None
        assert keys(dynamodb) == {"kept", "journalled"}

        moto.stop(signal.SIGKILL)
        journal.write_text('{"g": %d, "put": {"acc\n' % generation + journal.read_text())  # unreadable, not last
        restored = moto.start()["startup"]
        assert "journal line 1 cannot be read" in restored["error"] and restored["set_aside"].endswith(
            tuple("0123456789"))  # kept aside under a dated name; the snapshot itself was restored
        assert keys(dynamodb) == {"kept"}
    finally:
        moto.stop(signal.SIGKILL)
