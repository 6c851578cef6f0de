"""Opening a warehouse from its URL or path."""

from __future__ import annotations

from sparkify.config import mask_url, warehouse_scheme
from sparkify.errors import SparkifyError, require_extra
from sparkify.warehouse.base import QueryResult, StageResult, Warehouse

__all__ = ["QueryResult", "StageResult", "Warehouse", "connect"]


def connect(url: str, *, read_only: bool = False) -> Warehouse:
    """The warehouse at `url`: a DuckDB path (or duckdb://path), postgresql://… or redshift://…"""
    scheme = warehouse_scheme(url)
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
    raise SparkifyError(f"warehouse {mask_url(url)!r}: unsupported kind {scheme!r} (use a DuckDB path, postgresql://… or redshift://…)")
