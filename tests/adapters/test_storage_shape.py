"""The shape rules of the code, checked on the source: which module may import what, and that storage never
connects anywhere before it is configured."""
import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_TREES = ["app.py", "chalicelib", "flows", "scripts", "bench", "tests"]
PROJECT_PACKAGES = ("app", "chalicelib", "flows", "scripts", "bench", "tests")
# Not services: the logging context every layer writes to (only identifiers, never personal data).
ADAPTERS_MAY_IMPORT = {"chalicelib.services.ports", "chalicelib.services.log_context"}


def python_files():
    for tree in PYTHON_TREES:
        path = ROOT / tree
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def imports(path: Path):
    """(module, names) of every `from X import names` and `import X` in the file, however deeply nested."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_no_module_imports_another_modules_underscore_names():
    found = [f"{path.relative_to(ROOT)}: from {module} import {name}"
             for path in python_files() for module, names in imports(path)
             if module.split(".")[0] in PROJECT_PACKAGES and module != module_name(path)
             for name in names if name.startswith("_") and not name.startswith("__")]
    assert found == []


def test_no_adapter_imports_a_service_module_only_the_ports():
    found = [f"{path.relative_to(ROOT)}: {module}"
             for path in sorted((ROOT / "chalicelib" / "adapters").rglob("*.py")) for module, names in imports(path)
             for target in ([f"{module}.{name}" for name in names] if module == "chalicelib.services" else [module])
             if target.startswith("chalicelib.services.") and target not in ADAPTERS_MAY_IMPORT]
    assert found == []


def test_no_storage_library_or_item_outside_the_adapters():
    """Services, the domain, routes and flows get domain objects: pynamodb and the item classes stay in adapters."""
    found = [f"{path.relative_to(ROOT)}: {module}"
             for tree in ("chalicelib/domain", "chalicelib/services", "chalicelib/web", "chalicelib/api", "flows")
             for path in sorted((ROOT / tree).rglob("*.py")) for module, _ in imports(path)
             if module.startswith(("pynamodb", "chalicelib.adapters.dynamodb"))]
    assert found == []


def test_a_model_used_before_configuration_refuses_instead_of_reaching_aws():
    """In a fresh process (as a Lambda or a flow starts), with credentials that would be tried: nothing is sent."""
    code = """
import botocore.endpoint
def no_network(*args, **kwargs):
    raise SystemExit("a request left the process")
botocore.endpoint.Endpoint.make_request = no_network
from chalicelib.adapters.dynamodb import StorageNotConfigured
from chalicelib.adapters.dynamodb.applications import ApplicationItem
try:
    ApplicationItem.get("FORCE#derbyshire#APP#DBY-2026-AAAAAAAA", "APPLICATION")
except StorageNotConfigured as error:
    print("refused:", error)
"""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "would-be-real", "AWS_SECRET_ACCESS_KEY": "would-be-real",
           "AWS_DEFAULT_REGION": "eu-west-2"}
    env.pop("IAG_AWS_ENDPOINT", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: the storage models were used before configure(settings)")
