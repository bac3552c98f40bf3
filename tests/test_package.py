"""The Lambda package as chalice builds it, and what the app imports.

The package build (one per run: tests/conftest.py) runs `pip download` for requirements.txt, so on a cold
chalice cache (.chalice/deployments/) it needs PyPI and takes about 10 s;
with a warm cache about 1 s.
"""
from __future__ import annotations

import ast
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
