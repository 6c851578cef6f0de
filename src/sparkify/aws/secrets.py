"""The admin password, when the user gives none: generated, kept in Secrets Manager, never printed."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

from sparkify.aws.common import TAG, aws_call, error_code
from sparkify.errors import SparkifyError
from sparkify.settings import Settings


def generate_password(length: int = 32) -> str:
    """A password Redshift accepts: 8-64 printable characters with upper, lower and a digit."""
    alphabet = string.ascii_letters + string.digits + "!#$%^&*()-_=+"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.isupper() for c in password) and any(c.islower() for c in password)
                and any(c.isdigit() for c in password)):
            return password


def secret_name(identifier: str) -> str:
    """Where the password of cluster (or workgroup) `identifier` is kept; the backend reads it there."""
    return f"sparkify/redshift/{identifier}"


def ensure_password(sm: Any, settings: Settings, identifier: str, what: str,
                    created: list[str]) -> tuple[str, str | None]:
    """(password, secret name or None): the environment's, else the stored one, else a new one."""
    if settings.db_password and settings.sources.get("db_password") != "env PGPASSWORD":
        return settings.db_password, None  # $PGPASSWORD is some other server's: never an admin password
    name = secret_name(identifier)
    try:
        value = sm.get_secret_value(SecretId=name)["SecretString"]
        return json.loads(value)["password"], name
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise SparkifyError(f"reading secret {name}: {error_code(exc) or exc}") from None
    password = generate_password()
    aws_call(
        f"storing the admin password in Secrets Manager as {name}",
        sm.create_secret,
        Name=name,
        Description=f"Admin user password of {what} (sparkify cluster up)",
        SecretString=json.dumps({"username": settings.db_user, "password": password}),
        Tags=[TAG],
    )
    created.append(f"secret {name}")
    return password, name


def secret_exists(sm: Any, name: str) -> bool:
    try:
        sm.describe_secret(SecretId=name)
        return True
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise SparkifyError(f"reading secret {name}: {exc}") from None
        return False


def delete_secret(sm: Any, name: str, deleted: list[str]) -> None:
    # Forced deletion never says "not found", so ask first to report truthfully.
    if secret_exists(sm, name):
        aws_call(f"deleting secret {name}", sm.delete_secret, SecretId=name, ForceDeleteWithoutRecovery=True)
        deleted.append(f"secret {name}")
