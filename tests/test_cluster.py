"""`sparkify cluster up | status | down` against moto's server on 127.0.0.1 (IAM, Redshift, EC2,
Secrets Manager over real HTTP through boto3), run as a user runs them."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from sparkify.aws.cluster import cluster_down, cluster_status, cluster_up, generate_password, role_policy
from sparkify.errors import SparkifyError
from sparkify.settings import load_settings
from tests.conftest import run_cli, run_sparkify

REGION = "us-west-2"
CIDR = "203.0.113.7/32"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean moto, and the environment that points boto3 (and the CLI) at it."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=30)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "SPARKIFY_POLL_SECONDS": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_REGION", "SPARKIFY_REDSHIFT_PASSWORD", "PGPASSWORD", "SPARKIFY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return env


@functools.cache
def _client(name: str, endpoint: str) -> Any:
    return boto3.session.Session(region_name=REGION).client(name, endpoint_url=endpoint)


def client(name: str) -> Any:
    """A boto3 client of moto (made once per service: creating clients is the slow part)."""
    return _client(name, os.environ["AWS_ENDPOINT_URL"])


def up(*extra: str, env: dict[str, str] | None = None) -> Any:
    return run_cli("cluster", "up", "--cidr", CIDR, "--source-bucket", "udacity-dend", "--yes", *extra, env=env)


def test_up_creates_role_group_secret_and_cluster(aws: dict[str, str]) -> None:
    result = up("--node-type", "ra3.xlplus", "--nodes", "3")
    assert result.exit_code == 0, result.output

    cluster = client("redshift").describe_clusters(ClusterIdentifier="sparkify")["Clusters"][0]
    assert (cluster["NodeType"], cluster["NumberOfNodes"]) == ("ra3.xlplus", 3)
    assert (cluster["DBName"], cluster["MasterUsername"]) == ("sparkify", "awsuser")
    role_arn = client("iam").get_role(RoleName="sparkify-redshift-s3-read")["Role"]["Arn"]
    assert [r["IamRoleArn"] for r in cluster["IamRoles"]] == [role_arn]

    # The printed URL is the exact one to use, with the role and region in it.
    endpoint = cluster["Endpoint"]["Address"]
    assert f"redshift://awsuser@{endpoint}:5439/sparkify?iam_role={role_arn}&region={REGION}" in result.output
    assert role_arn in result.output

    # Read-only access to the source bucket only: no attached managed policy, no s3:*.
    iam = client("iam")
    assert iam.list_attached_role_policies(RoleName="sparkify-redshift-s3-read")["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName="sparkify-redshift-s3-read", PolicyName="sparkify-s3-read")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == role_policy(["udacity-dend"])
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert actions == {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
    resources = {r for s in document["Statement"] for r in s["Resource"]}
    assert resources == {"arn:aws:s3:::udacity-dend", "arn:aws:s3:::udacity-dend/*"}
    trust = iam.get_role(RoleName="sparkify-redshift-s3-read")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": ["redshift.amazonaws.com",
                                                              "redshift-serverless.amazonaws.com"]}

    # Port 5439 is open to the given CIDR, and to nothing else.
    group = client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"][0]
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [group["GroupId"]]
    rules = [(p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]]
    assert rules == [(5439, 5439, [CIDR])]


def test_generated_password_is_in_secrets_manager_and_never_printed(aws: dict[str, str]) -> None:
    result = up()
    assert result.exit_code == 0, result.output
    secret = json.loads(client("secretsmanager").get_secret_value(SecretId="sparkify/redshift/sparkify")["SecretString"])
    assert secret["username"] == "awsuser"
    assert len(secret["password"]) >= 8
    assert secret["password"] not in result.output
    assert "sparkify/redshift/sparkify" in result.output
    status = run_cli("cluster", "status")
    assert secret["password"] not in status.output


def test_password_from_environment_is_used_not_stored_nor_printed(aws: dict[str, str]) -> None:
    password = "Env-Passw0rd-for-test"
    result = up(env={"SPARKIFY_REDSHIFT_PASSWORD": password})
    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert "SPARKIFY_REDSHIFT_PASSWORD" in result.output
    assert client("secretsmanager").list_secrets()["SecretList"] == []


def test_up_twice_creates_one_of_each(aws: dict[str, str]) -> None:
    first = up()
    second = up()
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "nothing created" in second.output
    assert len(client("redshift").describe_clusters()["Clusters"]) == 1
    groups = client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"]
    assert len(groups) == 1 and len(groups[0]["IpPermissions"]) == 1
    assert len(client("secretsmanager").list_secrets()["SecretList"]) == 1
    roles = [r["RoleName"] for r in client("iam").list_roles()["Roles"]]
    assert roles.count("sparkify-redshift-s3-read") == 1


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_whole_internet_is_refused_without_public(aws: dict[str, str], cidr: str) -> None:
    result = run_cli("cluster", "up", "--cidr", cidr, "--source-bucket", "udacity-dend", "--yes")
    assert result.exit_code == 2
    assert "--public" in result.output
    assert client("redshift").describe_clusters()["Clusters"] == []
    assert client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"] == []


def test_whole_internet_with_public(aws: dict[str, str]) -> None:
    result = run_cli("cluster", "up", "--cidr", "0.0.0.0/0", "--public", "--source-bucket", "udacity-dend", "--yes")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, message", [
    ((), "--cidr"),
    (("--cidr", "not-an-ip"), "not an IP address range"),
])
def test_up_needs_a_valid_cidr(aws: dict[str, str], args: tuple[str, ...], message: str) -> None:
    result = run_cli("cluster", "up", "--source-bucket", "udacity-dend", "--yes", *args)
    assert result.exit_code == 2 and message in result.output


def test_up_needs_a_source_bucket(aws: dict[str, str]) -> None:
    result = run_cli("cluster", "up", "--cidr", CIDR, "--yes")
    assert result.exit_code == 2 and "--source-bucket" in result.output


def test_up_asks_first_without_yes(aws: dict[str, str]) -> None:
    result = run_cli("cluster", "up", "--cidr", CIDR, "--source-bucket", "udacity-dend", input="n\n")
    assert result.exit_code == 1
    assert "billed" in result.output
    assert client("redshift").describe_clusters()["Clusters"] == []


def test_down_deletes_everything_up_made(aws: dict[str, str]) -> None:
    assert up().exit_code == 0
    refused = run_cli("cluster", "down", input="n\n")
    assert refused.exit_code == 1
    assert len(client("redshift").describe_clusters()["Clusters"]) == 1

    result = run_cli("cluster", "down", "--yes")
    assert result.exit_code == 0, result.output
    assert client("redshift").describe_clusters()["Clusters"] == []
    assert "sparkify-redshift-s3-read" not in [r["RoleName"] for r in client("iam").list_roles()["Roles"]]
    assert client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["sparkify-redshift"]}])["SecurityGroups"] == []
    assert client("secretsmanager").list_secrets()["SecretList"] == []
    for what in ("cluster sparkify", "ingress rule", "IAM role", "secret"):
        assert what in result.output


def test_down_on_nothing_says_so(aws: dict[str, str]) -> None:
    result = run_cli("cluster", "down", "--yes")
    assert result.exit_code == 0
    assert "Nothing to delete" in result.output


def test_status_without_and_with_a_cluster(aws: dict[str, str]) -> None:
    assert "No cluster sparkify" in run_cli("cluster", "status").output
    assert up().exit_code == 0
    result = run_cli("cluster", "status")
    assert result.exit_code == 0
    assert "available" in result.output and "redshift://awsuser@" in result.output


def test_options_come_from_the_settings_file(aws: dict[str, str], tmp_path: Any) -> None:
    config = tmp_path / "sparkify.toml"
    config.write_text(
        '[cluster]\nidentifier = "team-dwh"\nnode_type = "dc2.large"\nnodes = 1\ndb_name = "dwh"\n'
        'db_user = "dwhuser"\ncidr = "198.51.100.0/24"\n[s3]\nlog_data = "s3://my-logs/log_data"\n'
        'song_data = "s3://my-songs/song_data"\n'
    )
    result = run_cli("cluster", "up", "--config", str(config), "--yes")
    assert result.exit_code == 0, result.output
    cluster = client("redshift").describe_clusters(ClusterIdentifier="team-dwh")["Clusters"][0]
    assert (cluster["NodeType"], cluster["NumberOfNodes"], cluster["DBName"]) == ("dc2.large", 1, "dwh")
    policy = client("iam").get_role_policy(RoleName="sparkify-redshift-s3-read", PolicyName="sparkify-s3-read")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == role_policy(["my-logs", "my-songs"])
    # A command-line option beats the file.
    again = run_cli("cluster", "status", "--config", str(config), "--cluster-id", "other")
    assert "No cluster other" in again.output


def test_library_api_reports_progress_and_is_idempotent(aws: dict[str, str]) -> None:
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"]}, environ={})
    session = boto3.session.Session(region_name=REGION)
    seen: list[str] = []
    info = cluster_up(session, settings, on_wait=lambda status, _elapsed: seen.append(status), poll_seconds=0)
    assert seen and seen[-1] == "available"
    assert info.endpoint and info.role_arn and "cluster sparkify" in info.created
    assert cluster_up(session, settings, poll_seconds=0).created == []
    assert cluster_status(session, settings).status == "available"  # type: ignore[union-attr]
    assert cluster_down(session, settings, poll_seconds=0)
    assert cluster_down(session, settings, poll_seconds=0) == []
    assert cluster_status(session, settings) is None


def test_bad_identifiers_are_refused_before_any_call(aws: dict[str, str]) -> None:
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"],
                                        "cluster_id": "Bad_Name"}, environ={})
    with pytest.raises(SparkifyError, match="cluster identifier"):
        cluster_up(boto3.session.Session(region_name=REGION), settings, poll_seconds=0)
    assert client("redshift").describe_clusters()["Clusters"] == []


def test_generated_passwords_meet_redshift_rules() -> None:
    for _ in range(50):
        password = generate_password()
        assert 8 <= len(password) <= 64
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)
        assert not set(password) & set("'\"\\/@ ")


def test_console_script_up_and_down(aws: dict[str, str]) -> None:
    """The installed `sparkify` command, in a subprocess, as a user runs it."""
    created = run_sparkify("cluster", "up", "--cidr", CIDR, "--source-bucket", "udacity-dend", "--yes", env=aws)
    assert created.returncode == 0, created.stderr
    password = json.loads(
        client("secretsmanager").get_secret_value(SecretId="sparkify/redshift/sparkify")["SecretString"])["password"]
    assert password not in created.stdout + created.stderr
    deleted = run_sparkify("cluster", "down", "--yes", env=aws)
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted cluster sparkify" in deleted.stdout


def test_unreachable_aws_is_one_line(aws: dict[str, str]) -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}
    result = run_cli("cluster", "status", env=env)
    assert result.exit_code == 2
    assert result.output.startswith("Error: AWS:") and "Traceback" not in result.output
