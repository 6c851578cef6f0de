"""Reading input from S3 (or an S3-compatible store) with boto3.

Credentials come only from boto3's standard chain (environment, profile, instance role), or none
at all with `anonymous` for public buckets. Listing is paginated; objects are streamed to files
in a temporary folder, many at once, one staging batch at a time, so neither memory nor disk
holds more than a batch.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sparkify.errors import SparkifyError, require_extra

#: Objects downloaded at once: small song files are latency-bound, not bandwidth-bound.
WORKERS = 16
#: Keys per listing request (S3's maximum is 1000; tests lower it to exercise pagination).
PAGE_SIZE = 1000
CHUNK = 1024 * 1024
ENDPOINT_ENV = "AWS_ENDPOINT_URL"


@dataclass(frozen=True)
class S3Options:
    """How to reach S3: `--anonymous`, `--region`, `--endpoint-url` (else $AWS_ENDPOINT_URL)."""

    anonymous: bool = False
    region: str | None = None
    endpoint_url: str | None = None

    @property
    def endpoint(self) -> str | None:
        return self.endpoint_url or os.environ.get(ENDPOINT_ENV) or None


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3(spec: str) -> bool:
    return spec.lower().startswith("s3://")


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SparkifyError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    return bucket, key


def client(options: S3Options) -> Any:
    """A thread-safe S3 client; unsigned requests when anonymous."""
    require_extra("aws", "reading s3:// inputs")
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        signature_version=UNSIGNED if options.anonymous else None,
        max_pool_connections=WORKERS,
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    try:
        session = boto3.session.Session(region_name=options.region)
        return session.client("s3", endpoint_url=options.endpoint, config=config)
    except (*_boto_errors(), ValueError) as exc:  # a malformed endpoint URL, an unknown profile …
        raise SparkifyError(f"S3: {_describe(exc, options)}") from None


def covers(spec: str, uri: str) -> bool:
    """True when listing `spec` (list_objects) would return the object `uri`, were it there."""
    bucket, key = split_uri(spec)
    other, name = split_uri(uri)
    if other != bucket:
        return False
    if glob.has_magic(key):
        return bool(_glob_regex(key).match(name))
    folder = key if not key or key.endswith("/") else key + "/"
    return name == key or (name.startswith(folder) and name.endswith(".json"))


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` spans folders; `*`, `?` and `[…]` stay within one path segment (like glob.glob)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                out.append(fnmatch.translate(pattern[i:end + 1])[4:-3])
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def list_objects(spec: str, options: S3Options, what: str = "input", s3: Any = None) -> list[S3Object]:
    """The JSON objects `spec` names: a prefix (a "folder", searched recursively), a glob, or one key."""
    bucket, key = split_uri(spec)
    s3 = s3 or client(options)
    if glob.has_magic(key):
        prefix = re.split(r"[*?\[]", key, maxsplit=1)[0]
        pattern = _glob_regex(key)
        objects = [o for o in _list(s3, bucket, prefix, spec, options) if pattern.match(o.key)]
        if not objects:
            raise SparkifyError(f"{what}: no objects match {spec!r}", setting=what)
        return objects
    folder = key if not key or key.endswith("/") else key + "/"
    objects = []
    for o in _list(s3, bucket, key, spec, options):
        if o.key == key:
            return [o]  # one object, named exactly
        if o.key.startswith(folder) and o.key.endswith(".json"):
            objects.append(o)
    if not objects:
        raise SparkifyError(f"{what}: no .json objects under {spec!r}", setting=what)
    return objects


def _list(s3: Any, bucket: str, prefix: str, spec: str, options: S3Options) -> Iterator[S3Object]:
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            for item in page.get("Contents", []):
                if not item["Key"].endswith("/"):
                    yield S3Object(bucket, item["Key"], int(item["Size"]), item["ETag"].strip('"'))
    except _boto_errors() as exc:
        raise SparkifyError(f"cannot list {spec}: {_describe(exc, options, bucket)}") from None


def download(objects: Sequence[S3Object], folder: str, options: S3Options, s3: Any = None) -> list[str]:
    """Fetch `objects` into `folder`, WORKERS at a time; the local path of each, in order.

    Each object is fetched only if its ETag is still the listed one, so the manifest's version
    always describes the bytes that were loaded.
    """
    s3 = s3 or client(options)
    paths = [os.path.join(folder, f"{i:06d}.json") for i in range(len(objects))]

    def fetch(pair: tuple[S3Object, str]) -> None:
        obj, path = pair
        try:
            body = s3.get_object(Bucket=obj.bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]
            with open(path, "wb") as out:
                out.writelines(body.iter_chunks(CHUNK))
        except (*_boto_errors(), OSError) as exc:
            raise SparkifyError(f"cannot download {obj.uri}: {_describe(exc, options, obj.bucket)}") from None

    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sparkify-s3")
    try:
        list(pool.map(fetch, zip(objects, paths)))  # re-raises the first failure
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure (or Ctrl-C), fetch no more
    return paths


def object_lines(s3: Any, uri: str, numbers: Collection[int]) -> dict[int, bytes]:
    """These lines of an S3 object (numbered from 1, split at LF only, as line numbers count
    everywhere), streamed only as far as the last one wanted."""
    bucket, key = split_uri(uri)
    wanted, last, found, number, pending = set(numbers), max(numbers, default=0), {}, 1, b""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            for chunk in body.iter_chunks(CHUNK):
                *complete, pending = (pending + chunk).split(b"\n")
                for line in complete:
                    if number in wanted:
                        found[number] = line
                    number += 1
                    if number > last:
                        return found
        finally:
            body.close()
    except _boto_errors() as exc:
        raise SparkifyError(f"cannot read {uri}: {exc}") from None
    if number in wanted:
        found[number] = pending
    return found


def _boto_errors() -> tuple[type[Exception], ...]:
    """What boto3 raises (imported late: the CLI should not pay for botocore unless S3 is used)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _describe(exc: Exception, options: S3Options, bucket: str = "") -> str:
    """One line a user can act on, for anything boto3 raises."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        NoCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
    )

    where = options.endpoint or "AWS S3"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (code == "404" and bucket):
            return f"bucket {bucket!r} does not exist"
        if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            hint = "" if options.anonymous else " (check your AWS credentials, or use --anonymous for a public bucket)"
            return f"access denied ({code}){hint}"
        if code in ("PreconditionFailed", "412"):
            return "the object changed while it was being loaded; run the load again"
        if code == "NoSuchKey":
            return "the object was deleted while it was being loaded; run the load again"
        return f"{code or status}: {error.get('Message') or exc}"
    if isinstance(exc, NoCredentialsError):
        return ("no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, "
                "or use --anonymous for a public bucket)")
    if isinstance(exc, ProfileNotFound):
        return str(exc)
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {where}: {exc}"
    if isinstance(exc, (ConnectionClosedError, ReadTimeoutError)):
        return f"connection to {where} lost: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"
