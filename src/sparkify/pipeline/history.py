"""What past loads did: the loads themselves, and the records they rejected."""

from __future__ import annotations

from sparkify.warehouse.base import QueryResult, Warehouse

#: How many rejects `sparkify errors` shows unless told otherwise (as the original load_errors.csv).
DEFAULT_ERRORS = 25


def load_history(warehouse: Warehouse, limit: int = 20) -> QueryResult:
    """The newest loads first, with their per-source reconciliation."""
    return warehouse.query(
        f"""
        SELECT l.load_id, l.status, date_trunc('second', l.started_at) AS started_at,
               date_trunc('second', l.finished_at) AS finished_at, l.files, l.records, l.staged, l.rejected,
               (SELECT count(*) FROM staging.load_sources s
                 WHERE s.load_id = l.load_id AND s.records <> s.staged + s.rejected) = 0 AS reconciled,
               (SELECT count(*) FROM staging.removed_files r WHERE r.load_id = l.load_id) AS removed,
               l.message
        FROM staging.loads AS l
        ORDER BY l.load_id DESC
        LIMIT {int(limit)}
        """
    )


def removed_files(warehouse: Warehouse, limit: int = 20) -> QueryResult:
    """Files that loads unstaged because they were gone from the source, newest load first."""
    return warehouse.query(
        "SELECT load_id, source, path, rows FROM staging.removed_files "
        f"ORDER BY load_id DESC, source, path LIMIT {int(limit)}"
    )


def recent_errors(warehouse: Warehouse, load_id: int | None = None, limit: int | None = DEFAULT_ERRORS) -> QueryResult:
    """Rejected records, newest load first, in file and line order within a load."""
    where = "" if load_id is None else f"WHERE load_id = {int(load_id)}"
    cap = "" if limit is None else f"LIMIT {int(limit)}"
    return warehouse.query(
        f'SELECT load_id, source, file, line, "column", reason, raw_text FROM staging.load_errors {where} '
        f"ORDER BY load_id DESC, file, line {cap}"
    )

