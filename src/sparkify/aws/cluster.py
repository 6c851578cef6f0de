"""A Redshift cluster as code: `up`, `status` and `down`, each safe to run twice.

`up` makes (or finds) an IAM role Redshift can assume with read-only access to the source
bucket(s), a master password kept in Secrets Manager (or taken from the environment), a security
group that opens port 5439 to one CIDR only, and the cluster; then waits until it is available.
`down` removes what `up` made. boto3 honours $AWS_ENDPOINT_URL, which is how tests use moto.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.errors import SparkifyError, require_extra
from sparkify.settings import PASSWORD_ENV, Settings

REDSHIFT_PORT = 5439
TAG = {"Key": "created-by", "Value": "sparkify"}
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass
class ClusterInfo:
    """What `status` and `up` report. Never holds the password."""

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
    created: list[str] = field(default_factory=list)

    def warehouse_url(self, staging_uri: str | None = None) -> str | None:
        """The exact `--warehouse` URL for this cluster (the password comes from the environment)."""
        if not self.endpoint:
            return None
        url = f"redshift://{self.db_user}@{self.endpoint}:{self.port}/{self.db_name}"
        query = [f"iam_role={self.role_arn}"] if self.role_arn else []
        if self.region:
            query.append(f"region={self.region}")
        if staging_uri:
            query.append(f"staging={staging_uri}")
        return url + ("?" + "&".join(query) if query else "")


def _error_code(exc: ClientError) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _aws_call(what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; its failure becomes a one-line SparkifyError naming what was being done."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        raise SparkifyError(f"{what}: {_error_code(exc)}: {message}") from exc
    except BotoCoreError as exc:
        raise SparkifyError(f"{what}: {exc}") from exc


# -- validation ---------------------------------------------------------------------------------


def validate_cidr(cidr: str | None, public: bool) -> str:
    """The ingress CIDR, normalised. Refuses none and, unless `public`, the whole internet."""
    if not cidr:
        raise SparkifyError(
            "give --cidr with the address range allowed to reach port 5439 (e.g. your IP as 203.0.113.7/32)"
        )
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        raise SparkifyError(f"--cidr {cidr!r} is not an IP address range like 203.0.113.7/32") from None
    if network.prefixlen == 0 and not public:
        raise SparkifyError(
            f"--cidr {cidr} would open the cluster to the whole internet; pass --public if you really mean it"
        )
    return str(network)


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


# -- pieces ---------------------------------------------------------------------------------------


def role_policy(buckets: list[str]) -> dict[str, Any]:
    """Read-only S3 access to these buckets only (never AmazonS3FullAccess)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListSourceBuckets",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{b}" for b in buckets],
            },
            {
                "Sid": "ReadSourceObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets],
            },
        ],
    }


TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
POLICY_NAME = "sparkify-s3-read"


def generate_password(length: int = 32) -> str:
    """A password Redshift accepts: 8-64 printable characters with upper, lower and a digit."""
    alphabet = string.ascii_letters + string.digits + "!#$%^&*()-_=+"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.isupper() for c in password) and any(c.islower() for c in password)
                and any(c.isdigit() for c in password)):
            return password


def secret_name(settings: Settings) -> str:
    return f"sparkify/redshift/{settings.cluster_id}"


