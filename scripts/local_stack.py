"""The local stack behind `make up` and `make down`: moto, a Prefect server and the API.

    python -m scripts.local_stack up     # start everything, print the URLs, wait; Ctrl-C stops it all
    python -m scripts.local_stack down   # from another terminal: stop a stack started by `up`

Ports: MOTO_PORT (5000), PREFECT_PORT (4200), API_PORT (8000), PG_PORT (5433). State and logs live in
IAG_LOCAL_DIR (default .local/). The Prefect server keeps its data in PostgreSQL (Debian's `postgresql`, which
`make up` installs when it is missing), in .local/postgres/, as production does; without PostgreSQL it says so and
uses SQLite (fine for clicking through, "database is locked" under a surge); IAG_PREFECT_DATABASE=sqlite asks for it.
Services start as soon as what they need is ready: the Prefect server beside moto and the API. moto keeps its
state (table, sent emails, operator pool) in moto-state.json, and what changed since in moto-state.json.journal:
written every MOTO_SNAPSHOT_SECONDS (30) when something changed and on stop, restored at start; delete both to
start empty.
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
LOCAL = Path(os.environ.get("IAG_LOCAL_DIR") or ROOT / ".local").resolve()
LOGS = LOCAL / "logs"
PIDS = LOCAL / "stack.pids"
SNAPSHOT = LOCAL / "moto-state.json"
RECORDING = LOCAL / "moto-recording.jsonl"  # what earlier versions kept instead: migrated once
HOST = "127.0.0.1"
PORTS = {"moto": ("MOTO_PORT", 5000), "prefect": ("PREFECT_PORT", 4200), "api": ("API_PORT", 8000),
         "postgres": ("PG_PORT", 5433)}  # not 5432: where a system cluster may listen
STOP_TIMEOUT = 10  # seconds from SIGTERM to SIGKILL
RUN_DRAIN_SECONDS = 10  # how long a stop lets flow runs in progress finish before signalling them
# PostgreSQL's SIGTERM waits for every client to disconnect; SIGINT ("fast") ends their sessions and stops cleanly.
STOP_SIGNALS = {"postgres": signal.SIGINT}
POSTGRES = LOCAL / "postgres"  # data/ (the cluster) and password (Prefect's, generated once)
PG_USER = PG_DATABASE = "prefect"
DATABASE_CREATED = POSTGRES / "database-created"
PREFECT_MIGRATED = POSTGRES / "prefect-migrated"  # the Prefect version whose migrations this database has had
MOTO_ENDPOINTS = ("IAG_AWS_ENDPOINT",)  # what chalicelib.settings reads for every AWS service

# Local URLs only: never route them through a proxy set in the environment.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]  # added to this process's environment
    ready_url: Optional[str]  # answers 200 once the service is up; None: started is enough
    port: Optional[int] = None
    ready_timeout: float = 30
    before_start: Optional[Callable[[], None]] = None
    after_ready: Optional[Callable[[], None]] = None
    ready: Optional[Callable[[], bool]] = None  # for a service that answers no HTTP: True once it is up
    user: Optional[str] = None  # run as this user (PostgreSQL refuses to run as root)
    needs: tuple[str, ...] = ()  # services that must be ready (and their after_ready done) before this one starts


class Stop(BaseException):
    """SIGINT or SIGTERM. A BaseException, like KeyboardInterrupt, so no `except Exception` swallows it."""


class Failed(Exception):
    def __init__(self, message: str, service: Optional[str] = None):
        super().__init__(message)
        self.service = service  # whose log tail to show


def port(name: str) -> int:
    variable, default = PORTS[name]
    return int(os.environ.get(variable) or default)


def services() -> list[Service]:
    """What `up` starts, in order; each is ready before the next starts."""
    moto = f"http://{HOST}:{port('moto')}"
    prefect = f"http://{HOST}:{port('prefect')}"
    api = f"http://{HOST}:{port('api')}"
    api_env = {**chalice_stage_env(), **{key: moto for key in MOTO_ENDPOINTS}, "IAG_PUBLIC_BASE_URL": api,
               "IAG_PREFECT_API_URL": f"{prefect}/api"}
    prefect_env = {"PREFECT_HOME": str(LOCAL / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   # Else a PREFECT_API_URL in the developer's shell would point the UI elsewhere.
                   "PREFECT_API_URL": f"{prefect}/api"}
    database = postgres_service(prefect_env)
    flows_started: dict[str, float] = {}
    return [
        Service("moto", [str(BIN / "python"), "-m", "scripts.serial_moto", HOST, str(port("moto"))],
                {"IAG_MOTO_SNAPSHOT": str(SNAPSHOT),
                 "IAG_MOTO_SNAPSHOT_SECONDS": os.environ.get("MOTO_SNAPSHOT_SECONDS") or "30",
                 # For migrating an old recording once; and for measuring (bench/cost.py), which sets
                 # MOTO_ENABLE_RECORDING=1 to have every request recorded there. Otherwise nothing is recorded.
                 "MOTO_RECORDER_FILEPATH": str(RECORDING),
                 **({"MOTO_ENABLE_RECORDING": "1"} if os.environ.get("MOTO_ENABLE_RECORDING") else {}),
                 # Ids from the pool's settings, not random: a replayed recording recreates the same pool and client.
                 "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
                 "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH"},
                # Answers once the snapshot is restored: time in proportion to the data (seconds for a day's).
                f"{moto}/moto-api/iag/state", port("moto"), ready_timeout=300,
                after_ready=lambda: report_state(moto)),
        *([database] if database else []),
        Service("prefect", [str(BIN / "prefect"), "server", "start", "--host", HOST, "--port", str(port("prefect"))],
                prefect_env, f"{prefect}/api/health", port("prefect"), ready_timeout=90,  # cold: 17-33 s seen on 2 busy cores
                needs=("postgres",) if database else (), after_ready=lambda: prefect_ready(prefect_env)),
        # The flow deployments, served by one process; runs it starts reach moto and Prefect as the API does.
        Service("flows", [str(BIN / "python"), "-m", "flows.serve"],
                {**api_env, "PREFECT_API_URL": f"{prefect}/api", "PREFECT_HOME": str(LOCAL / "prefect"),
                 "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                 "IAG_RECONCILE_SECONDS": "60"},
                # It waits for the Prefect server itself: its imports overlap the server's start.
                None, None, ready_timeout=120,
                before_start=lambda: flows_started.update(at=time.time()),
                # Polled by this runner, not merely known from an earlier start (the deployment outlives a restart).
                ready=lambda: polled_since(f"{prefect}/api/deployments/name/review-application/review-application",
                                           flows_started["at"])),
        # The local stage in .chalice/config.json sets no endpoint or URL, so these from the environment hold.
        Service("api", [str(BIN / "python"), "-m", "scripts.chalice_local", "local", "--host", HOST,
                        "--port", str(port("api")), "--stage", "local", "--no-autoreload"],
                api_env, f"{api}/forces", port("api"),
                before_start=lambda: prepare_data(api_env, OPERATORS_FILE), needs=("moto",)),
        # --- More processes go here.
    ]


def postgres_bin() -> Optional[Path]:
    """The PostgreSQL server's programs: PG_BIN, else Debian's newest /usr/lib/postgresql/N/bin; None if missing."""
    if os.environ.get("PG_BIN"):
        candidates = [Path(os.environ["PG_BIN"])]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                            key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0, reverse=True)
    return next((path for path in candidates if (path / "postgres").exists() and (path / "initdb").exists()), None)


def postgres_user() -> Optional[str]:
    """Whom PostgreSQL runs as: ourselves, or Debian's `postgres` account when we are root (it refuses root)."""
    return "postgres" if os.geteuid() == 0 else None


