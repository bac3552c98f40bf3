"""The Lambda package as chalice builds it, and what the app imports.

The package build (one per run: tests/conftest.py) runs `pip download` for requirements.txt, so on a cold
chalice cache (.chalice/deployments/) it needs PyPI and takes about 10 s;
with a warm cache about 1 s.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIRECT_UPLOAD_LIMIT = 50 * 1000 * 1000  # Lambda's zipped direct-upload limit, read strictly (50 MB, not MiB)


@pytest.fixture(scope="module")
def build(chalice_package):
    """The run's one `chalice package` (tests/conftest.py), shared with the template's tests."""
    result, out = chalice_package
    return result, out / "deployment.zip"


@pytest.fixture(scope="module")
def deployment(build):
    result, path = build
    if result.returncode != 0 or not path.exists():
        pytest.fail(f"chalice package failed:\n{result.stdout}\n{result.stderr}")
    with zipfile.ZipFile(path) as archive:
        yield archive


def files_in(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).iterdir() if p.is_file())


@pytest.mark.slow
def test_chalice_builds_the_prod_package(build):
    result, path = build
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.is_file()


@pytest.mark.slow
def test_the_package_holds_app_py_and_every_force_profile(deployment):
    names = set(deployment.namelist())
    assert "app.py" in names
    profiles = files_in("chalicelib/forces")
    assert profiles
    missing = [p.name for p in profiles if f"chalicelib/forces/{p.name}" not in names]
    assert missing == []


@pytest.mark.slow
def test_every_top_level_schema_is_packaged_under_chalicelib_with_the_same_bytes(deployment):
    schemas = files_in("schemas")
    assert schemas
    names = set(deployment.namelist())
    problems = []
    for schema in schemas:
        packaged = f"chalicelib/schemas/{schema.name}"
        if packaged not in names:
            problems.append(f"{packaged} is missing: link it with "
                            f"ln -s ../../schemas/{schema.name} chalicelib/schemas/{schema.name}")
        elif deployment.read(packaged) != schema.read_bytes():
            problems.append(f"{packaged} differs from schemas/{schema.name} (a link not followed, or a copy)")
    assert problems == []


@pytest.mark.slow
def test_prefect_is_not_in_the_package(deployment):
    tops = {name.split("/")[0].lower() for name in deployment.namelist()}
    assert [t for t in tops if t == "prefect" or t.startswith(("prefect-", "prefect."))] == []


@pytest.mark.slow
def test_the_package_is_under_lambdas_50_mb_direct_upload_limit(build, deployment):
    _, path = build
    assert path.stat().st_size < DIRECT_UPLOAD_LIMIT


def test_importing_the_app_does_not_import_prefect():
    code = "import sys, app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def app_modules() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module the file imports, at top level or inside functions."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                names.add(f"{base}.{node.module}" if node.module else base)
            else:
                names.add(node.module)
    return names


def test_no_module_of_the_app_imports_prefect():
    found = {f"{path.relative_to(ROOT)}: {name}" for path in app_modules()
             for name in imported_modules(path) if name.split(".")[0] == "prefect"}
    assert found == set()


def test_the_domain_imports_only_the_stdlib_and_itself():
    domain = sorted((ROOT / "chalicelib" / "domain").rglob("*.py"))
    assert domain
    foreign = {f"{path.relative_to(ROOT)}: {name}" for path in domain for name in imported_modules(path)
               if name.split(".")[0] not in sys.stdlib_module_names
               and name != "chalicelib.domain" and not name.startswith("chalicelib.domain.")}
    assert foreign == set()


@pytest.mark.slow
def test_the_package_holds_every_template_and_the_compiled_styles(deployment):
    names = set(deployment.namelist())
    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chalicelib" / "templates").rglob("*.*"))
    assert templates and [t for t in templates if t not in names] == []
    assert "chalicelib/static/govuk-frontend.css" in names


@pytest.mark.slow
def test_every_module_in_the_package_has_bytecode_for_the_runtimes_python_used_without_checking_times(build,
                                                                                                    deployment):
    import importlib.util
    import json

    _, path = build
    runtime = {r["Properties"]["Runtime"] for r in json.loads((path.parent / "sam.json").read_text())["Resources"].values()
               if r.get("Type") == "AWS::Serverless::Function"}
    assert runtime == {f"python{sys.version_info.major}.{sys.version_info.minor}"}
    names = set(deployment.namelist())
    sources = [n for n in names if n.endswith(".py")]
    assert "app.py" in sources and len(sources) > 1000
    missing = [n for n in sources if importlib.util.cache_from_source(n) not in names]
    assert missing == []
    for name in ("app.py", "chalicelib/bootstrap.py", "botocore/client.py"):
        header = deployment.read(importlib.util.cache_from_source(name))[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, unchecked: unzip times do not matter


@pytest.mark.slow
def test_the_package_is_at_most_18_mb_and_keeps_the_models_of_every_service_the_app_calls(build, deployment):
    from scripts.slim_package import KEEP_SERVICES

    _, path = build
    assert path.stat().st_size <= 18 * 1000 * 1000
    called = {node.args[0].value for module in app_modules() for node in ast.walk(ast.parse(module.read_text()))
              if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("client", "_client")
              and node.args and isinstance(node.args[0], ast.Constant)}
    assert called and called <= set(KEEP_SERVICES) | {"dynamodb"}
    models = {n.split("/")[2] for n in deployment.namelist() if n.startswith("botocore/data/") and n.count("/") > 2}
    assert models == set(KEEP_SERVICES)


@pytest.mark.slow
def test_the_packaged_app_imports_alone_and_builds_a_client_for_each_service_it_calls(deployment, tmp_path):
    from scripts.slim_package import KEEP_SERVICES

    deployment.extractall(tmp_path)
    code = ("import sys; sys.path.insert(0, '.'); import app, boto3\n"
            f"for service in {sorted(KEEP_SERVICES)!r}: boto3.client(service, region_name='eu-west-2')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'jsonschema', 'jwt', 'prefect')))")
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "eu-west-2",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # what few routes need comes on first use


def test_importing_the_app_leaves_jinja2_jsonschema_and_jwt_for_the_routes_that_use_them():
    code = "import sys, app; print(sorted({m.split('.')[0] for m in sys.modules} & {'jinja2', 'jsonschema', 'jwt'}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# What `import app` (the Lambda's cold start) leaves for the first request that uses it: every service but the light
# modules routes share, the DynamoDB stores only some services use, and the domain of the few-route pages.
IMPORTED_AT_START = {"chalicelib.services.ports", "chalicelib.services.refusals", "chalicelib.services.directory",
                     "chalicelib.services.log_context"}
LOADED_ON_FIRST_USE = sorted(
    {f"chalicelib.services.{p.stem}" for p in files_in("chalicelib/services") if p.suffix == ".py"
     and p.stem != "__init__"} - IMPORTED_AT_START
    | {f"chalicelib.adapters.dynamodb.{store}" for store in (
        "access", "alerts", "callouts", "data_protection", "drafts", "elections", "joining", "mail_feedback",
        "meeting_business", "meetings", "members", "membership", "outbox", "reports", "strategic", "subject_access")}
    | {f"chalicelib.adapters.{adapter}" for adapter in (
        "admin_pages", "svg_charts", "equality_questions", "s3_documents", "ses_mailer", "cognito_tokens",
        "cognito_sign_in")}
    | {f"chalicelib.domain.{area}" for area in (
        "recruitment", "equality_report", "membership", "callouts", "elections", "strategic", "meeting_business",
        "meetings", "retention", "member_import", "eligibility")}
    | {"chalicelib.api.openapi_admin"}
    # The force profile's classes come with the first profile (its JSON and schema check always did), and what only
    # some routes use: the applications' and review's domain, the cookie parser of the pages that read one.
    | {"chalicelib.domain.forces", "chalicelib.domain.postcodes", "chalicelib.domain.application",
       "chalicelib.domain.review", "http.cookies"})


def test_importing_the_app_leaves_the_services_and_the_few_route_modules_for_their_first_request():
    code = f"import sys, app; print(sorted(set({LOADED_ON_FIRST_USE!r}) & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(LOADED_ON_FIRST_USE) > 50
    assert result.stdout.strip() == "[]"  # import it where it is first used (bootstrap.py, the route's handler)


# Our dataclasses `import app` creates: creating one compiles its methods (0.1-0.3 ms each), so the cold start creates
# only those of the modules every request loads; a value type only some requests use lives beside its users
# (services/port_values.py, named from ports.py) or loads with them (domain/forces.py with the first profile).
CREATED_AT_START = {
    "chalicelib.bootstrap.Container", "chalicelib.settings.Settings", "chalicelib.domain.links.Link",
    "chalicelib.domain.operators.Operator", "chalicelib.domain.rate_limits.Limit", "chalicelib.domain.rate_limits.RateSpend",
    "chalicelib.domain.roles.Office", "chalicelib.domain.validation.FieldError", "chalicelib.web.apply_flow.Page",
    "chalicelib.web.apply_flow.Question", "chalicelib.web.console.SignedIn", "chalicelib.web.responses.UploadedFile",
}


def test_importing_the_app_creates_no_dataclass_beyond_those_of_the_modules_every_request_loads():
    code = ("import dataclasses, sys, app\n"
            "print(sorted(f'{v.__module__}.{v.__qualname__}' for name, module in list(sys.modules.items())"
            " if name.split('.')[0] in ('app', 'chalicelib') for v in vars(module).values()"
            " if isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__ == name))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    created = set(ast.literal_eval(result.stdout.strip()))
    assert "chalicelib.settings.Settings" in created  # the census sees the app's own
    assert created - CREATED_AT_START == set()  # move it beside the services that use it, or load it on first use


def test_the_ports_value_types_are_named_from_ports_and_load_when_first_named():
    code = ("import sys\nfrom chalicelib.services import ports\n"
            "print('chalicelib.services.port_values' in sys.modules)\n"
            "from chalicelib.services.ports import EmailMessage, MemberChange\n"
            "from chalicelib.services import port_values\n"
            "print(EmailMessage is port_values.EmailMessage, ports.MemberChange is MemberChange,"
            " sorted(ports.VALUE_TYPES) == sorted(n for n, v in vars(port_values).items()"
            " if isinstance(v, type) and v.__module__ == port_values.__name__))\n"
            "print(hasattr(ports, 'NoSuchPort'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "False"]


def test_the_first_request_builds_its_service_and_loads_its_modules():
    code = ("import sys, app\nfrom chalicelib import bootstrap\n"
            "bootstrap.container().strategic\n"
            "print(sorted(m for m in ('chalicelib.services.strategic', 'chalicelib.adapters.dynamodb.strategic',"
            " 'chalicelib.services.elections') if m in sys.modules))")
    env = {**os.environ, "IAG_STAGE": "local", "AWS_DEFAULT_REGION": "eu-west-2"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['chalicelib.adapters.dynamodb.strategic', 'chalicelib.services.strategic']"
