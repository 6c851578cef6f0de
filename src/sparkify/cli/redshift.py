"""The `sparkify cluster up|status|down` and `sparkify config` commands, and the settings/dry-run
glue `sparkify etl` uses. Thin: the work is in sparkify.aws.cluster, sparkify.settings, sparkify.pipeline.dry_run.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

import click
from rich.console import Console

from sparkify.answers.output import as_text
from sparkify.config import DEFAULT_WAREHOUSE, mask_secrets, warehouse_scheme
from sparkify.errors import SparkifyError
from sparkify.cli.common import command_settings, config_option, warn
from sparkify.settings import PASSWORD_ENV, Settings, load_settings

#: Seconds between polls while a cluster starts or stops (tests set 0).
POLL_ENV = "SPARKIFY_POLL_SECONDS"

# Never markup: settings and AWS answers are data (`[/x]` in a path must not crash, nor an ESC drive the terminal).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200, highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)

def _settings(config: str | None, **cli: Any) -> Settings:
    return load_settings(config, overrides=cli, warn=warn)


def _aws_errors(command: Any) -> Any:
    """AWS failures not already explained (no credentials, no endpoint) become one line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return command(*args, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise SparkifyError(f"AWS: {error.get('Code', '')}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise SparkifyError(f"AWS: {exc}") from None

    return wrapper


def _poll_seconds() -> float:
    try:
        return float(os.environ.get(POLL_ENV, "15"))
    except ValueError:
        return 15.0


# -- sparkify etl glue ---------------------------------------------------------------------------


def etl_settings(songs: str | None, logs: str | None, warehouse: str) -> tuple[str | None, str | None, str]:
    """(songs, logs, warehouse) with the settings file's S3 paths where no option gave them.

    A password the file holds is passed on in this process's environment only (never written
    anywhere).
    """
    settings = command_settings()
    if settings.db_password and settings.sources.get("db_password", "").startswith("file"):
        os.environ[PASSWORD_ENV] = settings.db_password
    songs, logs = songs or settings.song_data, logs or settings.log_data
    if warehouse_scheme(warehouse) == "redshift":
        from sparkify.warehouse.redshift import require_s3_paths

        require_s3_paths(songs, logs)  # before connecting: the cluster can only COPY from S3
    return songs, logs, warehouse


def print_dry_run(warehouse: str, songs: str | None, logs: str | None, max_errors: int, full_refresh: bool) -> None:
    from sparkify.pipeline.dry_run import plan, render

    click.echo(render(plan(warehouse, songs, logs, max_errors=max_errors, full_refresh=full_refresh), warehouse))


# -- sparkify config -----------------------------------------------------------------------------


@click.command("config")
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def config_command(config: str | None, fmt: str) -> None:
    """Show the effective settings (secrets masked) and where each came from.

    Example: sparkify config --config dwh.cfg
    """
    settings = _settings(config)
    values = settings.masked()
    values["warehouse (effective)"] = mask_secrets(settings.effective_warehouse() or DEFAULT_WAREHOUSE)
    settings.sources["warehouse (effective)"] = settings.warehouse_source()
    if fmt == "json":
        click.echo(json.dumps(values, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"Settings ({settings.config_file or 'no settings file'})")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for name, value in values.items():
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
        table.add_row(*map(as_text, (name, shown, settings.sources.get(name, "default" if value not in (None, []) else ""))))
    out.print(table)


# -- sparkify cluster ----------------------------------------------------------------------------


@click.group("cluster")
def cluster_group() -> None:
    """Create, inspect and delete a Redshift cluster for Sparkify (AWS credentials from the
    environment or an AWS profile; $AWS_ENDPOINT_URL is honoured)."""


def _shape_options(function: Any) -> Any:
    for option in reversed([
        config_option,
        click.option("--cluster-id", default=None,
                     help="Cluster identifier, or Serverless namespace and workgroup name (default: sparkify)."),
        click.option("--region", default=None, help="AWS region (default: $AWS_REGION, else us-west-2)."),
        click.option("--serverless", is_flag=True,
                     help="A Redshift Serverless namespace and workgroup instead of a provisioned cluster."),
    ]):
        function = option(function)
    return function


def _kind(serverless: bool) -> Any:
    """The module that manages the chosen kind of warehouse: (up, status, down, resources, noun)."""
    if serverless:
        from sparkify.aws import serverless as sl

        return sl.serverless_up, sl.serverless_status, sl.serverless_down, sl.serverless_resources, "workgroup"
    from sparkify.aws import cluster as cl

    return cl.cluster_up, cl.cluster_status, cl.cluster_down, cl.find_resources, "cluster"


def _session(settings: Settings) -> Any:
    from sparkify.aws.cluster import boto_session

    try:
        return boto_session(settings)
    except ImportError:
        raise SparkifyError("the cluster commands need boto3: pip install boto3") from None


class _Waiting:
    """A spinner on stderr (only on a terminal) that shows the cluster's status and the time."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.status: Any = None

    def __call__(self, state: str, elapsed: float) -> None:
        text = f"{self.what}: {state} ({elapsed:.0f} s)"
        if not err.is_terminal:
            return
        if self.status is None:
            self.status = err.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()


@cluster_group.command("up")
@_shape_options
@click.option("--cidr", default=None, help="Address range allowed to reach port 5439, e.g. 203.0.113.7/32.")
@click.option("--source-bucket", "source_buckets", multiple=True,
              help="Bucket the cluster may read (repeatable). Default: the buckets of the S3 settings.")
@click.option("--node-type", default=None, help="Node type (default: ra3.large).")
@click.option("--nodes", type=click.IntRange(min=1), default=None, help="Number of nodes (default: 2).")
@click.option("--db-name", default=None, help="Database name (default: sparkify).")
@click.option("--db-user", default=None, help="Master user name (default: awsuser).")
@click.option("--public", is_flag=True,
              help="Allow a --cidr wider than /16 (IPv6: /48), up to 0.0.0.0/0, the whole internet.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before creating billable resources.")
@_aws_errors
def cluster_up_command(config: str | None, cluster_id: str | None, region: str | None, serverless: bool,
                       cidr: str | None, source_buckets: tuple[str, ...], node_type: str | None, nodes: int | None,
                       db_name: str | None, db_user: str | None, public: bool, yes: bool) -> None:
    """Create the IAM role, password secret, ingress rule and cluster (or, with --serverless, the
    namespace and workgroup), whatever is missing; wait until it is available, and print the
    --warehouse URL to use.

    Example: sparkify cluster up --cidr 203.0.113.7/32 --source-bucket udacity-dend --yes
    """
    from sparkify.aws.network import validate_cidr

    up, status, _, _, noun = _kind(serverless)
    settings = _settings(config, cluster_id=cluster_id, region=region, cidr=cidr,
                         source_buckets=list(source_buckets) or None, node_type=node_type, nodes=nodes,
                         db_name=db_name, db_user=db_user)
    validate_cidr(settings.cidr, public)
    session = _session(settings)
    if not yes and status(session, settings) is None:
        shape = "Serverless, billed per second while it runs queries" if serverless else \
            f"{settings.nodes} x {settings.node_type}, billed by the hour"
        click.confirm(
            f"Create Redshift {noun} {settings.cluster_id} ({shape}) in {settings.region}? "
            "It is billed until `sparkify cluster down`.",
            abort=True, err=True,
        )
    waiting = _Waiting(f"{noun} {settings.cluster_id}")
    try:
        info = up(session, settings, public=public, on_wait=waiting, poll_seconds=_poll_seconds())
    finally:
        waiting.stop()
    for item in info.created:
        out.print(f"created {item}")
    for item in info.removed:
        out.print(f"removed {item}")
    if not info.created:
        out.print(f"{noun} {info.identifier} already exists: nothing created")
    out.print(f"{noun.title() + ':':<10} {info.identifier} ({info.status}, {info.shape})")
    out.print(f"Endpoint:  {info.endpoint}:{info.port}")
    out.print(f"IAM role:  {info.role_arn}")
    out.print("Login:     temporary IAM credentials (GetClusterCredentials / get-credentials) when no password is set")
    if settings.db_password:
        out.print(f"Password:  from ${PASSWORD_ENV} (not stored)")
    elif info.secret_name:
        out.print(f"Password:  in AWS Secrets Manager as {info.secret_name} (the fallback sparkify reads)")
    out.print("Use:")
    out.print(f"  --warehouse '{info.warehouse_url(settings.staging_uri)}'")
    if not settings.staging_uri:
        out.print("  (add &staging=s3://YOUR-BUCKET/PREFIX: manifests and JSONPaths are written there)")


@cluster_group.command("status")
@_shape_options
@_aws_errors
def cluster_status_command(config: str | None, cluster_id: str | None, region: str | None,
                           serverless: bool) -> None:
    """Show the cluster's (or workgroup's) state, endpoint, shape and IAM role.

    Example: sparkify cluster status
    """
    _, status, _, _, noun = _kind(serverless)
    settings = _settings(config, cluster_id=cluster_id, region=region)
    info = status(_session(settings), settings)
    if info is None:
        flag = " --serverless" if serverless else ""
        out.print(f"No {noun} {settings.cluster_id} in {settings.region}: run `sparkify cluster up{flag}`.")
        return
    out.print(f"{noun.title() + ':':<10} {info.identifier} ({info.status}, {info.shape})")
    out.print(f"Endpoint:  {info.endpoint}:{info.port}" if info.endpoint else "Endpoint:  not yet")
    out.print(f"IAM role:  {info.role_arn}")
    if info.endpoint:
        out.print(f"Use: --warehouse '{info.warehouse_url(settings.staging_uri)}'")


@cluster_group.command("down")
@_shape_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting.")
@_aws_errors
def cluster_down_command(config: str | None, cluster_id: str | None, region: str | None, serverless: bool,
                         yes: bool) -> None:
    """Delete the cluster (no final snapshot) or, with --serverless, the workgroup and namespace;
    then the ingress rule and security group, the IAM role and the stored password.

    Example: sparkify cluster down --yes
    """
    _, _, down, resources, noun = _kind(serverless)
    settings = _settings(config, cluster_id=cluster_id, region=region)
    session = _session(settings)
    found = resources(session, settings)
    if not found:
        out.print(f"Nothing to delete: no {noun} {settings.cluster_id}, role or security group in {settings.region}.")
        return
    if not yes:
        click.confirm("Delete " + "; ".join(found) + f"? All data in the {noun} is lost.", abort=True, err=True)
    waiting = _Waiting(f"deleting {noun} {settings.cluster_id}")
    try:
        deleted = down(session, settings, on_wait=waiting, poll_seconds=_poll_seconds())
    finally:
        waiting.stop()
    for item in deleted:
        out.print(f"deleted {item}")