def postgres_service(prefect_env: dict[str, str]) -> Optional[Service]:
    """The Prefect server's database, as production has it; None (and why, printed) to keep SQLite."""
    if os.environ.get("IAG_PREFECT_DATABASE") == "sqlite":  # for comparing the two
        print("prefect: SQLite, as IAG_PREFECT_DATABASE=sqlite asks")
        return None
    sqlite = LOCAL / "prefect" / "prefect.db"
    if sqlite.exists() and not (POSTGRES / "data").exists():
        # Its suspended runs are waiting applications: moving them is not ours to do, so never strand them.
        print(f"prefect: SQLite, because {sqlite} holds this stack's runs (earlier versions kept them there).\n"
              f"         To move to PostgreSQL, stop the stack, move that file away and start again; waiting\n"
              f"         applications' runs are then started afresh by reconciliation.")
        return None
    programs = postgres_bin()
    if programs is None:
        print("prefect: WARNING: PostgreSQL is not installed (Debian's `postgresql`; `make up` installs it where\n"
              "         it may run apt-get): the Prefect server uses SQLite, which answers \"database is locked\"\n"
              "         when many runs start at once. Install it, or set PG_BIN to its programs' folder.")
        return None
    user = postgres_user()
    if user:
        import pwd

        try:
            pwd.getpwnam(user)
        except KeyError:
            print(f"prefect: WARNING: PostgreSQL may not run as root and there is no `{user}` account to run it as: "
                  "the Prefect server uses SQLite.")
            return None
    data, password_file = POSTGRES / "data", POSTGRES / "password"
    settings = {"listen_addresses": HOST, "port": str(port("postgres")), "unix_socket_directories": "",
                # A crash of the machine may lose the last fraction of a second of Prefect's writes, never corrupt
                # them; each run's state changes no longer wait for a disk flush.
                "synchronous_commit": "off"}

    def prepare() -> None:
        if user:  # at every start, in case something set a folder above back to 0700
            reachable_by_others(POSTGRES.parent)
        init_postgres(programs, data, password_file, user)
        password = password_file.read_text().strip()
        prefect_env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = (
            f"postgresql+asyncpg://{PG_USER}:{password}@{HOST}:{port('postgres')}/{PG_DATABASE}")
        # Prefect checks its schema at every start (alembic loads every migration: seconds of CPU); once this
        # version has migrated this database, it need not again.
        if PREFECT_MIGRATED.exists() and PREFECT_MIGRATED.read_text() == prefect_version():
            prefect_env["PREFECT_SERVER_DATABASE_MIGRATE_ON_START"] = "false"

    def accepting() -> bool:
        return subprocess.run([str(programs / "pg_isready"), "-q", "-h", HOST, "-p", str(port("postgres"))],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode == 0

    return Service("postgres", [str(programs / "postgres"), "-D", str(data),
                                *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}"))],
                   {}, None, port("postgres"), ready_timeout=60, before_start=prepare, ready=accepting,
                   after_ready=lambda: create_database(programs, password_file.read_text().strip()), user=user)


def prefect_version() -> str:
    from importlib.metadata import version

    return version("prefect")


def prefect_ready(prefect_env: dict[str, str]) -> None:
    """Once the server answers on PostgreSQL, its migrations for this version are done."""
    if "PREFECT_SERVER_DATABASE_CONNECTION_URL" in prefect_env and POSTGRES.exists():
        PREFECT_MIGRATED.write_text(prefect_version())


def init_postgres(programs: Path, data: Path, password_file: Path, user: Optional[str]) -> None:
    """A cluster in .local/postgres/data the first time, with a generated password for Prefect's login."""
    if (data / "PG_VERSION").exists():
        return
    POSTGRES.mkdir(parents=True, exist_ok=True)
    for marker in (DATABASE_CREATED, PREFECT_MIGRATED):  # they were about a cluster that is gone
        marker.unlink(missing_ok=True)
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(24))
        password_file.chmod(0o600)
    if user:
        shutil.chown(POSTGRES, user, user)
        shutil.chown(password_file, user, user)
    print(f"postgres: creating the Prefect server's database in {data}")
    done = subprocess.run([str(programs / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={password_file}",
                           "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"], cwd=POSTGRES,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
                          **as_user(user))
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)  # half made: the next start tries again
        raise Failed(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")


def reachable_by_others(path: Path) -> None:
    """PostgreSQL runs as its own account when we are root: let it pass through the folders above its data
    (search only, o+x: nothing in them becomes listable or readable)."""
    import stat

    for folder in reversed([path, *path.parents]):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            print(f"postgres: made {folder} searchable (o+x) so PostgreSQL, running as user postgres, reaches "
                  "its data")


def as_user(user: Optional[str]) -> dict:
    """subprocess options to run as `user` (its own groups, none of ours); none when we run as ourselves."""
    if not user:
        return {}
    import pwd

    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
            "env": {**os.environ, "HOME": account.pw_dir, "USER": user}}


