"""Where settings come from (command line, then environment, then defaults), and the one rule that
keeps secrets out of everything the tool prints or stores: `mask_secrets`."""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

from sparkify.errors import SparkifyError

WAREHOUSE_ENV = "SPARKIFY_WAREHOUSE"
DEFAULT_WAREHOUSE = "sparkify.duckdb"
MASK = "***"

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
#: A libpq keyword DSN (`host=… dbname=… password=…`): starts with `keyword=`.
_KEYWORD_DSN = re.compile(r"^\s*[A-Za-z_]+\s*=")
#: A URL in running text: its scheme, then everything to the next blank (quotes included: a password
#: may hold one). Its userinfo runs to the LAST `@`, so a password holding an unencoded `#`, `?`, `/`
#: or `@` is masked whole, however a parser would have split it.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
#: `password=…` as a URL query parameter, a keyword DSN or an environment assignment (PGPASSWORD=,
#: sslpassword=, db_password=, pwd=): the value is a quoted string or runs to a blank, `&` or `;`.
_PASSWORD_PARAM = re.compile(
    r"(?i)(\w*pass(?:word|wd)|\bpwd)(\s*=\s*)('(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&;]+)"
)

#: Secrets this process has been handed (warehouse passwords, settings' secrets): masked wherever
#: they appear, even where no pattern shows them (a server quoting a value in an error message).
_known: set[str] = set()


def resolve_warehouse(option: str | None) -> str:
    """The warehouse URL or path to use: the option, else $SPARKIFY_WAREHOUSE, else the default."""
    return option or os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE


def is_keyword_dsn(url: str) -> bool:
    """True for a libpq keyword DSN such as `host=db dbname=sparkify user=etl password=…`."""
    return not _SCHEME.match(url) and bool(_KEYWORD_DSN.match(url))


def warehouse_scheme(url: str) -> str:
    """`duckdb`, `postgresql` or `redshift`; a plain path (or `duckdb://path`) is DuckDB.

    A keyword DSN is PostgreSQL (never a DuckDB file named after it); a path that merely holds
    `password=` is refused rather than created.
    """
    match = _SCHEME.match(url)
    if not match:
        if is_keyword_dsn(url):
            return "postgresql"
        if _PASSWORD_PARAM.search(url):
            raise SparkifyError(
                f"warehouse {mask_secrets(url)!r} holds a password but is neither a URL nor a keyword DSN "
                "(host=… dbname=…); not taken for a DuckDB file name"
            )
        return "duckdb"
    scheme = match.group(1).lower()
    if scheme in ("postgres", "postgresql") or scheme.startswith(("postgres+", "postgresql+")):
        return "postgresql"
    return scheme


def _userinfo_password(url: str) -> tuple[int, int] | None:
    """(start, end) of the password in a URL's userinfo (between the first `:` and the last `@`)."""
    match = _SCHEME.match(url)
    if not match:
        return None
    start = match.end()
    at = url.rfind("@")
    if at < start:
        return None
    colon = url.find(":", start, at)
    return (colon + 1, at) if colon >= 0 else None


def secrets_of(url: str) -> list[str]:
    """The passwords a warehouse URL or keyword DSN holds, as written and percent-decoded/encoded."""
    found: list[str] = []
    span = _userinfo_password(url)
    if span and span[1] > span[0]:
        found.append(url[span[0]:span[1]])
    for match in _PASSWORD_PARAM.finditer(url):
        value = match.group(3)
        found.append(value)
        if len(value) >= 2 and value[0] in "'\"":
            found.append(value[1:-1] if value[-1] == value[0] else value[1:])
    variants = set()
    for secret in found:
        variants.update({secret, unquote(secret), quote(secret, safe="")})
    return sorted((s for s in variants if s), key=len, reverse=True)


def remember_secrets(*values: str | None) -> None:
    """Mask these values (passwords, keys) in everything printed from now on."""
    _known.update(v for v in values if v)


def remember_url_secrets(url: str | None) -> None:
    """Mask the passwords this warehouse URL or keyword DSN holds in everything printed from now on."""
    if url:
        _known.update(secrets_of(url))


def _mask_url(url: str) -> str:
    span = _userinfo_password(url)
    if not span:
        return url
    return url[: span[0]] + MASK + url[span[1]:]


def mask_secrets(text: str, *secrets: str | None) -> str:
    """`text` safe to print or store: every URL password, every `password=…` parameter, the given
    `secrets` and every secret this process was handed (`remember_secrets`) become `***`.

    The one masking rule of the tool: errors, status lines, `sparkify config`, the loads table's
    messages all go through it.
    """
    if not text:
        return text
    for secret in sorted({*_known, *(s for s in secrets if s)}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_IN_TEXT.sub(lambda m: _mask_url(m.group(0)), text)
    return _PASSWORD_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


#: The old name, kept for branches still in flight: the same function.
mask_url = mask_secrets


def holds_password(url: str | None) -> bool:
    """True when a warehouse URL or keyword DSN carries a password in it."""
    return bool(url) and bool(secrets_of(url))  # type: ignore[arg-type]