def _ensure_role(iam: Any, settings: Settings, buckets: list[str], created: list[str]) -> str:
    try:
        role = iam.get_role(RoleName=settings.iam_role_name)["Role"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise SparkifyError(f"reading IAM role {settings.iam_role_name}: {exc}") from exc
        role = _aws_call(
            f"creating IAM role {settings.iam_role_name}",
            iam.create_role,
            RoleName=settings.iam_role_name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="Lets Redshift COPY the Sparkify source data (read-only)",
            Tags=[TAG],
        )["Role"]
        created.append(f"IAM role {settings.iam_role_name}")
    _aws_call(
        "granting the role read access",
        iam.put_role_policy,
        RoleName=settings.iam_role_name,
        PolicyName=POLICY_NAME,
        PolicyDocument=json.dumps(role_policy(buckets)),
    )
    return role["Arn"]


def _password(sm: Any, settings: Settings, created: list[str]) -> tuple[str, str | None]:
    """(password, secret name or None): the environment's, else the stored one, else a new one."""
    if settings.db_password and settings.sources.get("db_password") != "env PGPASSWORD":
        return settings.db_password, None  # $PGPASSWORD is some other server's: never a master password
    name = secret_name(settings)
    try:
        value = sm.get_secret_value(SecretId=name)["SecretString"]
        return json.loads(value)["password"], name
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise SparkifyError(f"reading secret {name}: {_error_code(exc) or exc}") from None
    password = generate_password()
    _aws_call(
        f"storing the master password in Secrets Manager as {name}",
        sm.create_secret,
        Name=name,
        Description=f"Master user password of Redshift cluster {settings.cluster_id} (sparkify cluster up)",
        SecretString=json.dumps({"username": settings.db_user, "password": password}),
        Tags=[TAG],
    )
    created.append(f"secret {name}")
    return password, name


def _default_vpc(ec2: Any) -> str:
    vpcs = _aws_call("finding the default VPC", ec2.describe_vpcs,
                     Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise SparkifyError("this region has no default VPC to put the cluster in")
    return vpcs[0]["VpcId"]


def _find_group(ec2: Any, settings: Settings) -> dict[str, Any] | None:
    groups = _aws_call("looking up the security group", ec2.describe_security_groups,
                       Filters=[{"Name": "group-name", "Values": [settings.security_group]}])["SecurityGroups"]
    return groups[0] if groups else None


def _ingress(cidr: str) -> list[dict[str, Any]]:
    network = ipaddress.ip_network(cidr)
    ranges = {"Ipv6Ranges": [{"CidrIpv6": cidr}]} if network.version == 6 else {"IpRanges": [{"CidrIp": cidr}]}
    return [{"IpProtocol": "tcp", "FromPort": REDSHIFT_PORT, "ToPort": REDSHIFT_PORT, **ranges}]


def _has_rule(group: dict[str, Any], cidr: str) -> bool:
    for perm in group.get("IpPermissions", []):
        if perm.get("FromPort") == REDSHIFT_PORT and perm.get("ToPort") == REDSHIFT_PORT:
            cidrs = [r.get("CidrIp") for r in perm.get("IpRanges", [])]
            cidrs += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", [])]
            if cidr in cidrs:
                return True
    return False


def _ensure_group(ec2: Any, settings: Settings, cidr: str, created: list[str]) -> str:
    group = _find_group(ec2, settings)
    if group is None:
        group_id = _aws_call(
            f"creating security group {settings.security_group}",
            ec2.create_security_group,
            GroupName=settings.security_group,
            Description="Sparkify Redshift: port 5439 from the allowed CIDR only",
            VpcId=_default_vpc(ec2),
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [TAG]}],
        )["GroupId"]
        created.append(f"security group {settings.security_group}")
        group = {"GroupId": group_id, "IpPermissions": []}
    if not _has_rule(group, cidr):
        _aws_call(
            f"opening port {REDSHIFT_PORT} to {cidr}",
            ec2.authorize_security_group_ingress,
            GroupId=group["GroupId"],
            IpPermissions=_ingress(cidr),
        )
        created.append(f"ingress rule tcp/{REDSHIFT_PORT} from {cidr}")
    return group["GroupId"]


def _describe(redshift: Any, settings: Settings) -> dict[str, Any] | None:
    try:
        return redshift.describe_clusters(ClusterIdentifier=settings.cluster_id)["Clusters"][0]
    except ClientError as exc:
        if _error_code(exc) == "ClusterNotFound":
            return None
        raise SparkifyError(f"describing cluster {settings.cluster_id}: {_error_code(exc) or exc}") from None


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