def create_database(programs: Path, password: str) -> None:
    """Prefect's database in the cluster, once (a marker file says it was made)."""
    made = DATABASE_CREATED
    if made.exists():
        return
    done = subprocess.run([str(programs / "createdb"), "-h", HOST, "-p", str(port("postgres")), "-U", PG_USER,
                           PG_DATABASE], env={**os.environ, "PGPASSWORD": password}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise Failed(f"could not create the database {PG_DATABASE!r}: {done.stderr.strip()}", "postgres")
    made.write_text(PG_DATABASE)


def chalice_stage_env() -> dict[str, str]:
    """The local stage's environment variables from .chalice/config.json, merged as chalice merges them."""
    config = json.loads(CHALICE_CONFIG.read_text())
    return {**config.get("environment_variables", {}), **config["stages"]["local"].get("environment_variables", {})}


def report_state(moto_url: str) -> None:
    """Say what moto restored, or why it started empty; migrate an old recording once."""
    with _http.open(f"{moto_url}/moto-api/iag/state", timeout=10) as response:
        startup = json.load(response)["startup"]
    if startup["set_aside"] and not startup["restored"]:
        print(f"moto: WARNING: could not read {SNAPSHOT} ({startup['error']}).\n"
              f"      It is kept as {startup['set_aside']}; the stack starts empty.")
    elif startup["restored"]:
        restored = startup["restored"]
        print(f"moto: restored {restored['items']} items, {restored['emails']} emails and {restored['users']} "
              f"operators from {SNAPSHOT.name} in {startup['seconds']:.1f} s")
        if startup["set_aside"]:  # the snapshot was read; the changes written after it only in part
            print(f"moto: WARNING: the changes since that snapshot could not all be read ({startup['error']});\n"
                  f"      those after the unreadable line are lost, and the journal is kept as {startup['set_aside']}.")
    if (RECORDING.exists() and RECORDING.stat().st_size and not startup["restored"] and not SNAPSHOT.exists()
            and not os.environ.get("MOTO_ENABLE_RECORDING")):
        migrate_recording(moto_url)


def migrate_recording(moto_url: str) -> None:
    """Earlier versions kept every request in a recording and replayed it all at start (slower each day):
    replay it one last time, save the result as a snapshot, and keep the recording aside."""
    count = sum(1 for _ in open(RECORDING, "rb"))
    print(f"moto: migrating {RECORDING.name} ({count} requests) to {SNAPSHOT.name}, once...")
    began = time.monotonic()
    instruction = (f"move {RECORDING} away (e.g. to {RECORDING.name}.old) to start with an empty stack; "
                   f"the stack now keeps its state in {SNAPSHOT.name}")
    try:
        _http.open(urllib.request.Request(f"{moto_url}/moto-api/recorder/replay-recording", method="POST"),
                   timeout=600).close()
        _http.open(urllib.request.Request(f"{moto_url}/moto-api/iag/snapshot", method="POST"), timeout=120).close()
    except urllib.error.HTTPError as error:  # e.g. a line cut short by a crash
        raise Failed(f"moto could not replay {RECORDING} (HTTP {error.code}): {instruction}", "moto") from None
    except OSError as error:  # a recording too long to replay within the limit
        raise Failed(f"moto could not replay {RECORDING} ({error}): {instruction}", "moto") from None
    migrated = RECORDING.with_name(f"{RECORDING.name}.migrated")
    os.replace(RECORDING, migrated)
    print(f"moto: migrated in {time.monotonic() - began:.1f} s; the recording is kept as {migrated.name} "
          "(delete it when you like)")


def prepare_data(api_env: dict[str, str], pool_file: Optional[Path] = None) -> None:
    """The table and a verified email sender in moto, and every force profile checked, with the project's own code."""
    import boto3

    from chalicelib.adapters import dynamodb
    from chalicelib.adapters.force_files import FileForceCatalogue, InvalidProfile
    from chalicelib.adapters.s3_documents import S3Documents
    from chalicelib.settings import Settings

    os.environ.update({k: v for k, v in api_env.items() if k.startswith("AWS_")})  # botocore's credentials
    settings = Settings.from_env(api_env)
    dynamodb.configure(settings)
    created = dynamodb.create_table_if_missing()
    print(f"moto: table {settings.table_name} {'created' if created else 'found'}")
    # SES refuses to send from an unverified address; verifying again is harmless.
    boto3.client("ses", region_name=settings.region, endpoint_url=settings.aws_endpoint).verify_email_identity(
        EmailAddress=settings.mail_from)
    try:
        forces = FileForceCatalogue().all()
    except InvalidProfile as error:
        raise Failed(f"invalid force profile: {error}") from None
    print(f"{len(forces)} forces loaded: {', '.join(force.id for force in forces)}")
    print(f"demo reviewers: {seed_demo_reviewers(forces)} panel roles filled")
    documents = S3Documents(settings.documents_bucket, settings.region, settings.aws_endpoint)
    documents.ensure_bucket()
    published = documents.publish(ROOT / "infra" / "documents")
    print(f"moto: {published} onboarding documents in s3://{settings.documents_bucket}")
    pool = ensure_operator_pool(settings, forces)
    if pool_file:  # for the CLI (`make admin`), which is not started with the API's environment
        pool_file.write_text(json.dumps(pool))
    api_env.update(IAG_COGNITO_POOL_ID=pool["pool_id"], IAG_COGNITO_CLIENT_ID=pool["client_id"])
    print(f"moto: operator pool {pool['pool_id']}; demo operators' password {DEMO_PASSWORD!r}")


OPERATORS_FILE = LOCAL / "operators.json"
OPERATOR_POOL = "iag-operators"
DEMO_PASSWORD = "Local-Operator-1"  # nosec B105 # moto only: these accounts exist nowhere else


def ensure_operator_pool(settings, forces) -> dict:
    """The operator pool as infra/resources.json makes it in AWS, found again after a replay, with demo operators:
    platform.demo, and per force admin.<force>, coordinator.<force> (every group) and auditor.<force>."""
    import boto3

    cognito = boto3.client("cognito-idp", region_name=settings.region, endpoint_url=settings.aws_endpoint)
    pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == OPERATOR_POOL]
    if pools:
        pool_id = pools[0]["Id"]
        client_id = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"][0]["ClientId"]
    else:
        pool_id = cognito.create_user_pool(PoolName=OPERATOR_POOL, Schema=[
            {"Name": "force_id", "AttributeDataType": "String", "Mutable": True},
            {"Name": "group_ids", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="iag-admin",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        for role in ("platform", "force_admin", "coordinator", "auditor"):
            cognito.create_group(UserPoolId=pool_id, GroupName=role)
        people: list[tuple[str, str, dict[str, str]]] = [("platform.demo", "platform", {})]
        for force in forces:
            people += [(f"admin.{force.id}", "force_admin", {"custom:force_id": force.id}),
                       (f"auditor.{force.id}", "auditor", {"custom:force_id": force.id}),
                       (f"coordinator.{force.id}", "coordinator",
                        {"custom:force_id": force.id, "custom:group_ids": ",".join(g.id for g in force.groups)})]
        for username, role, attributes in people:
            cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=[
                {"Name": "email", "Value": f"{username}@operators.demo.example"},
                *({"Name": k, "Value": v} for k, v in attributes.items())])
            cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=DEMO_PASSWORD,
                                            Permanent=True)
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=role)
    return {"pool_id": pool_id, "client_id": client_id}


