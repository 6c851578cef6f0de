"""`sparkify cluster up|status|down --serverless`: the namespace and workgroup through Redshift
Serverless's control plane (tests/serverless_fake.py: moto has none), the role, security group and
secret through moto's server on 127.0.0.1, as a user runs the commands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sparkify.aws.serverless import BASE_CAPACITY, serverless_down, serverless_status, serverless_up
from sparkify.settings import load_settings
from tests.conftest import run_cli
from tests.serverless_fake import FakeServerless, Session
from tests.test_cluster import CIDR, aws, client, moto_endpoint  # noqa: F401  (fixtures)


@pytest.fixture
def fake(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FakeServerless:
    """The CLI's AWS session, with Serverless answered by the fake."""
    serverless = FakeServerless()
    monkeypatch.setattr("sparkify.cli.redshift._session", lambda settings: Session(serverless))
    return serverless


def up(*extra: str) -> Any:
    return run_cli("cluster", "up", "--serverless", "--cidr", CIDR, "--source-bucket", "udacity-dend", "--yes", *extra)


def test_up_creates_namespace_workgroup_role_group_and_secret(fake: FakeServerless) -> None:
    result = up()
    assert result.exit_code == 0, result.output
    role_arn = client("iam").get_role(RoleName="sparkify-redshift-s3-read")["Role"]["Arn"]
    namespace, workgroup = fake.namespaces["sparkify"], fake.workgroups["sparkify"]
    assert (namespace["dbName"], namespace["adminUsername"]) == ("sparkify", "awsuser")
    assert namespace["iamRoles"] == [role_arn] and namespace["defaultIamRoleArn"] == role_arn
    group = client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"][0]
    assert workgroup["securityGroupIds"] == [group["GroupId"]] and workgroup["baseCapacity"] == BASE_CAPACITY
    assert [(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [(5439, [CIDR])]
    secret = json.loads(client("secretsmanager").get_secret_value(SecretId="sparkify/redshift/sparkify")["SecretString"])
    assert secret["password"] == fake.passwords["sparkify"] and secret["password"] not in result.output
    trust = client("iam").get_role(RoleName="sparkify-redshift-s3-read")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert "redshift-serverless.amazonaws.com" in trust["Statement"][0]["Principal"]["Service"]
    endpoint = workgroup["endpoint"]["address"]
    assert endpoint.endswith(".redshift-serverless.amazonaws.com")
    assert f"redshift://awsuser@{endpoint}:5439/sparkify?iam_role={role_arn}&region=us-west-2" in result.output
    assert "created namespace sparkify" in result.output and "created workgroup sparkify" in result.output


def test_up_twice_creates_nothing_the_second_time(fake: FakeServerless) -> None:
    assert up().exit_code == 0
    calls = len(fake.calls)
    again = up()
    assert again.exit_code == 0, again.output
    assert "nothing created" in again.output
    assert not {"CreateNamespace", "CreateWorkgroup"} & set(fake.calls[calls:])
    assert list(fake.namespaces) == ["sparkify"] and list(fake.workgroups) == ["sparkify"]


def test_status_and_down(fake: FakeServerless) -> None:
    assert "No workgroup sparkify" in run_cli("cluster", "status", "--serverless").output
    assert up().exit_code == 0
    status = run_cli("cluster", "status", "--serverless")
    assert status.exit_code == 0 and "available" in status.output and "redshift-serverless" in status.output
    refused = run_cli("cluster", "down", "--serverless", input="n\n")
    assert refused.exit_code == 1 and fake.workgroups
    down = run_cli("cluster", "down", "--serverless", "--yes")
    assert down.exit_code == 0, down.output
    assert fake.workgroups == {} and fake.namespaces == {}
    for gone in ("workgroup sparkify", "namespace sparkify", "security group sparkify-redshift",
                 "IAM role sparkify-redshift-s3-read", "secret sparkify/redshift/sparkify"):
        assert f"deleted {gone}" in down.output
    assert client("secretsmanager").list_secrets()["SecretList"] == []
    nothing = run_cli("cluster", "down", "--serverless", "--yes")
    assert nothing.exit_code == 0 and "Nothing to delete" in nothing.output


def test_wide_ranges_are_refused_for_serverless_too(fake: FakeServerless) -> None:
    result = run_cli("cluster", "up", "--serverless", "--cidr", "0.0.0.0/1", "--source-bucket", "udacity-dend",
                     "--yes")
    assert result.exit_code == 2 and "--public" in result.output
    assert fake.calls == []


def test_library_api(aws: dict[str, str]) -> None:
    fake = FakeServerless()
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"], "cluster_id": "team"},
                             environ={})
    seen: list[str] = []
    info = serverless_up(Session(fake), settings, poll_seconds=0, on_wait=lambda s, _e: seen.append(s))
    assert seen[-1] == "available" and info.serverless and info.identifier == "team"
    assert info.warehouse_url().startswith("redshift://awsuser@team.")  # type: ignore[union-attr]
    assert serverless_status(Session(fake), settings).status == "available"  # type: ignore[union-attr]
    assert "workgroup team" in serverless_down(Session(fake), settings, poll_seconds=0)
    assert serverless_status(Session(fake), settings) is None