# -- the three commands ---------------------------------------------------------------------------


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
    cidr = validate_cidr(settings.cidr, public)
    validate(settings)
    buckets = source_buckets(settings)
    if not buckets:
        raise SparkifyError("give --source-bucket BUCKET (the bucket(s) holding song_data and log_data)")
    iam = session.client("iam")
    ec2 = session.client("ec2", region_name=settings.region)
    redshift = session.client("redshift", region_name=settings.region)
    sm = session.client("secretsmanager", region_name=settings.region)
    created: list[str] = []

    role_arn = _ensure_role(iam, settings, buckets, created)
    group_id = _ensure_group(ec2, settings, cidr, created)
    cluster = _describe(redshift, settings)
    secret = None
    if cluster is None:
        password, secret = _password(sm, settings, created)
        shape: dict[str, Any] = {"ClusterType": "single-node"} if settings.nodes == 1 else {
            "ClusterType": "multi-node", "NumberOfNodes": settings.nodes}
        _aws_call(
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
        secret = None if settings.db_password else secret_name(settings)
        attached = [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]
        if role_arn not in attached:
            _aws_call("attaching the role to the cluster", redshift.modify_cluster_iam_roles,
                      ClusterIdentifier=settings.cluster_id, AddIamRoles=[role_arn])
            created.append(f"role attached to cluster {settings.cluster_id}")

    started = time.monotonic()
    while True:
        cluster = _describe(redshift, settings)
        if cluster is None:
            raise SparkifyError(f"cluster {settings.cluster_id} disappeared while starting")
        status = cluster.get("ClusterStatus", "unknown")
        elapsed = time.monotonic() - started
        if on_wait:
            on_wait(status, elapsed)
        if status == "available" and (cluster.get("Endpoint") or {}).get("Address"):
            break
        if status in ("deleting", "final-snapshot", "incompatible-hsm", "incompatible-network",
                      "hardware-failure", "storage-full"):
            raise SparkifyError(f"cluster {settings.cluster_id} is {status!r}, not starting")
        if elapsed > timeout_seconds:
            raise SparkifyError(f"cluster {settings.cluster_id} still {status!r} after {elapsed:.0f} s; "
                                "run `sparkify cluster status` later")
        time.sleep(poll_seconds)
    info = _info(cluster, settings)
    info.role_arn = role_arn
    info.secret_name = secret
    info.created = created
    return info


def cluster_status(session: Any, settings: Settings) -> ClusterInfo | None:
    """The cluster as AWS sees it, or None when there is none."""
    redshift = session.client("redshift", region_name=settings.region)
    cluster = _describe(redshift, settings)
    return None if cluster is None else _info(cluster, settings)


def find_resources(session: Any, settings: Settings) -> list[str]:
    """What `down` would delete (empty when there is nothing)."""
    found = []
    if cluster_status(session, settings) is not None:
        found.append(f"cluster {settings.cluster_id}")
    iam = session.client("iam")
    try:
        iam.get_role(RoleName=settings.iam_role_name)
        found.append(f"IAM role {settings.iam_role_name}")
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise SparkifyError(f"reading IAM role {settings.iam_role_name}: {exc}") from None
    ec2 = session.client("ec2", region_name=settings.region)
    if _find_group(ec2, settings) is not None:
        found.append(f"security group {settings.security_group} and its ingress rules")
    if not settings.db_password:
        sm = session.client("secretsmanager", region_name=settings.region)
        try:
            sm.describe_secret(SecretId=secret_name(settings))
            found.append(f"secret {secret_name(settings)}")
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise SparkifyError(f"reading secret {secret_name(settings)}: {exc}") from None
    return found


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
        _aws_call(f"deleting cluster {settings.cluster_id}", redshift.delete_cluster,
                  ClusterIdentifier=settings.cluster_id, SkipFinalClusterSnapshot=True)
        started = time.monotonic()
        while (cluster := _describe(redshift, settings)) is not None:
            elapsed = time.monotonic() - started
            if on_wait:
                on_wait(cluster.get("ClusterStatus", "deleting"), elapsed)
            if elapsed > timeout_seconds:
                raise SparkifyError(f"cluster {settings.cluster_id} still there after {elapsed:.0f} s")
            time.sleep(poll_seconds)
        deleted.append(f"cluster {settings.cluster_id}")

    ec2 = session.client("ec2", region_name=settings.region)
    group = _find_group(ec2, settings)
    if group is not None:
        rules = [p for p in group.get("IpPermissions", []) if p.get("FromPort") == REDSHIFT_PORT]
        if rules:
            _aws_call("removing the ingress rule", ec2.revoke_security_group_ingress,
                      GroupId=group["GroupId"], IpPermissions=rules)
            deleted.append(f"ingress rule tcp/{REDSHIFT_PORT}")
        _aws_call(f"deleting security group {settings.security_group}", ec2.delete_security_group,
                  GroupId=group["GroupId"])
        deleted.append(f"security group {settings.security_group}")

    iam = session.client("iam")
    try:
        iam.get_role(RoleName=settings.iam_role_name)
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise SparkifyError(f"reading IAM role {settings.iam_role_name}: {exc}") from None
    else:
        for name in _aws_call("listing the role's policies", iam.list_role_policies,
                              RoleName=settings.iam_role_name)["PolicyNames"]:
            _aws_call("removing the role's policy", iam.delete_role_policy,
                      RoleName=settings.iam_role_name, PolicyName=name)
        for attached in _aws_call("listing the role's attached policies", iam.list_attached_role_policies,
                                  RoleName=settings.iam_role_name)["AttachedPolicies"]:
            _aws_call("detaching a policy", iam.detach_role_policy,
                      RoleName=settings.iam_role_name, PolicyArn=attached["PolicyArn"])
        _aws_call(f"deleting IAM role {settings.iam_role_name}", iam.delete_role, RoleName=settings.iam_role_name)
        deleted.append(f"IAM role {settings.iam_role_name}")

    if not settings.db_password:
        sm = session.client("secretsmanager", region_name=settings.region)
        name = secret_name(settings)
        try:
            # Forced deletion never says "not found", so ask first to report truthfully.
            sm.describe_secret(SecretId=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise SparkifyError(f"reading secret {name}: {exc}") from None
        else:
            _aws_call(f"deleting secret {name}", sm.delete_secret, SecretId=name, ForceDeleteWithoutRecovery=True)
            deleted.append(f"secret {name}")
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
