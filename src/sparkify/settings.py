"""Settings from `sparkify.toml` or the original project's `dwh.cfg`, merged in one typed object.

Precedence, the same for every command: command-line options > environment variables > the
settings file > defaults.
Each value remembers where it came from, so `sparkify config` can say why it is what it is.
Secrets (passwords, AWS keys) are kept in memory only and shown masked; a file that holds
any is warned about once, without echoing it.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from sparkify.config import holds_password, mask_secrets, remember_secrets, remember_url_secrets
from sparkify.errors import SparkifyError

CONFIG_ENV = "SPARKIFY_CONFIG"
PASSWORD_ENV = "SPARKIFY_REDSHIFT_PASSWORD"
DEFAULT_CONFIG = "sparkify.toml"

#: Fields that must never be printed or written.
SECRET_FIELDS = frozenset({"db_password", "aws_access_key_id", "aws_secret_access_key"})


@dataclass
class Settings:
    """Everything the Redshift commands need; `sources` says where each value came from."""

    warehouse: str | None = None
    region: str = "us-west-2"
    cluster_id: str = "sparkify"
    node_type: str = "ra3.large"
    nodes: int = 2
    db_name: str = "sparkify"
    db_user: str = "awsuser"
    db_password: str | None = None
    host: str | None = None
    port: int = 5439
    iam_role_name: str = "sparkify-redshift-s3-read"
    iam_role_arn: str | None = None
    security_group: str = "sparkify-redshift"
    source_buckets: list[str] = field(default_factory=list)
    cidr: str | None = None
    log_data: str | None = None
    song_data: str | None = None
    log_jsonpath: str | None = None
    staging_uri: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    config_file: str | None = None
    sources: dict[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:  # never leak a secret through a traceback or a log line
        shown = ", ".join(f"{k}={v!r}" for k, v in self.masked().items())
        return f"Settings({shown})"

    def masked(self) -> dict[str, Any]:
        """Every setting, secrets replaced by `***`, URLs with their password masked."""
        values: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif isinstance(value, str):
                value = mask_secrets(value)
            values[f.name] = value
        return values

    def set(self, name: str, value: Any, source: str) -> None:
        """Set one value (converted to the field's type) and remember its origin."""
        if value is None or value == "":
            return
        current = getattr(self, name)
        if isinstance(current, int) and not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except ValueError:
                raise SparkifyError(f"{source}: {name} must be a whole number, not {value!r}") from None
        if name == "cluster_id" and isinstance(value, str):
            value = value.strip().lower()  # Redshift stores identifiers lower-case (dwh.cfg says dwhCluster)
        if name == "source_buckets" and isinstance(value, str):
            value = [b.strip() for b in value.split(",") if b.strip()]
        setattr(self, name, value)
        self.sources[name] = source

    def redshift_url(self) -> str | None:
        """The `--warehouse` URL these settings describe (no password in it), if a host is known."""
        if not self.host:
            return None
        query = {}
        if self.iam_role_arn:
            query["iam_role"] = self.iam_role_arn
        region = self.region
        match = re.match(r"^[^.]+\.[^.]+\.([a-z]{2}(-[a-z]+)+-\d)\.redshift\.amazonaws\.com$", self.host)
        if match and "region" not in self.sources:
            region = match.group(1)  # the endpoint says where the cluster is
        if region:
            query["region"] = region
        if self.staging_uri:
            query["staging"] = self.staging_uri
        url = f"redshift://{quote(self.db_user, safe='')}@{self.host}:{self.port}/{quote(self.db_name, safe='')}"
        return f"{url}?{urlencode(query, safe=':/')}" if query else url

    def effective_warehouse(self) -> str | None:
        return self.warehouse or self.redshift_url()

    def warehouse_source(self) -> str:
        """Where the effective warehouse came from, for `sparkify config`."""
        if self.warehouse:
            return self.sources.get("warehouse", "default")
        if self.redshift_url():
            return self.sources.get("host", "default") + " ([cluster] host)"
        return "default"


# -- environment --------------------------------------------------------------------------------

_ENV = {
    "warehouse": ("SPARKIFY_WAREHOUSE",),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "db_password": (PASSWORD_ENV, "PGPASSWORD"),
    "cluster_id": ("SPARKIFY_CLUSTER_ID",),
    "staging_uri": ("SPARKIFY_STAGING_URI",),
}


def _apply_env(settings: Settings, environ: dict[str, str]) -> None:
    for name, names in _ENV.items():
        for var in names:
            if environ.get(var):
                settings.set(name, environ[var], f"env {var}")
                break


# -- files ----------------------------------------------------------------------------------------

#: sparkify.toml: [section] key -> field.
_TOML = {
    ("warehouse", "url"): "warehouse",
    ("aws", "region"): "region",
    ("aws", "access_key_id"): "aws_access_key_id",
    ("aws", "secret_access_key"): "aws_secret_access_key",
    ("cluster", "identifier"): "cluster_id",
    ("cluster", "node_type"): "node_type",
    ("cluster", "nodes"): "nodes",
    ("cluster", "db_name"): "db_name",
    ("cluster", "db_user"): "db_user",
    ("cluster", "db_password"): "db_password",
    ("cluster", "host"): "host",
    ("cluster", "port"): "port",
    ("cluster", "iam_role_name"): "iam_role_name",
    ("cluster", "iam_role_arn"): "iam_role_arn",
    ("cluster", "security_group"): "security_group",
    ("cluster", "source_buckets"): "source_buckets",
    ("cluster", "cidr"): "cidr",
    ("s3", "log_data"): "log_data",
    ("s3", "song_data"): "song_data",
    ("s3", "log_jsonpath"): "log_jsonpath",
    ("s3", "staging_uri"): "staging_uri",
}

#: dwh.cfg (the original project's): [SECTION] KEY -> field. Keys are case-insensitive.
_CFG = {
    ("CLUSTER", "host"): "host",
    ("CLUSTER", "db_name"): "db_name",
    ("CLUSTER", "db_user"): "db_user",
    ("CLUSTER", "db_password"): "db_password",
    ("CLUSTER", "db_port"): "port",
    ("IAM_ROLE", "arn"): "iam_role_arn",
    ("S3", "log_data"): "log_data",
    ("S3", "log_jsonpath"): "log_jsonpath",
    ("S3", "song_data"): "song_data",
    ("S3", "staging_uri"): "staging_uri",
    ("AWS", "key"): "aws_access_key_id",
    ("AWS", "secret"): "aws_secret_access_key",
    ("AWS", "region"): "region",
    ("DWH", "dwh_cluster_identifier"): "cluster_id",
    ("DWH", "dwh_node_type"): "node_type",
    ("DWH", "dwh_num_nodes"): "nodes",
    ("DWH", "dwh_db"): "db_name",
    ("DWH", "dwh_db_user"): "db_user",
    ("DWH", "dwh_db_password"): "db_password",
    ("DWH", "dwh_port"): "port",
    ("DWH", "dwh_iam_role_name"): "iam_role_name",
    ("DWH", "dwh_region"): "region",
}


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SparkifyError(f"{path}: not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for (section, key), name in _TOML.items():
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if value is not None:
            values[name] = value
    return values


def _read_cfg(path: Path) -> dict[str, Any]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except configparser.Error as exc:
        raise SparkifyError(f"{path}: not a valid INI file: {str(exc).splitlines()[0]}") from exc
    values: dict[str, Any] = {}
    sections = {s.upper(): s for s in parser.sections()}
    for (section, key), name in _CFG.items():
        real = sections.get(section)
        if real is None or not parser.has_option(real, key):
            continue
        value = _unquote(parser.get(real, key))
        if value and name not in values:
            values[name] = value
    return values


def read_file(path: str | Path) -> dict[str, Any]:
    """The settings a file holds: TOML if it parses as such or ends in .toml, else dwh.cfg INI."""
    path = Path(path)
    if not path.is_file():
        raise SparkifyError(f"config file not found: {str(path)!r}")
    if path.suffix == ".toml":
        return _read_toml(path)
    return _read_cfg(path)


_warned: set[str] = set()


def _warn_secrets(path: str, values: dict[str, Any], warn: Callable[[str], None]) -> None:
    """Once per file and process: say which secrets belong elsewhere, never their values."""
    held = sorted(k for k in values if k in SECRET_FIELDS)
    if holds_password(values.get("warehouse")):
        held.append("a password in the warehouse URL")
    if not held or path in _warned:
        return
    _warned.add(path)
    names = ", ".join(held)
    warn(
        f"warning: {path} holds {names}. Secrets belong in the environment "
        f"(${PASSWORD_ENV}) or an AWS profile / Secrets Manager, not in a file; "
        "they are used for this run but never printed."
    )


def load_settings(
    config: str | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Defaults, then the file (`config`, $SPARKIFY_CONFIG or ./sparkify.toml), then the
    environment, then command-line `overrides` (None values mean "not given")."""
    environ = dict(os.environ) if environ is None else environ
    warn = warn or (lambda message: print(message, file=sys.stderr))
    settings = Settings()
    path = config or environ.get(CONFIG_ENV)
    if not path and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    if path:
        values = read_file(path)
        _warn_secrets(str(path), values, warn)
        for name, value in values.items():
            settings.set(name, value, f"file {path}")
        settings.config_file = str(path)
    _apply_env(settings, environ)
    for name, value in (overrides or {}).items():
        settings.set(name, value, "command line")
    remember_secrets(*(getattr(settings, name) for name in SECRET_FIELDS))
    remember_url_secrets(settings.warehouse)
    return settings


def reset_warnings() -> None:
    """For tests: forget which files were already warned about."""
    _warned.clear()
