"""Where a Redshift warehouse is, and how Sparkify logs in to it.

The `redshift://user@host:5439/db?iam_role=…&region=…&staging=s3://…&errors=stl|sys` URL, its
checked values, and the login: a password from the environment, else temporary IAM credentials
(GetClusterCredentials for a provisioned cluster, redshift-serverless get-credentials for a
workgroup), else the password `sparkify cluster up` keeps in Secrets Manager.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sparkify.config import mask_secrets
from sparkify.errors import SparkifyError

PASSWORD_ENVS = ("SPARKIFY_REDSHIFT_PASSWORD", "PGPASSWORD")
STAGING_ENV = "SPARKIFY_STAGING_URI"
SERVERLESS_DOMAIN = ".redshift-serverless.amazonaws.com"
#: Temporary credentials last this long (AWS allows 900 to 3600 seconds): a load holds one connection.
CREDENTIALS_SECONDS = 3600

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^'\\\x00-\x1f]*)?$")
_ENDPOINT_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.redshift(?:-serverless)?\.amazonaws\.com$")


# -- target ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedshiftTarget:
    """What a `redshift://user@host:5439/db?iam_role=…&region=…&staging=s3://…` URL says."""

    user: str
    host: str
    port: int
    database: str
    iam_role: str | None
    region: str | None
    staging: str | None
    errors_view: str = "stl"  # "stl" (provisioned) or "sys" (also Serverless; its default)

    @property
    def cluster_id(self) -> str:
        """The cluster identifier, or on Serverless the workgroup name: the host's first label."""
        return self.host.split(".", 1)[0]

    @property
    def serverless(self) -> bool:
        """A workgroup endpoint: WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com."""
        return self.host.endswith(SERVERLESS_DOMAIN)

    @property
    def aws_region(self) -> str | None:
        """The region for AWS calls: region= in the URL, else the one the endpoint's name says."""
        match = _ENDPOINT_REGION.search(self.host)
        return self.region or (match.group(1) if match else None)


def parse_url(url: str) -> RedshiftTarget:
    parts = urlsplit(url)
    if parts.scheme != "redshift" or not parts.hostname:
        raise SparkifyError(f"warehouse {mask_secrets(url)!r}: expected redshift://user@host:5439/db?iam_role=…")
    if parts.password:
        raise SparkifyError(
            "put the Redshift password in $SPARKIFY_REDSHIFT_PASSWORD (or let `sparkify cluster up` keep it "
            "in Secrets Manager), not in the warehouse URL"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"iam_role", "region", "staging", "errors"})
    if unknown:
        raise SparkifyError(f"warehouse URL: unknown option(s) {', '.join(unknown)} "
                            "(known: iam_role, region, staging, errors)")
    target = RedshiftTarget(
        user=unquote(parts.username or "awsuser"),
        host=parts.hostname,
        port=parts.port or 5439,
        database=unquote(parts.path.lstrip("/")) or "dev",
        iam_role=query.get("iam_role"),
        region=query.get("region"),
        staging=(query.get("staging") or os.environ.get(STAGING_ENV, "")).rstrip("/") or None,
        errors_view=query.get("errors") or ("sys" if parts.hostname.endswith(SERVERLESS_DOMAIN) else "stl"),
    )
    if target.iam_role is not None:
        role_arn(target.iam_role)
    if target.region is not None:
        region(target.region)
    if target.staging is not None:
        s3_uri(target.staging, "staging")
    if target.errors_view not in ("stl", "sys"):
        raise SparkifyError("warehouse URL: errors= must be stl (provisioned clusters) or sys (also Serverless)")
    if target.serverless and target.errors_view == "stl":
        raise SparkifyError("warehouse URL: Redshift Serverless cannot read the STL views; use errors=sys (its default)")
    return target


# -- validated values and literals -----------------------------------------------------------------


def role_arn(value: str) -> str:
    if not _ROLE_ARN.match(value):
        raise SparkifyError(f"{value!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)")
    return value


def region(value: str) -> str:
    if not _REGION.match(value):
        raise SparkifyError(f"{value!r} is not an AWS region like us-west-2")
    return value


def s3_uri(value: str, what: str = "path") -> str:
    if not _S3_URI.match(value):
        raise SparkifyError(f"{what}: {value!r} is not an s3://bucket/key URI Redshift can COPY from")
    return value


# -- login ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """Who to connect as. `source` says where the password came from (never the password)."""

    user: str
    password: str
    source: str


def _aws_session(target: RedshiftTarget) -> Any:
    import boto3

    return boto3.session.Session(region_name=target.aws_region)


def iam_login(target: RedshiftTarget, session: Any) -> Login:
    """Temporary credentials for the URL's user: no database password needed, only IAM permission
    (redshift:GetClusterCredentials, or redshift-serverless:GetCredentials on the workgroup)."""
    if target.serverless:
        answer = session.client("redshift-serverless", region_name=target.aws_region).get_credentials(
            workgroupName=target.cluster_id, dbName=target.database, durationSeconds=CREDENTIALS_SECONDS)
        return Login(answer["dbUser"], answer["dbPassword"], "IAM (redshift-serverless get-credentials)")
    answer = session.client("redshift", region_name=target.aws_region).get_cluster_credentials(
        DbUser=target.user, DbName=target.database, ClusterIdentifier=target.cluster_id,
        DurationSeconds=CREDENTIALS_SECONDS, AutoCreate=False)
    return Login(answer["DbUser"], answer["DbPassword"], "IAM (GetClusterCredentials)")


def find_login(target: RedshiftTarget, environ: dict[str, str] | None = None, session: Any = None) -> Login:
    """$SPARKIFY_REDSHIFT_PASSWORD / $PGPASSWORD; else temporary IAM credentials; else the secret
    `cluster up` stored. Fails with one line saying what was tried."""
    from botocore.exceptions import BotoCoreError, ClientError

    environ = dict(os.environ) if environ is None else environ
    for name in PASSWORD_ENVS:
        if environ.get(name):
            return Login(target.user, environ[name], f"${name}")
    tried = []
    try:
        session = session or _aws_session(target)
        return iam_login(target, session)
    except (BotoCoreError, ClientError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
        tried.append(f"temporary IAM credentials ({code})")
    secret = f"sparkify/redshift/{target.cluster_id}"
    try:
        client = session.client("secretsmanager", region_name=target.aws_region)
        return Login(target.user, json.loads(client.get_secret_value(SecretId=secret)["SecretString"])["password"],
                     f"Secrets Manager {secret}")
    except (BotoCoreError, ClientError, KeyError, ValueError):
        tried.append(f"Secrets Manager {secret}")
    raise SparkifyError(f"no Redshift login for {target.user}: set $SPARKIFY_REDSHIFT_PASSWORD, or allow IAM "
                        f"credentials, or keep the password in Secrets Manager as {secret} (tried: {'; '.join(tried)})")
