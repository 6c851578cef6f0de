"""The IAM role Redshift assumes to COPY: read-only S3 access to the source buckets, nothing else."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from sparkify.aws.common import TAG, aws_call, error_code
from sparkify.errors import SparkifyError

POLICY_NAME = "sparkify-s3-read"
#: Provisioned clusters and Serverless namespaces assume the role as these services.
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]},
         "Action": "sts:AssumeRole"}
    ],
}


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


def role_exists(iam: Any, name: str) -> bool:
    try:
        iam.get_role(RoleName=name)
        return True
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise SparkifyError(f"reading IAM role {name}: {exc}") from None
        return False


def ensure_role(iam: Any, name: str, buckets: list[str], created: list[str]) -> str:
    """The role (made if missing) with exactly the read-only policy for `buckets`; returns its ARN."""
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise SparkifyError(f"reading IAM role {name}: {exc}") from exc
        role = aws_call(
            f"creating IAM role {name}",
            iam.create_role,
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="Lets Redshift COPY the Sparkify source data (read-only)",
            Tags=[TAG],
        )["Role"]
        created.append(f"IAM role {name}")
    aws_call("granting the role read access", iam.put_role_policy, RoleName=name, PolicyName=POLICY_NAME,
             PolicyDocument=json.dumps(role_policy(buckets)))
    return role["Arn"]


def delete_role(iam: Any, name: str, deleted: list[str]) -> None:
    """Remove the role's policies, then the role (nothing when there is no such role)."""
    if not role_exists(iam, name):
        return
    for policy in aws_call("listing the role's policies", iam.list_role_policies, RoleName=name)["PolicyNames"]:
        aws_call("removing the role's policy", iam.delete_role_policy, RoleName=name, PolicyName=policy)
    for attached in aws_call("listing the role's attached policies", iam.list_attached_role_policies,
                             RoleName=name)["AttachedPolicies"]:
        aws_call("detaching a policy", iam.detach_role_policy, RoleName=name, PolicyArn=attached["PolicyArn"])
    aws_call(f"deleting IAM role {name}", iam.delete_role, RoleName=name)
    deleted.append(f"IAM role {name}")
