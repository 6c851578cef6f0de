"""`sparkify cluster up|status|down --serverless`: a Redshift Serverless namespace and workgroup.

The same role, password secret and CIDR-only security group as the provisioned cluster
(aws/cluster.py); the namespace holds the database, the admin user and the role, the workgroup
the compute (BASE_CAPACITY RPUs, billed only while it runs queries) and the endpoint. Both are
named after the cluster identifier, so `sparkify` gives namespace and workgroup `sparkify`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from sparkify.aws.cluster import ClusterInfo, prepare, remove_shared, shared_resources, validate, wait_for
from sparkify.aws.common import REDSHIFT_PORT, TAG, aws_call, error_code
from sparkify.aws.secrets import ensure_password, secret_name
from sparkify.errors import SparkifyError
from sparkify.settings import Settings

#: Redshift Processing Units of the workgroup: the smallest most regions offer.
BASE_CAPACITY = 8
_TAGS = [{"key": TAG["Key"], "value": TAG["Value"]}]
_FAILED = ("deleting",)


def _client(session: Any, settings: Settings) -> Any:
    return session.client("redshift-serverless", region_name=settings.region)


def _get(call: Callable[..., Any], key: str, what: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        return call(**kwargs)[key]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise SparkifyError(f"describing {what}: {error_code(exc) or exc}") from None


def _namespace(rs: Any, settings: Settings) -> dict[str, Any] | None:
    return _get(rs.get_namespace, "namespace", f"namespace {settings.cluster_id}", namespaceName=settings.cluster_id)


def _workgroup(rs: Any, settings: Settings) -> dict[str, Any] | None:
    return _get(rs.get_workgroup, "workgroup", f"workgroup {settings.cluster_id}", workgroupName=settings.cluster_id)


def _info(workgroup: dict[str, Any], namespace: dict[str, Any] | None, settings: Settings) -> ClusterInfo:
    endpoint = workgroup.get("endpoint") or {}
    roles = (namespace or {}).get("iamRoles") or []
    return ClusterInfo(
        identifier=workgroup["workgroupName"],
        status=str(workgroup.get("status", "unknown")).lower(),
        endpoint=endpoint.get("address"),
        port=endpoint.get("port") or REDSHIFT_PORT,
        role_arn=(namespace or {}).get("defaultIamRoleArn") or (roles[0] if roles else None),
        nodes=workgroup.get("baseCapacity"),
        db_name=(namespace or {}).get("dbName") or settings.db_name,
        db_user=(namespace or {}).get("adminUsername") or settings.db_user,
        region=settings.region,
        serverless=True,
    )


def serverless_up(
    session: Any,
    settings: Settings,
    *,
    public: bool = False,
    on_wait: Callable[[str, float], None] | None = None,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
) -> ClusterInfo:
    """Create what is missing (role, ingress rule, password secret, namespace, workgroup); wait
    until the workgroup is available. Running it again creates nothing."""
    created: list[str] = []
    removed: list[str] = []
    role_arn, group_id = prepare(session, settings, public, created, removed)
    rs = _client(session, settings)
    name = settings.cluster_id
    namespace = _namespace(rs, settings)
    secret = None if settings.db_password else secret_name(name)
    if namespace is None:
        sm = session.client("secretsmanager", region_name=settings.region)
        password, secret = ensure_password(sm, settings, name, f"Redshift Serverless namespace {name}", created)
        aws_call(f"creating namespace {name}", rs.create_namespace, namespaceName=name, dbName=settings.db_name,
                 adminUsername=settings.db_user, adminUserPassword=password, iamRoles=[role_arn],
                 defaultIamRoleArn=role_arn, tags=_TAGS)
        created.append(f"namespace {name}")
    elif role_arn not in (namespace.get("iamRoles") or []):
        aws_call("attaching the role to the namespace", rs.update_namespace, namespaceName=name,
                 iamRoles=[*(namespace.get("iamRoles") or []), role_arn], defaultIamRoleArn=role_arn)
        created.append(f"role attached to namespace {name}")
    workgroup = _workgroup(rs, settings)
    if workgroup is None:
        aws_call(f"creating workgroup {name}", rs.create_workgroup, workgroupName=name, namespaceName=name,
                 baseCapacity=BASE_CAPACITY, publiclyAccessible=True, securityGroupIds=[group_id],
                 port=REDSHIFT_PORT, tags=_TAGS)
        created.append(f"workgroup {name} ({BASE_CAPACITY} RPU)")
    elif workgroup.get("securityGroupIds") != [group_id]:
        aws_call("limiting the workgroup to the security group", rs.update_workgroup, workgroupName=name,
                 securityGroupIds=[group_id])
        removed += [f"security group {g} from workgroup {name}" for g in workgroup.get("securityGroupIds") or []
                    if g != group_id]

    def describe() -> tuple[str, bool] | None:
        found = _workgroup(rs, settings)
        if found is None:
            return None
        status = str(found.get("status", "unknown"))
        return status.lower(), status == "AVAILABLE" and bool((found.get("endpoint") or {}).get("address"))

    wait_for(describe, f"workgroup {name}", on_wait=on_wait, poll_seconds=poll_seconds,
             timeout_seconds=timeout_seconds, failed=_FAILED)
    info = _info(_workgroup(rs, settings) or {"workgroupName": name}, _namespace(rs, settings), settings)
    info.role_arn, info.secret_name, info.created, info.removed = role_arn, secret, created, removed
    return info


def serverless_status(session: Any, settings: Settings) -> ClusterInfo | None:
    """The workgroup as AWS sees it, or None when there is none."""
    rs = _client(session, settings)
    workgroup = _workgroup(rs, settings)
    return None if workgroup is None else _info(workgroup, _namespace(rs, settings), settings)


def serverless_resources(session: Any, settings: Settings) -> list[str]:
    """What `down --serverless` would delete (empty when there is nothing)."""
    rs = _client(session, settings)
    found = [f"workgroup {settings.cluster_id}"] if _workgroup(rs, settings) else []
    if _namespace(rs, settings):
        found.append(f"namespace {settings.cluster_id} (and its database)")
    return found + shared_resources(session, settings)


def serverless_down(
    session: Any,
    settings: Settings,
    *,
    on_wait: Callable[[str, float], None] | None = None,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
) -> list[str]:
    """Delete the workgroup, then the namespace (no final snapshot), then the security group,
    role and stored password. Returns what was deleted."""
    validate(settings)
    rs = _client(session, settings)
    name = settings.cluster_id
    deleted: list[str] = []
    # the workgroup first: a namespace cannot be deleted while a workgroup uses it
    for kind, find, delete in (("workgroup", _workgroup, rs.delete_workgroup),
                               ("namespace", _namespace, rs.delete_namespace)):
        if find(rs, settings) is None:
            continue
        aws_call(f"deleting {kind} {name}", delete, **{f"{kind}Name": name})
        wait_for(lambda find=find: (it := find(rs, settings)) and (str(it.get("status", "DELETING")).lower(), False),
                 f"{kind} {name}", on_wait=on_wait, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds,
                 gone=True)
        deleted.append(f"{kind} {name}")
    remove_shared(session, settings, deleted, poll_seconds)
    return deleted
