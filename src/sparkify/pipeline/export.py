"""`sparkify export`: the star schema as Parquet files a data lake can read.

The layout is the one the data-lake version of this project uses, so Spark, Athena, Trino and
Redshift Spectrum read it as Hive-partitioned tables: songplays and time by year and month,
songs by year and artist_id, users and artists as one file each. Partition values live in the
folder names (`year=2018/month=11/`), not in the files; a NULL value is Hive's
`__HIVE_DEFAULT_PARTITION__`.

Each partition is one Parquet file, replaced in one step (a rename on disk, one PUT on S3), so a
reader sees either the old partition or the new one. A manifest (`_sparkify_export.json`) keeps
each partition's row count and fingerprint; a later export rewrites only the partitions whose
rows changed and removes those that are gone, and writes the manifest last. An export that was
interrupted leaves the old manifest, so the next one simply redoes what differs.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from sparkify.errors import SparkifyError
from sparkify.inputs import s3 as s3io
from sparkify.scratch import ScratchDir
from sparkify.warehouse.base import STAR_TABLES, Warehouse

MANIFEST = "_sparkify_export.json"
MANIFEST_VERSION = 1
#: Partition columns per table; songplays' year and month come from start_time.
PARTITIONS: dict[str, tuple[str, ...]] = {
    "songplays": ("year", "month"),
    "time": ("year", "month"),
    "songs": ("year", "artist_id"),
    "users": (),
    "artists": (),
    "page_views": ("year", "month"),
}
_YEAR_MONTH = ("CAST(EXTRACT(year FROM start_time) AS INTEGER) AS year, "
               "CAST(EXTRACT(month FROM start_time) AS INTEGER) AS month")
DERIVED: dict[str, str] = {"songplays": _YEAR_MONTH, "page_views": _YEAR_MONTH}
FILE_NAME = "data.parquet"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"

Key = tuple[str | None, ...]


@dataclass
class TableExport:
    table: str
    rows: int = 0
    written: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass
class ExportSummary:
    destination: str
    tables: list[TableExport] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(t.written for t in self.tables)


class Destination:
    """Where partitions go: a local folder or an s3:// prefix. Every write replaces one whole file."""

    def __init__(self, target: str, s3_options: s3io.S3Options | None = None) -> None:
        self.target = target
        if s3io.is_s3(target):
            self.bucket, prefix = s3io.split_uri(target)
            self.prefix = prefix.strip("/")
            self.options = s3_options or s3io.S3Options()
            self.s3 = s3io.client(self.options)
            self.root: Path | None = None
        else:
            self.root = Path(target)
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SparkifyError(f"cannot write to {target!r}: {exc.strerror or exc}") from None

    def _key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def read_text(self, relative: str) -> str | None:
        if self.root is not None:
            path = self.root / relative
            return path.read_text(encoding="utf-8") if path.is_file() else None
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._key(relative))["Body"]
            return body.read().decode("utf-8")
        except self.s3.exceptions.NoSuchKey:
            return None
        except s3io._boto_errors() as exc:
            raise SparkifyError(f"S3: {s3io._describe(exc, self.options, self.bucket)}") from None

    def put_file(self, local: Path, relative: str) -> None:
        """Replace `relative` with `local` in one step (readers never see half a file)."""
        if self.root is not None:
            final = self.root / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            temp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
            shutil.copyfile(local, temp)
            os.replace(temp, final)
            return
        try:
            self.s3.upload_file(str(local), self.bucket, self._key(relative))
        except (*s3io._boto_errors(), OSError) as exc:
            raise SparkifyError(f"S3: {s3io._describe(exc, self.options, self.bucket)}") from None

    def put_text(self, text: str, relative: str) -> None:
        with ScratchDir("sparkify-export-") as tmp:
            path = Path(tmp) / "text"
            path.write_text(text, encoding="utf-8")
            self.put_file(path, relative)

    def remove(self, relative: str) -> None:
        if self.root is not None:
            path = self.root / relative
            path.unlink(missing_ok=True)
            for parent in path.parents:  # empty partition folders go too, up to the root
                if parent == self.root or not parent.is_relative_to(self.root):
                    break
                try:
                    parent.rmdir()
                except OSError:
                    break
            return
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self._key(relative))
        except s3io._boto_errors() as exc:
            raise SparkifyError(f"S3: {s3io._describe(exc, self.options, self.bucket)}") from None


