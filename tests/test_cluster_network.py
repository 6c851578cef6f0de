"""`cluster up` never opens the warehouse wider than asked: ranges wider than /16 (IPv6 /48) need
--public, and the security group ends up with exactly the one rule asked for, whatever it had;
`down` retries while AWS still holds the group. Against moto's server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sparkify.aws.cluster import cluster_down, cluster_up
from sparkify.aws.network import MAX_PREFIX, validate_cidr
from sparkify.errors import SparkifyError
from sparkify.settings import load_settings
from tests.conftest import run_cli
from tests.test_cluster import CIDR, REGION, aws, client, moto_endpoint, up  # noqa: F401  (fixtures)


def _group() -> dict[str, Any]:
    return client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"][0]


def _rules() -> list[tuple[str, Any, Any, str]]:
    rules = []
    for perm in _group()["IpPermissions"]:
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            rules += [(perm["IpProtocol"], perm.get("FromPort"), perm.get("ToPort"), r[field]) for r in perm.get(key, [])]
    return sorted(rules)


@pytest.mark.parametrize("cidr", ["0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "203.0.0.0/15", "2001:db8::/32", "::/0"])
def test_wide_ranges_are_refused_without_public(aws: dict[str, str], cidr: str) -> None:
    result = run_cli("cluster", "up", "--cidr", cidr, "--source-bucket", "udacity-dend", "--yes")
    assert result.exit_code == 2, result.output
    assert "--public" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert client("redshift").describe_clusters()["Clusters"] == []
    assert client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"] == []


@pytest.mark.parametrize("cidr", ["203.0.0.0/16", "198.51.100.0/24", "203.0.113.7", "2001:db8:1::/48"])
def test_ranges_up_to_the_limit_are_accepted(cidr: str) -> None:
    network = validate_cidr(cidr, public=False)
    assert int(network.rsplit("/", 1)[1]) >= MAX_PREFIX[6 if ":" in cidr else 4]


def test_two_runs_leave_only_the_last_range(aws: dict[str, str]) -> None:
    first = run_cli("cluster", "up", "--cidr", "0.0.0.0/1", "--public", "--source-bucket", "udacity-dend", "--yes")
    assert first.exit_code == 0, first.output
    second = run_cli("cluster", "up", "--cidr", "128.0.0.0/1", "--public", "--source-bucket", "udacity-dend", "--yes")
    assert second.exit_code == 0, second.output
    assert _rules() == [("tcp", 5439, 5439, "128.0.0.0/1")]
    assert "removed ingress rule tcp/5439 from 0.0.0.0/1 (not asked for)" in second.output


def test_an_existing_open_group_is_closed_to_what_was_asked(aws: dict[str, str]) -> None:
    """A group of that name made earlier, open to the world and to other ports, is not reused silently."""
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="sparkify-redshift", Description="made by hand", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439, "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": CIDR}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]},
        {"IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ])
    result = up()
    assert result.exit_code == 0, result.output
    assert _rules() == [("tcp", 5439, 5439, CIDR)]
    for gone in ("tcp/5439 from 0.0.0.0/0", "tcp/22 from 198.51.100.0/24", "tcp/5439 from ::/0"):
        assert f"removed ingress rule {gone} (not asked for)" in result.output
    again = up()
    assert again.exit_code == 0 and "removed" not in again.output and "nothing created" in again.output


class _BusyGroup:
    """EC2 as AWS answers right after a cluster is deleted: DependencyViolation `busy` times."""

    def __init__(self, ec2: Any, busy: int) -> None:
        self.ec2, self.busy, self.tries = ec2, busy, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ec2, name)

    def delete_security_group(self, **kwargs: Any) -> Any:
        self.tries += 1
        if self.tries <= self.busy:
            raise ClientError({"Error": {"Code": "DependencyViolation", "Message": "resource sg-1 has a dependent "
                               "object"}}, "DeleteSecurityGroup")
        return self.ec2.delete_security_group(**kwargs)


class _Session:
    """A boto3 session on moto whose EC2 client is `ec2` (the control plane's answers, nothing else)."""

    def __init__(self, ec2: Any) -> None:
        self.session, self.ec2 = boto3.session.Session(region_name=REGION), ec2

    def client(self, name: str, **kwargs: Any) -> Any:
        return self.ec2 if name == "ec2" else self.session.client(name, **kwargs)


def test_down_retries_while_the_group_is_still_in_use(aws: dict[str, str]) -> None:
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"]}, environ={})
    busy = _BusyGroup(boto3.session.Session(region_name=REGION).client("ec2"), busy=3)
    cluster_up(_Session(busy), settings, poll_seconds=0)
    deleted = cluster_down(_Session(busy), settings, poll_seconds=0)
    assert busy.tries == 4 and "security group sparkify-redshift" in deleted
    assert client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"] == []


def test_down_gives_up_after_a_bounded_number_of_tries(aws: dict[str, str]) -> None:
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"]}, environ={})
    busy = _BusyGroup(boto3.session.Session(region_name=REGION).client("ec2"), busy=1000)
    cluster_up(_Session(busy), settings, poll_seconds=0)
    with pytest.raises(SparkifyError, match="DependencyViolation") as info:
        cluster_down(_Session(busy), settings, poll_seconds=0)
    assert busy.tries == 9 and "after 9 tries" in str(info.value)
