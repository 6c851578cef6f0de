"""A Redshift warehouse as code: `up`, `status` and `down`, each safe to run twice.

`up` makes (or finds) an IAM role Redshift can assume with read-only access to the source
bucket(s) (aws/iam.py), an admin password kept in Secrets Manager or taken from the environment
(aws/secrets.py), a security group whose one ingress rule opens port 5439 to one CIDR
(aws/network.py), and the warehouse: a provisioned cluster (here) or a Serverless namespace and
workgroup (aws/serverless.py); then waits until it is available. `down` removes what `up` made.
boto3 honours $AWS_ENDPOINT_URL, which is how tests use moto.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sparkify.aws.common import REDSHIFT_PORT, TAG, aws_call, error_code
from sparkify.aws.iam import delete_role, ensure_role, role_exists, role_policy
from sparkify.aws.network import delete_group, ensure_group, find_group, validate_cidr
from sparkify.aws.secrets import delete_secret, ensure_password, generate_password, secret_exists, secret_name
from sparkify.errors import SparkifyError, require_extra
from sparkify.settings import PASSWORD_ENV, Settings

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_FAILED = ("deleting", "final-snapshot", "incompatible-hsm", "incompatible-network", "hardware-failure",
           "storage-full")


@dataclass
class ClusterInfo:
    """What `status` and `up` report, for a cluster or a workgroup. Never holds the password."""

    identifier: str
    status: str
    endpoint: str | None = None
    port: int = REDSHIFT_PORT
    role_arn: str | None = None
    node_type: str | None = None
    nodes: int | None = None
    db_name: str | None = None
    db_user: str | None = None
    region: str | None = None
    secret_name: str | None = None
    serverless: bool = False
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def shape(self) -> str:
        return f"Serverless, {self.nodes} RPU base capacity" if self.serverless else f"{self.nodes} x {self.node_type}"

    def warehouse_url(self, staging_uri: str | None = None) -> str | None:
        """The exact `--warehouse` URL (no password: it comes from IAM, the environment or the secret)."""
        if not self.endpoint:
            return None
        url = f"redshift://{self.db_user}@{self.endpoint}:{self.port}/{self.db_name}"
        query = [f"iam_role={self.role_arn}"] if self.role_arn else []
        if self.region:
            query.append(f"region={self.region}")
        if staging_uri:
            query.append(f"staging={staging_uri}")
        return url + ("?" + "&".join(query) if query else "")


# -- validation ---------------------------------------------------------------------------------


def validate(settings: Settings) -> None:
    if not _IDENTIFIER.match(settings.cluster_id) or "--" in settings.cluster_id or settings.cluster_id.endswith("-"):
        raise SparkifyError(f"cluster identifier {settings.cluster_id!r}: use lowercase letters, digits and hyphens")
    for what, value in (("IAM role name", settings.iam_role_name), ("security group", settings.security_group)):
        if not _NAME.match(value):
            raise SparkifyError(f"{what} {value!r}: use letters, digits and +=,.@_-")
    for bucket in settings.source_buckets:
        if not _BUCKET.match(bucket):
            raise SparkifyError(f"source bucket {bucket!r} is not an S3 bucket name")
    if not re.match(r"^[a-z_][a-z0-9_$]{0,126}$", settings.db_name):
        raise SparkifyError(f"database name {settings.db_name!r}: use lowercase letters, digits and _")
    if not re.match(r"^[a-z_][a-z0-9_$]{0,126}$", settings.db_user):
        raise SparkifyError(f"database user {settings.db_user!r}: use lowercase letters, digits and _")
    if settings.nodes < 1:
        raise SparkifyError("--nodes must be at least 1")


def source_buckets(settings: Settings) -> list[str]:
    """The buckets the role may read: --source-bucket, else those of the S3 settings."""
    buckets = list(settings.source_buckets)
    if not buckets:
        for uri in (settings.log_data, settings.song_data, settings.log_jsonpath):
            if uri and uri.startswith("s3://"):
                bucket = uri[5:].split("/", 1)[0]
                if bucket not in buckets:
                    buckets.append(bucket)
    if settings.staging_uri and settings.staging_uri.startswith("s3://"):
        bucket = settings.staging_uri[5:].split("/", 1)[0]
        if bucket not in buckets:
            buckets.append(bucket)
    return buckets


def prepare(session: Any, settings: Settings, public: bool, created: list[str],
            removed: list[str]) -> tuple[str, str]:
    """What both kinds of warehouse need first: (role ARN, security group id)."""
    cidr = validate_cidr(settings.cidr, public)
    validate(settings)
    buckets = source_buckets(settings)
    if not buckets:
        raise SparkifyError("give --source-bucket BUCKET (the bucket(s) holding song_data and log_data)")
    role_arn = ensure_role(session.client("iam"), settings.iam_role_name, buckets, created)
    group_id = ensure_group(session.client("ec2", region_name=settings.region), settings.security_group, cidr,
                            created, removed)
    return role_arn, group_id


def wait_for(describe: Callable[[], tuple[str, bool] | None], what: str, *, on_wait: Callable[[str, float], None]
             | None, poll_seconds: float, timeout_seconds: float, failed: tuple[str, ...] = _FAILED,
             gone: bool = False) -> None:
    """Poll `describe` -> (status, ready) or None (gone) until ready (or, with `gone`, until None)."""
    started = time.monotonic()
    while True:
        state = describe()
        elapsed = time.monotonic() - started
        if state is None:
            if gone:
                return
            raise SparkifyError(f"{what} disappeared while starting")
        status, ready = state
        if on_wait:
            on_wait(status, elapsed)
        if ready and not gone:
            return
        if status.lower() in failed and not gone:
            raise SparkifyError(f"{what} is {status!r}, not starting")
        if elapsed > timeout_seconds:
            raise SparkifyError(f"{what} still {status!r} after {elapsed:.0f} s; run `sparkify cluster status` later")
        time.sleep(poll_seconds)


# -- the provisioned cluster -----------------------------------------------------------------------


def _describe(redshift: Any, settings: Settings) -> dict[str, Any] | None:
    try:
        return redshift.describe_clusters(ClusterIdentifier=settings.cluster_id)["Clusters"][0]
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFound":
            return None
        raise SparkifyError(f"describing cluster {settings.cluster_id}: {error_code(exc) or exc}") from None


def _state(redshift: Any, settings: Settings) -> Callable[[], tuple[str, bool] | None]:
    def describe() -> tuple[str, bool] | None:
        cluster = _describe(redshift, settings)
        if cluster is None:
            return None
        status = cluster.get("ClusterStatus", "unknown")
        return status, status == "available" and bool((cluster.get("Endpoint") or {}).get("Address"))
    return describe


def _info(cluster: dict[str, Any], settings: Settings) -> ClusterInfo:
    endpoint = cluster.get("Endpoint") or {}
    roles = [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]
    return ClusterInfo(
        identifier=cluster["ClusterIdentifier"],
        status=cluster.get("ClusterStatus", "unknown"),
        endpoint=endpoint.get("Address"),
        port=endpoint.get("Port") or REDSHIFT_PORT,
        role_arn=roles[0] if roles else None,
        node_type=cluster.get("NodeType"),
        nodes=cluster.get("NumberOfNodes"),
        db_name=cluster.get("DBName"),
        db_user=cluster.get("MasterUsername"),
        region=settings.region,
    )


def cluster_up(
    session: Any,
    settings: Settings,
    *,
    public: bool = False,
    on_wait: Callable[[str, float], None] | None = None,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
) -> ClusterInfo:
    """Create what is missing (role, password secret, ingress rule, cluster); wait until available.

    `on_wait(status, elapsed_seconds)` is called at every poll so the caller can show progress.
    """
    created: list[str] = []
    removed: list[str] = []
    role_arn, group_id = prepare(session, settings, public, created, removed)
    redshift = session.client("redshift", region_name=settings.region)
    cluster = _describe(redshift, settings)
    secret = None
    if cluster is None:
        sm = session.client("secretsmanager", region_name=settings.region)
        password, secret = ensure_password(sm, settings, settings.cluster_id,
                                           f"Redshift cluster {settings.cluster_id}", created)
        shape: dict[str, Any] = {"ClusterType": "single-node"} if settings.nodes == 1 else {
            "ClusterType": "multi-node", "NumberOfNodes": settings.nodes}
        aws_call(
            f"creating cluster {settings.cluster_id}",
            redshift.create_cluster,
            ClusterIdentifier=settings.cluster_id,
            NodeType=settings.node_type,
            DBName=settings.db_name,
            MasterUsername=settings.db_user,
            MasterUserPassword=password,
            IamRoles=[role_arn],
            VpcSecurityGroupIds=[group_id],
            PubliclyAccessible=True,
            Encrypted=True,
            Port=REDSHIFT_PORT,
            Tags=[TAG],
            **shape,
        )
        created.append(f"cluster {settings.cluster_id}")
    else:
        secret = None if settings.db_password else secret_name(settings.cluster_id)
        attached = [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]
        if role_arn not in attached:
            aws_call("attaching the role to the cluster", redshift.modify_cluster_iam_roles,
                     ClusterIdentifier=settings.cluster_id, AddIamRoles=[role_arn])
            created.append(f"role attached to cluster {settings.cluster_id}")
    wait_for(_state(redshift, settings), f"cluster {settings.cluster_id}", on_wait=on_wait,
             poll_seconds=poll_seconds, timeout_seconds=timeout_seconds)
    info = _info(_describe(redshift, settings) or {}, settings)
    info.role_arn, info.secret_name, info.created, info.removed = role_arn, secret, created, removed
    return info


def cluster_status(session: Any, settings: Settings) -> ClusterInfo | None:
    """The cluster as AWS sees it, or None when there is none."""
    redshift = session.client("redshift", region_name=settings.region)
    cluster = _describe(redshift, settings)
    return None if cluster is None else _info(cluster, settings)


def find_resources(session: Any, settings: Settings) -> list[str]:
    """What `down` would delete (empty when there is nothing)."""
    found = [f"cluster {settings.cluster_id}"] if cluster_status(session, settings) is not None else []
    return found + shared_resources(session, settings)


def shared_resources(session: Any, settings: Settings) -> list[str]:
    """The role, security group and stored password, where they exist (both kinds of warehouse)."""
    found = []
    if role_exists(session.client("iam"), settings.iam_role_name):
        found.append(f"IAM role {settings.iam_role_name}")
    if find_group(session.client("ec2", region_name=settings.region), settings.security_group) is not None:
        found.append(f"security group {settings.security_group} and its ingress rules")
    if not settings.db_password:
        sm = session.client("secretsmanager", region_name=settings.region)
        if secret_exists(sm, secret_name(settings.cluster_id)):
            found.append(f"secret {secret_name(settings.cluster_id)}")
    return found


def remove_shared(session: Any, settings: Settings, deleted: list[str], poll_seconds: float) -> None:
    """After the cluster or workgroup: the security group, the role and the stored password."""
    delete_group(session.client("ec2", region_name=settings.region), settings.security_group, deleted, poll_seconds)
    delete_role(session.client("iam"), settings.iam_role_name, deleted)
    if not settings.db_password:
        delete_secret(session.client("secretsmanager", region_name=settings.region),
                      secret_name(settings.cluster_id), deleted)


def cluster_down(
    session: Any,
    settings: Settings,
    *,
    on_wait: Callable[[str, float], None] | None = None,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
) -> list[str]:
    """Delete the cluster (no final snapshot), its ingress rules and group, the role and the
    stored password. Returns what was deleted (empty: there was nothing)."""
    validate(settings)
    deleted: list[str] = []
    redshift = session.client("redshift", region_name=settings.region)
    if _describe(redshift, settings) is not None:
        aws_call(f"deleting cluster {settings.cluster_id}", redshift.delete_cluster,
                 ClusterIdentifier=settings.cluster_id, SkipFinalClusterSnapshot=True)
        wait_for(_state(redshift, settings), f"cluster {settings.cluster_id}", on_wait=on_wait,
                 poll_seconds=poll_seconds, timeout_seconds=timeout_seconds, gone=True)
        deleted.append(f"cluster {settings.cluster_id}")
    remove_shared(session, settings, deleted, poll_seconds)
    return deleted


def boto_session(settings: Settings) -> Any:
    """A boto3 session for the settings' region; credentials from the environment / AWS profile,
    or (with a warning already given) from the settings file."""
    require_extra("aws", "`sparkify cluster`")
    import boto3

    kwargs: dict[str, Any] = {"region_name": settings.region}
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        kwargs["aws_access_key_id"] = settings.aws_access_key_id
        kwargs["aws_secret_access_key"] = settings.aws_secret_access_key
    return boto3.session.Session(**kwargs)


__all__ = [
    "PASSWORD_ENV",
    "ClusterInfo",
    "boto_session",
    "cluster_down",
    "cluster_status",
    "cluster_up",
    "find_resources",
    "generate_password",
    "role_policy",
    "validate_cidr",
]
