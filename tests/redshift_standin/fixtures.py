"""pytest fixtures for the Redshift stand-in: moto's S3/IAM server on loopback with the real sample
uploaded, the IAM role COPY uses, and a stand-in on a fresh PostgreSQL database per test.
Test modules import the fixtures they use by name."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from tests.pg import fresh_database
from tests.redshift_standin.standin import Standin, running

REGION = "us-west-2"
DATA = "standin-sample"
STAGING_BUCKET = "standin-staging"
STAGING = f"s3://{STAGING_BUCKET}/sparkify"
ROLE_NAME = "sparkify-redshift-s3-read"
#: moto's account.
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def aws(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def cloud(moto_endpoint: str, sample: Path) -> Iterator[str]:
    """The real sample in s3://standin-sample (as laid out on disk), an empty staging bucket, both
    in the cluster's region, and the role COPY assumes. moto keeps one state per process, so it
    is reset before and after: each module starts from an empty account and leaves one."""
    reset = f"{moto_endpoint}/moto-api/reset"
    requests.post(reset, timeout=30).raise_for_status()
    s3 = aws("s3", moto_endpoint)
    for bucket in (DATA, STAGING_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for path in sorted(sample.rglob("*.json")):
        s3.upload_file(str(path), DATA, path.relative_to(sample).as_posix())
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "redshift.amazonaws.com"}}]}
    aws("iam", moto_endpoint).create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    yield moto_endpoint
    requests.post(reset, timeout=30).raise_for_status()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, tmp_path: Path) -> None:
    """What the tool sees: fake credentials through the standard chain, moto as the endpoint, the
    stand-in's password (trust auth: any) and no TLS on loopback."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "SPARKIFY_REDSHIFT_PASSWORD": "standin",
        "PGSSLMODE": "disable",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PGPASSWORD", "SPARKIFY_STAGING_URI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standin(cloud: str, aws_env: None) -> Iterator[Standin]:
    """A stand-in on a fresh database (tests end with `standin.assert_accepted()`)."""
    with fresh_database("sparkify_standin") as url, running(url, cloud, REGION) as instance:
        yield instance