def export_star(warehouse: Warehouse, target: str, s3_options: s3io.S3Options | None = None) -> ExportSummary:
    """Write the star schema to `target` (a folder or s3://bucket/prefix); only what changed."""
    destination = Destination(target, s3_options)
    old = _read_manifest(destination)
    manifest: dict[str, Any] = {"version": MANIFEST_VERSION, "tables": {}}
    summary = ExportSummary(target)
    with ScratchDir("sparkify-export-") as tmp:
        local = duckdb.connect(config={"memory_limit": "2GB"})
        try:
            for table in STAR_TABLES:
                snapshot = Path(tmp) / f"{table}.parquet"
                warehouse.write_parquet(f'SELECT * FROM analytics."{table}"', str(snapshot))
                partitions, result = _export_table(local, destination, table, snapshot, Path(tmp) / table,
                                                   old.get(table, {}))
                manifest["tables"][table] = partitions
                summary.tables.append(result)
        finally:
            local.close()
    destination.put_text(json.dumps(manifest, indent=1, sort_keys=True), MANIFEST)
    return summary


def _read_manifest(destination: Destination) -> dict[str, dict[str, Any]]:
    text = destination.read_text(MANIFEST)
    if text is None:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        document = {}
    if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
        return {}  # unknown or damaged: every partition is written again
    return document.get("tables", {})


def _export_table(local: duckdb.DuckDBPyConnection, destination: Destination, table: str, snapshot: Path,
                  workdir: Path, old: dict[str, Any]) -> tuple[dict[str, Any], TableExport]:
    keys = PARTITIONS[table]
    derived = f", {DERIVED[table]}" if table in DERIVED else ""
    path = str(snapshot).replace("'", "''")
    local.execute(f"CREATE OR REPLACE TEMP VIEW export_rows AS SELECT *{derived} FROM read_parquet('{path}')")
    group = ", ".join(f'CAST("{k}" AS VARCHAR)' for k in keys)
    fingerprints = local.execute(
        f"SELECT {group + ', ' if keys else ''}count(*), CAST(bit_xor(hash(r)) AS VARCHAR) "
        f"FROM export_rows AS r {'GROUP BY ALL' if keys else ''}"
    ).fetchall()
    current = {_name(tuple(row[:len(keys)])): {"rows": row[len(keys)], "fingerprint": row[len(keys) + 1],
                                               "path": _relative(table, keys, tuple(row[:len(keys)]))}
               for row in fingerprints if row[len(keys)]}
    changed = {name for name, part in current.items()
               if old.get(name, {}).get("fingerprint") != part["fingerprint"]
               or old.get(name, {}).get("rows") != part["rows"]}
    result = TableExport(table, rows=sum(p["rows"] for p in current.values()))
    for name in sorted(changed):
        destination.put_file(_write_partition(local, keys, json.loads(name), workdir), current[name]["path"])
        result.written += 1
    for name in sorted(set(old) - set(current)):
        destination.remove(old[name]["path"])
        result.removed += 1
    result.unchanged = len(current) - len(changed)
    return current, result


def _write_partition(local: duckdb.DuckDBPyConnection, keys: tuple[str, ...], values: list[str | None],
                     workdir: Path) -> Path:
    """One partition's rows as a local Parquet file, without the partition columns (Hive style)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{uuid.uuid4().hex}.parquet"
    where = " AND ".join(f'CAST("{k}" AS VARCHAR) IS NOT DISTINCT FROM ?' for k in keys) or "true"
    exclude = f"EXCLUDE ({', '.join(chr(34) + k + chr(34) for k in keys)})" if keys else ""
    literal = str(out).replace("'", "''")
    local.execute(f"COPY (SELECT * {exclude} FROM export_rows WHERE {where}) TO '{literal}' (FORMAT parquet)",
                  list(values))
    return out


def _name(values: Key) -> str:
    """A partition's manifest key: its values as a JSON list (NULL stays null)."""
    return json.dumps([None if v is None else str(v) for v in values])


def _relative(table: str, keys: tuple[str, ...], values: Key) -> str:
    parts = [f"{k}={_escape(v)}" for k, v in zip(keys, values)]
    return "/".join([table, *parts, FILE_NAME])


def _escape(value: str | None) -> str:
    """A partition value as Hive writes it in a folder name: NULL as Hive's default partition,
    and every character that is not a letter, digit or one of `-_.` as %XX."""
    if value is None:
        return HIVE_NULL
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "".join(f"%{b:02X}" for b in c.encode())
                   for c in str(value))
