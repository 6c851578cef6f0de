"""Where settings come from: command line, then environment, then defaults."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

WAREHOUSE_ENV = "SPARKIFY_WAREHOUSE"
DEFAULT_WAREHOUSE = "sparkify.duckdb"


def resolve_warehouse(option: str | None) -> str:
    """The warehouse URL or path to use: the option, else $SPARKIFY_WAREHOUSE, else the default."""
    return option or os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE


def warehouse_scheme(url: str) -> str:
    """`duckdb`, `postgresql` or `redshift`; a plain path (or `duckdb://path`) is DuckDB."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", url)
    if not match:
        return "duckdb"
    scheme = match.group(1).lower()
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    return scheme


def mask_url(url: str) -> str:
    """The URL with any password replaced by `***`, safe to print or log."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username}:***" if parts.username else ":***"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))
