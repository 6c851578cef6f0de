"""Finding input files: a folder (searched recursively for *.json), a glob, or one file; on
local disk or in S3 (`s3://bucket/prefix`, fetched one staging batch at a time by materialize())."""

from __future__ import annotations

import fnmatch
import glob
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISREG

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


def _local_file(path: str, stat: os.stat_result | None = None) -> SourceFile:
    stat = stat or os.stat(path)
    return SourceFile(uri=os.path.abspath(path), size=stat.st_size, version=str(stat.st_mtime_ns))


def warn(message: str) -> None:
    """A path that is not loaded, said on stderr (the load goes on)."""
    print(f"warning: {message}", file=sys.stderr)


def _why_not_a_file(path: str) -> str | None:
    """Why a path named like an input is not loaded (None for a regular file)."""
    if os.path.islink(path) and not os.path.exists(path):
        return "a dangling or looping symbolic link"
    if os.path.isdir(path):
        return "a folder, not a file"
    if not os.path.isfile(path):
        return "not a regular file (a FIFO, socket or device)"
    return None


def _json_files_under(folder: str, what: str) -> list[tuple[str, os.stat_result]]:
    """Every *.json regular file under `folder` with its stat, following symbolic links to folders
    once each.

    An unreadable folder fails the load (as an unreadable file does); a link back to a folder
    already searched (a loop), a dangling link, a FIFO or a folder named *.json is a warning.
    The directory entry's own type and stat are used (one stat per file, none per plain folder,
    where os.path's checks took five per file: a catalogue is tens of thousands of files)."""
    seen = {os.path.realpath(folder)}
    pending, found = [folder], []
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            raise SparkifyError(f"{what}: cannot read folder {current!r}: {exc.strerror}", setting=what) from exc
        for entry in entries:
            path = entry.path
            if _is_dir(entry):
                real = os.path.realpath(path)
                if real in seen:
                    warn(f"{what}: skipped {path!r}: a symbolic link to a folder already searched ({real!r})")
                    continue
                seen.add(real)
                pending.append(path)
                if entry.name.endswith(".json"):
                    warn(f"{what}: {path!r} is a folder, not a file; searched it for .json files")
            elif entry.name.endswith(".json"):
                stat = _regular_file_stat(entry)
                if stat is None:
                    warn(f"{what}: skipped {path!r}: {_why_not_a_file(path)}")
                else:
                    found.append((path, stat))
            elif entry.is_symlink() and not os.path.exists(path):
                warn(f"{what}: skipped {path!r}: a dangling or looping symbolic link")
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a symbolic link, as os.path.isdir does
    except OSError:
        return False


def _regular_file_stat(entry: os.DirEntry[str]) -> os.stat_result | None:
    """The entry's stat (a symbolic link followed) when it is a regular file, else None."""
    try:
        stat = entry.stat()
    except OSError:  # a dangling or looping link; _why_not_a_file says which
        return None
    return stat if S_ISREG(stat.st_mode) else None


def _checked_name(path: str, what: str) -> str:
    """`path`, if its name is UTF-8 text (warehouses store names as text)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", errors="backslashreplace")
        raise SparkifyError(f"{what}: file name is not UTF-8: '{shown}'; rename the file", setting=what) from None
    return path


def discover(spec: str, what: str = "input", s3: s3io.S3Options | None = None) -> list[SourceFile]:
    """All JSON files that `spec` names, sorted by path, so loads are deterministic."""
    if s3io.is_s3(spec):
        objects = s3io.list_objects(spec, s3 or s3io.S3Options(), what)
        return sorted((SourceFile(o.uri, o.size, o.etag) for o in objects), key=lambda f: f.uri)
    paths: list[tuple[str, os.stat_result | None]] = []
    if glob.has_magic(spec):
        for path in glob.glob(spec, recursive=True):
            why = _why_not_a_file(path)
            if why:
                warn(f"{what}: skipped {path!r}: {why}")
            else:
                paths.append((path, None))
        if not paths:
            raise SparkifyError(f"{what}: no files match {spec!r}", setting=what)
    elif os.path.isdir(spec):
        paths = list(_json_files_under(spec, what))
        if not paths:
            raise SparkifyError(f"{what}: no .json files under folder {spec!r}", setting=what)
    elif os.path.isfile(spec):
        paths = [(spec, None)]
    elif os.path.exists(spec):
        raise SparkifyError(f"{what}: {spec!r} is {_why_not_a_file(spec)}", setting=what)
    else:
        raise SparkifyError(f"{what}: path not found: {spec!r}", setting=what)
    files = []
    for path, stat in paths:
        try:
            files.append(_local_file(_checked_name(path, what), stat))
        except OSError as exc:
            raise SparkifyError(f"{what}: cannot read {path!r}: {exc.strerror}", setting=what) from exc
    return sorted(files, key=lambda f: f.uri)


def vanished(spec: str, recorded: Sequence[str], found: Sequence[SourceFile]) -> list[str]:
    """Of the files loaded before (`recorded` URIs), those `spec` names that are gone now.

    S3: under the prefix (or matching the glob) and no longer listed. Local: under the folder (or
    matching the glob) and no longer on disk, so a file left out of a narrower glob is not gone.
    """
    listed = {f.uri for f in found}
    if s3io.is_s3(spec):
        return sorted(u for u in recorded if u not in listed and s3io.covers(spec, u))
    root = os.path.abspath(spec)
    if glob.has_magic(spec):
        covered = [u for u in recorded if fnmatch.fnmatchcase(u, root)]
    elif os.path.isdir(spec):
        covered = [u for u in recorded if u.startswith(root + os.sep) and u.endswith(".json")]
    else:
        covered = [u for u in recorded if u == root]
    return sorted(u for u in covered if u not in listed and not os.path.lexists(u))


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


def batches(files: Sequence[SourceFile], max_bytes: int, max_files: int = BATCH_FILES) -> Iterator[list[SourceFile]]:
    """`files` in order, cut into batches of at most `max_bytes` (a bigger file alone) and `max_files`."""
    batch: list[SourceFile] = []
    size = 0
    for f in files:
        if batch and (size + f.size > max_bytes or len(batch) >= max_files):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch
