"""Finding input files: a folder (searched recursively for *.json), a glob, or one file; on
local disk or in S3 (`s3://bucket/prefix`, fetched one staging batch at a time by materialize())."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from sparkify.inputs import s3 as s3io
from sparkify.errors import SparkifyError
from sparkify.scratch import ScratchDir


@dataclass(frozen=True)
class SourceFile:
    """One input file. `version` changes whenever the content may have changed (mtime, ETag)."""

    uri: str
    size: int
    version: str
    #: Where the content can be read now, when not at `uri` (an S3 object fetched to a temp file).
    local: str | None = field(default=None, compare=False, repr=False)

    @property
    def local_path(self) -> str:
        return self.local or self.uri


def _local_file(path: str) -> SourceFile:
    stat = os.stat(path)
    return SourceFile(uri=os.path.abspath(path), size=stat.st_size, version=str(stat.st_mtime_ns))


def discover(spec: str, what: str = "input", s3: s3io.S3Options | None = None) -> list[SourceFile]:
    """All JSON files that `spec` names, sorted by path, so loads are deterministic."""
    if s3io.is_s3(spec):
        objects = s3io.list_objects(spec, s3 or s3io.S3Options(), what)
        return sorted((SourceFile(o.uri, o.size, o.etag) for o in objects), key=lambda f: f.uri)
    if glob.has_magic(spec):
        paths = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        if not paths:
            raise SparkifyError(f"{what}: no files match {spec!r}", setting=what)
    elif os.path.isdir(spec):
        paths = [str(p) for p in Path(spec).rglob("*.json") if p.is_file()]
        if not paths:
            raise SparkifyError(f"{what}: no .json files under folder {spec!r}", setting=what)
    elif os.path.isfile(spec):
        paths = [spec]
    else:
        raise SparkifyError(f"{what}: path not found: {spec!r}", setting=what)
    files = []
    for path in paths:
        try:
            files.append(_local_file(path))
        except OSError as exc:
            raise SparkifyError(f"{what}: cannot read {path!r}: {exc.strerror}", setting=what) from exc
    return sorted(files, key=lambda f: f.uri)


@contextmanager
def materialize(files: Sequence[SourceFile], s3: s3io.S3Options | None = None,
                fetch: bool = True) -> Iterator[list[SourceFile]]:
    """`files`, each readable at its local_path: S3 objects are fetched to a temporary folder
    (concurrently) and deleted on exit; local files are used where they are. `fetch=False` is
    for a warehouse that reads S3 itself (Redshift's COPY)."""
    remote = [f for f in files if s3io.is_s3(f.uri)] if fetch else []
    if not remote:
        yield list(files)
        return
    options = s3 or s3io.S3Options()
    with ScratchDir("sparkify-s3-") as folder:
        objects = []
        for f in remote:
            bucket, key = s3io.split_uri(f.uri)
            objects.append(s3io.S3Object(bucket, key, f.size, f.version))
        local = dict(zip((f.uri for f in remote), s3io.download(objects, folder, options)))
        yield [replace(f, local=local[f.uri]) if f.uri in local else f for f in files]


#: A staging batch holds at most this many files (and at most the warehouse's batch_bytes).
BATCH_FILES = 5000


def batches(files: Sequence[SourceFile], max_bytes: int) -> Iterator[list[SourceFile]]:
    """`files` in order, cut into batches of at most `max_bytes` (a bigger file alone) and BATCH_FILES."""
    batch: list[SourceFile] = []
    size = 0
    for f in files:
        if batch and (size + f.size > max_bytes or len(batch) >= BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch
