"""The application pack's documents, shipped with the function (chalicelib/packs/<force>/<file>)."""
from __future__ import annotations

import mimetypes
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent.parent / "packs"


class PackFileMissing(LookupError):
    """A profile names a pack document that is not shipped."""


class ShippedPackFiles:
    def __init__(self, root: Path = PACK_DIR):
        self._root = root

    def read(self, force_id: str, file: str) -> bytes:
        # Only names a profile lists reach here; the check still keeps a path inside the force's own folder.
        path = (self._root / force_id / file).resolve()
        if path.parent != (self._root / force_id).resolve() or not path.is_file():
            raise PackFileMissing(f"{force_id}/{file}")
        return path.read_bytes()

    @staticmethod
    def content_type(file: str) -> str:
        kind = mimetypes.guess_type(file)[0] or "application/octet-stream"
        return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind
