"""Logging in to Redshift without a database password: temporary IAM credentials from
GetClusterCredentials (moto's server on 127.0.0.1) or redshift-serverless get-credentials (the
control-plane stand-in), used for a real connection to the local PostgreSQL; the Secrets Manager
password stays the fallback. Serverless endpoints read the SYS views by default."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest

from sparkify.aws.cluster import cluster_up
from sparkify.errors import SparkifyError
from sparkify.settings import load_settings
from sparkify.warehouse.redshift import RedshiftWarehouse
from sparkify.warehouse.redshift_target import find_login, parse_url
from tests.serverless_fake import FakeServerless, Session
from tests.test_cluster import CIDR, REGION, aws, client, moto_endpoint  # noqa: F401  (fixtures)

SERVERLESS = "redshift://awsuser@sparkify.123456789012.us-west-2.redshift-serverless.amazonaws.com:5439/sparkify"


def _cluster() -> str:
    """A cluster in moto, made by `cluster up`; its redshift:// URL."""
    settings = load_settings(overrides={"cidr": CIDR, "source_buckets": ["udacity-dend"]}, environ={})
    info = cluster_up(boto3.session.Session(region_name=REGION), settings, poll_seconds=0)
    return info.warehouse_url() or ""


def test_serverless_hosts_read_the_sys_views() -> None:
    target = parse_url(SERVERLESS)
    assert target.serverless and target.errors_view == "sys" and target.aws_region == "us-west-2"
    assert target.cluster_id == "sparkify"
    with pytest.raises(SparkifyError, match="Serverless cannot read the STL views"):
        parse_url(SERVERLESS + "?errors=stl")
    provisioned = parse_url("redshift://u@c.abc.eu-west-1.redshift.amazonaws.com:5439/db")
    assert not provisioned.serverless and provisioned.errors_view == "stl" and provisioned.aws_region == "eu-west-1"


def test_cluster_credentials_come_from_iam(aws: dict[str, str]) -> None:
    target = parse_url(_cluster())
    login = find_login(target, environ={})
    assert login.user == "IAM:awsuser" and login.password and "GetClusterCredentials" in login.source


def test_the_environment_password_comes_first(aws: dict[str, str]) -> None:
    login = find_login(parse_url(_cluster()), environ={"SPARKIFY_REDSHIFT_PASSWORD": "from-env"})
    assert (login.user, login.password, login.source) == ("awsuser", "from-env", "$SPARKIFY_REDSHIFT_PASSWORD")


def test_the_stored_secret_is_the_fallback(aws: dict[str, str]) -> None:
    """No such cluster for IAM to vouch for (or no permission): the password `cluster up` stored."""
    target = parse_url("redshift://awsuser@other.abc.us-west-2.redshift.amazonaws.com:5439/sparkify")
    with pytest.raises(SparkifyError) as info:
        find_login(target, environ={})
    message = str(info.value)
    assert "ClusterNotFound" in message and "sparkify/redshift/other" in message and "\n" not in message
    client("secretsmanager").create_secret(Name="sparkify/redshift/other",
                                           SecretString=json.dumps({"password": "Stored-Passw0rd"}))
    login = find_login(target, environ={})
    assert (login.user, login.password) == ("awsuser", "Stored-Passw0rd")


def test_serverless_credentials_come_from_get_credentials(aws: dict[str, str]) -> None:
    fake = FakeServerless()
    fake.workgroups["sparkify"] = {"workgroupName": "sparkify", "status": "AVAILABLE"}
    login = find_login(parse_url(SERVERLESS), environ={}, session=Session(fake))
    assert login.user == "IAM:sparkify-tester" and "get-credentials" in login.source
    assert fake.calls == ["GetCredentials"]


class _ToLocal(RedshiftWarehouse):
    """The real backend, its connection sent to the local PostgreSQL instead of the cluster's host."""

    local: dict[str, Any] = {}
    seen: dict[str, Any] = {}

    def _connect(self, **params: Any) -> Any:
        type(self).seen = dict(params)
        return super()._connect(**{**params, **self.local})


def test_a_load_needs_no_database_password(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The user GetClusterCredentials names (IAM:awsuser) is the one the connection logs in as."""
    from tests.pg import fresh_database

    url = _cluster()
    monkeypatch.setenv("PGSSLMODE", "disable")
    with fresh_database("sparkify_rs_iam") as local:
        parts = urlsplit(local)
        with psycopg.connect(local, autocommit=True) as con:
            if not con.execute("SELECT 1 FROM pg_roles WHERE rolname = 'IAM:awsuser'").fetchone():
                con.execute('CREATE ROLE "IAM:awsuser" LOGIN')
        _ToLocal.local = {"host": parts.hostname, "port": parts.port or 5432, "dbname": parts.path.lstrip("/")}
        warehouse = _ToLocal(url)
        try:
            assert warehouse.query("SELECT session_user").rows == [("IAM:awsuser",)]
        finally:
            warehouse.close()
    assert _ToLocal.seen["user"] == "IAM:awsuser" and _ToLocal.seen["host"].endswith(".redshift.amazonaws.com")
    assert _ToLocal.seen["password"] not in url
