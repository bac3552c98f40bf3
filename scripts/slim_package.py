"""Make chalice's Lambda package start faster and weigh less: `python -m scripts.slim_package build/package`.

Two changes to the deployment.zip that `chalice package` wrote, in place:
- botocore's API models are kept only for the services the functions call (and those botocore itself needs to find
  credentials); the other ~430 services' models are most of botocore's size and are never read.
- every module is compiled to bytecode for the runtime's Python, as unchecked-hash .pyc files: Lambda's
  file system is read-only, so without them every cold start compiles every module it imports. Unchecked-hash
  files are used whatever the files' times after unzipping (Python never compares them with the source).
The runtime named in sam.json must be the Python running this script, or the bytecode would be ignored: refused.
"""
from __future__ import annotations

import compileall
import json
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

# botocore service models the package keeps, and why.
KEEP_SERVICES = {
    "dynamodb": "pynamodb: the single table",
    "s3": "force documents",
    "sesv2": "email (SesMailer)",
    "ses": "email identities (v1 API, kept beside sesv2)",
    "cognito-idp": "operators' sign-in and user administration",
    "secretsmanager": "secrets named by ARN",
    "ssm": "secrets named as SSM parameters",
    "sts": "botocore's credential providers (assume role)",
    "sso": "botocore's credential providers (SSO profiles)",
    "sso-oidc": "botocore's token providers (SSO)",
    "signin": "botocore's credential providers (console sign-in)",
}
BOTOCORE_DATA = "botocore/data/"
ZIP_NAME = "deployment.zip"


def runtime_of(package_dir: Path) -> str:
    template = json.loads((package_dir / "sam.json").read_text())
    runtimes = {r.get("Properties", {}).get("Runtime") for r in template["Resources"].values()
                if r.get("Type") == "AWS::Serverless::Function"}
    runtimes.discard(None)
    if len(runtimes) != 1:
        raise SystemExit(f"expected one Lambda runtime in sam.json, found {sorted(runtimes)}")
    return runtimes.pop()


def kept(name: str) -> bool:
    if not name.startswith(BOTOCORE_DATA):
        return True
    rest = name[len(BOTOCORE_DATA):]
    return "/" not in rest or rest.split("/", 1)[0] in KEEP_SERVICES  # top-level files: endpoints, partitions...


def slim(package_dir: Path) -> tuple[int, int]:
    runtime = runtime_of(package_dir)
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        raise SystemExit(f"sam.json runs {runtime} but this is {here}: its bytecode would not be used")
    archive = package_dir / ZIP_NAME
    before = archive.stat().st_size
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "tree"
        with zipfile.ZipFile(archive) as source:
            members = [m for m in source.infolist() if kept(m.filename) and "__pycache__/" not in m.filename]
            for member in members:
                source.extract(member, tree)
                mode = member.external_attr >> 16
                if mode:
                    (tree / member.filename).chmod(mode & 0o777 or 0o644)
        if not compileall.compile_dir(str(tree), quiet=2, workers=0,
                                      invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
            # A file that does not compile for this Python (e.g. another version's test data) keeps its source only.
            print("note: some files did not compile; they are imported from source", file=sys.stderr)
        rebuilt = Path(work) / ZIP_NAME
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
            for path in sorted(p for p in tree.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(str(path.relative_to(tree)), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, path.read_bytes(), compresslevel=9)
        shutil.move(str(rebuilt), archive)
    return before, archive.stat().st_size


def main(argv: list[str]) -> int:
    package_dir = Path(argv[1] if len(argv) > 1 else "build/package")
    before, after = slim(package_dir)
    print(f"{package_dir / ZIP_NAME}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
          f"(botocore models kept: {', '.join(sorted(KEEP_SERVICES))}; bytecode for {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