def seed_demo_reviewers(forces) -> int:
    """Plausible people for every panel role of every group, so a review can be clicked through locally.
    Their addresses are on a reserved example domain: nothing can reach a real person."""
    from chalicelib.adapters.dynamodb.review import DynamoReviewStore
    from chalicelib.services.joining import APPEAL_PANEL

    holders = []
    for force in forces:
        for group in force.groups:
            for role in group.panel:
                title = role.replace("_", " ").title().replace("Iag", "IAG")
                holders.append((force.id, group.id, role, f"Demo {title} ({group.name})",
                                f"{role}.{group.id}@{force.id}.demo.example"))
        for role in force.appeal.panel:  # appeals are heard force-wide
            title = role.replace("_", " ").title().replace("Iag", "IAG")
            holders.append((force.id, APPEAL_PANEL, role, f"Demo {title} (appeals)",
                            f"{role}.appeals@{force.id}.demo.example"))
    return DynamoReviewStore().put_reviewers(holders)  # 25 a request, before the API may start


def check_ports(stack: list[Service]) -> None:
    taken = [s.port for s in stack if s.port]
    if len(set(taken)) != len(taken):
        raise Failed(f"two services share a port: {', '.join(f'{s.name}={s.port}' for s in stack if s.port)}")
    for service in stack:
        if service.port and not port_free(service.port):
            variable = PORTS[service.name][0]
            raise Failed(f"port {service.port} for {service.name} is already in use: free it or set {variable}. "
                         f"(`make down` stops a stack started by `make up`.)")


