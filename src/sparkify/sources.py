"""Finding input files: a folder (searched recursively for *.json), a glob, or one file."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from sparkify.errors import SparkifyError


@dataclass(frozen=True)
class SourceFile:
    """One input file. `version` changes whenever the content may have changed (mtime, ETag)."""

    uri: str
    size: int
    version: str

    @property
    def local_path(self) -> str:
        return self.uri


def _local_file(path: str) -> SourceFile:
    stat = os.stat(path)
    return SourceFile(uri=os.path.abspath(path), size=stat.st_size, version=str(stat.st_mtime_ns))


def discover(spec: str, what: str = "input") -> list[SourceFile]:
    """All JSON files that `spec` names, sorted by path, so loads are deterministic."""
    if glob.has_magic(spec):
        paths = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        if not paths:
            raise SparkifyError(f"{what}: no files match {spec!r}")
    elif os.path.isdir(spec):
        paths = [str(p) for p in Path(spec).rglob("*.json") if p.is_file()]
        if not paths:
            raise SparkifyError(f"{what}: no .json files under folder {spec!r}")
    elif os.path.isfile(spec):
        paths = [spec]
    else:
        raise SparkifyError(f"{what}: path not found: {spec!r}")
    files = []
    for path in paths:
        try:
            files.append(_local_file(path))
        except OSError as exc:
            raise SparkifyError(f"{what}: cannot read {path!r}: {exc.strerror}") from exc
    return sorted(files, key=lambda f: f.uri)
