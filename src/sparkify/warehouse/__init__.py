"""Opening a warehouse from its URL or path."""

from __future__ import annotations

from sparkify.config import mask_secrets, remember_url_secrets, warehouse_scheme
from sparkify.errors import SparkifyError, require_extra
from sparkify.warehouse.base import QueryResult, StageResult, Warehouse

__all__ = ["QueryResult", "StageResult", "Warehouse", "connect"]


def connect(url: str, *, read_only: bool = False) -> Warehouse:
    """The warehouse at `url`: a DuckDB path (or duckdb://path), postgresql://… (or a libpq keyword
    DSN, `host=… dbname=…`) or redshift://…

    Its password is remembered, so no message printed from now on can show it.
    """
    remember_url_secrets(url)
    scheme = warehouse_scheme(url)
    try:
        return _connect(scheme, url, read_only)
    except ValueError:  # a URL parser gave up (an unclosed `[`, a port that is no number …)
        if scheme == "duckdb":
            raise
        raise SparkifyError(
            f"warehouse {mask_secrets(url)!r} is not a valid URL: percent-encode special characters in the "
            "user and password (@ %40, : %3A, / %2F, ? %3F, # %23, [ %5B)"
        ) from None


def _connect(scheme: str, url: str, read_only: bool) -> Warehouse:
    if scheme == "duckdb":
        from sparkify.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(url, read_only=read_only)
    if scheme == "postgresql":
        require_extra("postgres", "a PostgreSQL warehouse")
        from sparkify.warehouse.postgres import PostgresWarehouse

        return PostgresWarehouse(url, read_only=read_only)
    if scheme == "redshift":
        require_extra("redshift", "a Redshift warehouse")
        from sparkify.warehouse.redshift import RedshiftWarehouse

        return RedshiftWarehouse(url, read_only=read_only)
    raise SparkifyError(f"warehouse {mask_secrets(url)!r}: unsupported kind {scheme!r} (use a DuckDB path, postgresql://… or redshift://…)")