def port_free(number: int) -> bool:
    with socket.socket() as probe:
        # As the servers do, so connections left in TIME_WAIT by a previous run do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, number))
        except OSError:
            return False
    return True


def start(service: Service) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{service.name}.log", "wb") as log:
        # A session of its own: Ctrl-C in the terminal reaches only us, and stopping the
        # group also stops any process the service started itself.
        options = as_user(service.user)
        return subprocess.Popen(service.argv, cwd=ROOT, env={**options.pop("env", os.environ), **service.env},
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, **options)


def answers(url: str) -> bool:
    try:
        with _http.open(url, timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # refused, reset, not 2xx (URLError is an OSError)
        return False


def polled_since(deployment_url: str, since: float) -> bool:
    """Whether a runner has asked Prefect for this deployment's runs since `since` (epoch seconds)."""
    from datetime import datetime

    try:
        with _http.open(deployment_url, timeout=2) as response:
            polled = json.load(response).get("last_polled")
    except (OSError, http.client.HTTPException, ValueError):
        return False
    return bool(polled) and datetime.fromisoformat(polled.replace("Z", "+00:00")).timestamp() >= since - 1


def wait_ready(service: Service, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + service.ready_timeout
    while not (service.ready() if service.ready else not service.ready_url or answers(service.ready_url)):
        if process.poll() is not None:
            raise Failed(f"{service.name} exited with code {process.returncode} while starting", service.name)
        if time.monotonic() > deadline:
            raise Failed(f"{service.name} did not answer {service.ready_url} within {service.ready_timeout:.0f} s",
                         service.name)
        time.sleep(0.2)


def is_running(pid: int, group: bool = False) -> bool:
    try:
        (os.killpg if group else os.kill)(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but not ours to signal
        return True
    return True


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


# Who stops before whom: the flows first, while the Prefect server they tell is still there (on SIGTERM the runner
# pauses every deployment through the server's API: about 3 s; with the server already gone its retries ran past
# STOP_TIMEOUT and every stop ended in a SIGKILL, 10 s later), then the servers, then the database they write to.
STOP_ORDER = (("flows", "api"), ("prefect", "moto"), ("postgres",))


def stop_all(groups: dict[str, int], children: Sequence[subprocess.Popen] = ()) -> None:
    """Every service, in STOP_ORDER (a service not named there stops with the servers), once the flow runs in
    progress have finished (or RUN_DRAIN_SECONDS have passed)."""
    if "flows" in groups:
        drain_runs(groups["flows"])
    named = {name for stage in STOP_ORDER for name in stage}
    for number, stage in enumerate(STOP_ORDER):
        stop_groups({name: pgid for name, pgid in groups.items()
                     if name in stage or (number == 1 and name not in named)}, children)


# multiprocessing's long-lived helpers, started by the runner (flows/warm_start.py): not runs. A run forked by
# the forkserver shows the forkserver's command too, but its parent is the forkserver, not the runner.
RUN_HELPERS = (b"multiprocessing.forkserver", b"multiprocessing.resource_tracker")


def runs_in_progress(pgid: int) -> list[int]:
    """The processes of flow runs in the flows' process group: any but its leader (the runner) and the
    runner's multiprocessing helpers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == pgid:
            continue
        try:
            # The command may hold spaces and brackets: the fields after it are counted from its last ")".
            _, parent, group = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[:3]
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue  # exited meanwhile, or not ours to read
        helper = int(parent) == pgid and any(name in command for name in RUN_HELPERS)
        if int(group) == pgid and command and not helper:
            found.append(int(entry.name))
    return found


def drain_runs(pgid: int, timeout: float = RUN_DRAIN_SECONDS) -> None:
    """Let runs in progress end before the flows' group is signalled. A run that has just suspended is still
    recording it for a moment; a SIGTERM then makes Prefect mark it Crashed (seen: Suspended, then 0.4 s later
    "aborted by a termination signal"), and it waited for reconciliation's retry instead of the next decision."""
    deadline = time.monotonic() + timeout
    running = runs_in_progress(pgid)
    if running:
        print(f"waiting up to {timeout:.0f} s for {len(running)} flow run(s) in progress to finish...")
    while running and time.monotonic() < deadline:
        time.sleep(0.1)
        running = runs_in_progress(pgid)


def stop_groups(groups: dict[str, int], children: Sequence[subprocess.Popen] = ()) -> None:
    """SIGTERM (or the service's STOP_SIGNALS) every group at once, then SIGKILL whatever is left after
    STOP_TIMEOUT seconds."""
    def alive() -> list[str]:
        for child in children:
            child.poll()  # reap our own: an unreaped leader keeps its group alive
        return [name for name, pgid in groups.items() if is_running(pgid, group=True)]

    for signum, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5)):
        names = alive()
        if not names:
            return
        if signum == signal.SIGKILL:
            print(f"still running after {STOP_TIMEOUT} s, killing: {', '.join(names)}")
        for name in names:
            signal_group(groups[name], STOP_SIGNALS.get(name, signum) if signum == signal.SIGTERM else signum)
        deadline = time.monotonic() + timeout
        while alive() and time.monotonic() < deadline:
            time.sleep(0.1)


def tail(name: str, lines: int = 25) -> str:
    path = LOGS / f"{name}.log"
    text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
    return "\n".join(f"    {line}" for line in text)


def _raise_stop(signum, frame):
    raise Stop()


def up() -> int:
    began = time.monotonic()
    running: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        stack = services()
        other = json.loads(PIDS.read_text()).get("up") if PIDS.exists() else None
        if other and is_running(other):
            raise Failed(f"a stack using {LOCAL} is already running (see {PIDS}); `make down` stops it")
        check_ports(stack)
        LOCAL.mkdir(parents=True, exist_ok=True)
        # Each starts once what it needs is ready, so the Prefect server (the slowest) starts beside moto and the API.
        by_name = {s.name: s for s in stack}
        started: dict[str, float] = {}
        ready: set[str] = set()

        def wait_for(name: str) -> None:
            if name in ready:
                return
            wait_ready(by_name[name], running[name])
            print(f"{name}: up in {time.monotonic() - started[name]:.1f} s (log: {LOGS / name}.log)")
            after_ready = by_name[name].after_ready
            if after_ready:
                after_ready()
            ready.add(name)

        for service in stack:
            for name in service.needs:
                wait_for(name)
            if service.before_start:
                service.before_start()
            started[service.name] = time.monotonic()
            running[service.name] = start(service)
            # name -> process group id, written as we go so `down` works during startup too;
            # "up" is this process's own pid: `down` asks it to stop the rest.
            PIDS.write_text(json.dumps({"up": os.getpid(), **{n: p.pid for n, p in running.items()}}))
        for service in stack:
            wait_for(service.name)
        print(f"\nLocal stack ready in {time.monotonic() - began:.1f} s\n"
              f"  API             http://{HOST}:{port('api')}/forces\n"
              f"  Prefect UI      http://{HOST}:{port('prefect')}/ (its data: "
              + (f"PostgreSQL on {HOST}:{port('postgres')}, {POSTGRES}" if "postgres" in running
                 else f"SQLite, {LOCAL / 'prefect'}") + ")\n"
              f"  local mailbox   http://{HOST}:{port('api')}/dev/mailbox (every email sent, newest first)\n"
              f"  moto state      {SNAPSHOT} (saved every {stack[0].env['IAG_MOTO_SNAPSHOT_SECONDS']} s "
              "when changed, and on stop)\n"
              f"  admin API       http://{HOST}:{port('api')}/admin/me with an operator's ID token:\n"
              f"                  make admin ARGS=\"login --username admin.derbyshire\" prints one\n"
              f"  logs            {LOGS}/\n"
              "Ctrl-C here, or `make down` in another terminal, stops everything.")
        while True:
            for name, process in running.items():
                if process.poll() is not None:
                    raise Failed(f"{name} exited with code {process.returncode}", name)
            time.sleep(0.5)
    except Stop:
        return 0
    except Failed as failure:
        print(f"\nerror: {failure}", file=sys.stderr)
        if failure.service:
            print(f"  last lines of {LOGS / failure.service}.log:\n{tail(failure.service)}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if running:
            print(f"stopping {', '.join(running)}...")
            stop_all({n: p.pid for n, p in running.items()}, list(running.values()))
        if PIDS.exists() and json.loads(PIDS.read_text()).get("up") == os.getpid():
            PIDS.unlink()


def down() -> int:
    if not PIDS.exists():
        print(f"no stack running ({PIDS} does not exist)")
        return 0
    groups = json.loads(PIDS.read_text())
    supervisor = groups.pop("up", None)
    if supervisor and is_running(supervisor):
        os.kill(supervisor, signal.SIGTERM)  # `up` stops its services and removes the file
        deadline = time.monotonic() + RUN_DRAIN_SECONDS + STOP_TIMEOUT + 10
        while is_running(supervisor) and time.monotonic() < deadline:
            time.sleep(0.1)
    stop_all(groups)  # whatever is left, e.g. if `up` was killed
    PIDS.unlink(missing_ok=True)
    print(f"stopped {', '.join(groups) or 'nothing'}")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows at once, even through a pipe
    command = (sys.argv[1:] if argv is None else argv)[:1]
    if command == ["up"]:
        return up()
    if command == ["down"]:
        return down()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
