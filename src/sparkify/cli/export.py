"""`sparkify export`: the star schema as partitioned Parquet, in a folder or under s3://."""

from __future__ import annotations

import json

import click
from rich.table import Table

from sparkify import api
from sparkify.cli.common import open_warehouse, out, warehouse_option
from sparkify.inputs.s3 import S3Options


@click.command("export")
@click.option("--to", "target", required=True, metavar="DIR|s3://bucket/prefix",
              help="Where the Parquet files go: a folder, or an S3 prefix.")
@warehouse_option
@click.option("--region", metavar="REGION", default=None, help="S3: the bucket's region (default: from the AWS config).")
@click.option("--endpoint-url", metavar="URL", envvar="AWS_ENDPOINT_URL", default=None,
              help="S3: an S3-compatible endpoint (MinIO, Ceph …). Default: $AWS_ENDPOINT_URL, else AWS.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def export_command(target: str, warehouse: str | None, region: str | None, endpoint_url: str | None,
                   fmt: str) -> None:
    """Write the star schema as Parquet for Spark, Athena, Trino or Redshift Spectrum.

    songplays and time are partitioned by year and month, songs by year and artist_id; users
    and artists are one file each. Only partitions whose rows changed since the last export are
    written, each in one step; partitions that are gone are removed.

    \b
    Example:
      sparkify export --to lake/
      sparkify export --to s3://my-bucket/sparkify/
    """
    with open_warehouse(warehouse, read_only=True) as wh:
        summary = api.export(wh, target, s3=S3Options(region=region, endpoint_url=endpoint_url))
    if fmt == "json":
        click.echo(json.dumps({"destination": summary.destination, "tables": [vars(t) for t in summary.tables]}))
        return
    table = Table("table", "rows", "partitions written", "removed", "unchanged", box=None)
    for t in summary.tables:
        table.add_row(t.table, f"{t.rows:,}", f"{t.written:,}", f"{t.removed:,}", f"{t.unchanged:,}")
    out.print(table)
    out.print(f"Exported to {summary.destination}", markup=False, highlight=False)
