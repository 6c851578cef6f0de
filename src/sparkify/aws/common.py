"""What every AWS helper of `sparkify cluster` shares: the port, the tag, and one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify.errors import SparkifyError

REDSHIFT_PORT = 5439
#: Put on everything `cluster up` creates, so it can be told apart from what the account had.
TAG = {"Key": "created-by", "Value": "sparkify"}


def error_code(exc: ClientError) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def aws_call(what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; its failure becomes a one-line SparkifyError naming what was being done."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        raise SparkifyError(f"{what}: {error_code(exc)}: {message}") from exc
    except BotoCoreError as exc:
        raise SparkifyError(f"{what}: {exc}") from exc
