"""Who may reach the warehouse: one security group whose ingress is exactly port 5439 from one CIDR.

Shared by the provisioned cluster and the Serverless workgroup. A range wider than
`MAX_PREFIX` (IPv4 /16, IPv6 /48) is refused unless the user passes --public; a group found with
other rules (an earlier --cidr, a rule added by hand, 0.0.0.0/0) is put back to exactly the one
rule asked for, and every rule removed is reported.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from botocore.exceptions import ClientError

from sparkify.aws.common import REDSHIFT_PORT, TAG, aws_call, error_code
from sparkify.errors import SparkifyError

#: The widest range --cidr accepts without --public: a /16 is 65,536 IPv4 addresses (a campus or
#: a company's network); a /48 is one site's IPv6 allocation.
MAX_PREFIX = {4: 16, 6: 48}
#: Deleting the group right after the cluster fails while AWS still releases the cluster's network
#: interfaces; these are the waits between tries (seconds, times the poll interval's scale).
DELETE_BACKOFF = (1, 2, 4, 8, 16, 30, 30, 30)


def validate_cidr(cidr: str | None, public: bool) -> str:
    """The ingress CIDR, normalised. Refuses none and, unless `public`, any range wider than MAX_PREFIX."""
    if not cidr:
        raise SparkifyError(
            "give --cidr with the address range allowed to reach port 5439 (e.g. your IP as 203.0.113.7/32)"
        )
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        raise SparkifyError(f"--cidr {cidr!r} is not an IP address range like 203.0.113.7/32") from None
    limit = MAX_PREFIX[network.version]
    if network.prefixlen < limit and not public:
        whole = " (the whole internet)" if network.prefixlen == 0 else ""
        raise SparkifyError(
            f"--cidr {cidr} opens port {REDSHIFT_PORT} to {network.num_addresses:,} addresses{whole}; ranges wider "
            f"than /{limit} need --public"
        )
    return str(network)


def _rules(group: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each ingress rule of a group as (description, the IpPermissions entry that revokes it alone)."""
    rules = []
    for perm in group.get("IpPermissions", []):
        base = {k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm}
        proto = "all traffic" if perm.get("IpProtocol") == "-1" else \
            f"{perm.get('IpProtocol')}/{perm.get('FromPort')}" + (
                f"-{perm.get('ToPort')}" if perm.get("ToPort") != perm.get("FromPort") else "")
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("PrefixListIds", "PrefixListId"),
                           ("UserIdGroupPairs", "GroupId")):
            for entry in perm.get(key, []):
                rules.append((f"{proto} from {entry.get(field)}", {**base, key: [{field: entry.get(field)}]}))
    return rules


def wanted_rule(cidr: str) -> tuple[str, dict[str, Any]]:
    network = ipaddress.ip_network(cidr)
    key, field = ("Ipv6Ranges", "CidrIpv6") if network.version == 6 else ("IpRanges", "CidrIp")
    return (f"tcp/{REDSHIFT_PORT} from {cidr}",
            {"IpProtocol": "tcp", "FromPort": REDSHIFT_PORT, "ToPort": REDSHIFT_PORT, key: [{field: cidr}]})


def default_vpc(ec2: Any) -> str:
    vpcs = aws_call("finding the default VPC", ec2.describe_vpcs,
                    Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise SparkifyError("this region has no default VPC to put the warehouse in")
    return vpcs[0]["VpcId"]


def find_group(ec2: Any, name: str) -> dict[str, Any] | None:
    groups = aws_call("looking up the security group", ec2.describe_security_groups,
                      Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    return groups[0] if groups else None


def ensure_group(ec2: Any, name: str, cidr: str, created: list[str], removed: list[str]) -> str:
    """The group, made if missing, whose ingress is exactly tcp/5439 from `cidr`.

    Rules it had that were not asked for are revoked and named in `removed`; the rule made is
    named in `created`. Returns the group id.
    """
    group = find_group(ec2, name)
    if group is None:
        group_id = aws_call(
            f"creating security group {name}",
            ec2.create_security_group,
            GroupName=name,
            Description=f"Sparkify Redshift: port {REDSHIFT_PORT} from the allowed CIDR only",
            VpcId=default_vpc(ec2),
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [TAG]}],
        )["GroupId"]
        created.append(f"security group {name}")
        group = {"GroupId": group_id, "IpPermissions": []}
    want, permission = wanted_rule(cidr)
    have = _rules(group)
    for description, rule in have:
        if description != want:
            aws_call(f"removing ingress rule {description}", ec2.revoke_security_group_ingress,
                     GroupId=group["GroupId"], IpPermissions=[rule])
            removed.append(f"ingress rule {description} (not asked for)")
    if want not in [d for d, _ in have]:
        aws_call(f"opening port {REDSHIFT_PORT} to {cidr}", ec2.authorize_security_group_ingress,
                 GroupId=group["GroupId"], IpPermissions=[permission])
        created.append(f"ingress rule {want}")
    return group["GroupId"]


def delete_group(ec2: Any, name: str, deleted: list[str], poll_seconds: float = 15.0) -> None:
    """Revoke the group's ingress and delete it, retrying (bounded) while AWS still holds it.

    Right after a cluster or workgroup is deleted its network interfaces take a while to go, and
    DeleteSecurityGroup answers DependencyViolation until they have.
    """
    group = find_group(ec2, name)
    if group is None:
        return
    rules = _rules(group)
    if rules:
        aws_call("removing the ingress rules", ec2.revoke_security_group_ingress,
                 GroupId=group["GroupId"], IpPermissions=[rule for _, rule in rules])
        deleted += [f"ingress rule {description}" for description, _ in rules]
    scale = poll_seconds / 15.0
    for attempt, wait in enumerate((*DELETE_BACKOFF, None)):
        try:
            ec2.delete_security_group(GroupId=group["GroupId"])
            break
        except ClientError as exc:
            if error_code(exc) != "DependencyViolation" or wait is None:
                message = exc.response.get("Error", {}).get("Message") or str(exc)
                tries = f" after {attempt + 1} tries" if wait is None else ""
                raise SparkifyError(f"deleting security group {name}{tries}: {error_code(exc)}: {message}") from exc
            time.sleep(wait * scale)
    deleted.append(f"security group {name}")
