"""Secrets out of messages: `redact(text)` masks credentials in every URL/DSN form a command line or a driver error
can carry, and `shorten(value)` bounds how much of a (possibly huge) bad value a message quotes.

What is masked (the value becomes `***`; everything else stays readable):
- the password in a URL's userinfo, any scheme: `postgresql+psycopg://app:pw@db`, `redis://:pw@h`, `rediss://`,
  `amqp://`, `kafka://`, `https://`... A password may contain `@`, `:` or `/` unencoded: everything from the first
  `:` of the userinfo to the last `@` before the host is masked. A user name alone (`postgresql://app@db`) is kept.
- `name=value` pairs whose name is in SECRET_NAMES (case-insensitive, also with a prefix such as `sasl.password`,
  `ssl.key.password`, `aws_secret_access_key`, `X-Amz-Security-Token`): libpq key/value DSNs (`password='a b'`,
  quoted with libpq's backslash escapes), URL query parameters (`?password=..&sslpassword=..`), connection strings
  (`AccountKey=..;`) and mappings as Python or JSON print them (`{'sasl.password': '..'}`, `"token": ".."`).
- `Authorization: Bearer|Basic <credentials>`.

Outside a URL an unquoted value runs to the next whitespace (a libpq password may contain `&` or `;`); inside a URL's
query it runs to the next `&`, `#` or whitespace. Masking errs on the side of hiding more.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"
KNOWN_MIN_LENGTH = 4

# Names whose value is a secret, as drivers and clouds spell them: libpq (password, sslpassword), librdkafka
# (sasl.password, ssl.key.password, sasl.oauthbearer.client.secret), AWS (aws_secret_access_key, session tokens,
# SigV4 query signing), Azure (AccountKey, SharedAccessKey, SAS `sig`), OAuth (client_secret, access/refresh tokens)
# and generic API keys.
SECRET_NAMES = (
    "password", "passwd", "pwd", "pass", "passphrase", "sslpassword", "secret", "client_secret", "secret_key",
    "secret_access_key", "token", "access_token", "refresh_token", "id_token", "auth_token", "session_token",
    "security_token", "api_key", "apikey", "api-key", "access_key", "accountkey", "account_key",
    "sharedaccesskey", "shared_access_key", "private_key", "signature", "sig", "credential", "credentials", "auth",
)

_NAME = (r"(?<![\w.-])(?:[\w.-]*[._-])?(?:" + "|".join(re.escape(n) for n in sorted(SECRET_NAMES, key=len,
                                                                                   reverse=True)) + r")(?![\w.-])")
# A quoted value: single quotes with backslash escapes (libpq, Python repr) or double quotes (JSON, Python repr),
# closed and followed by a separator; anything else is an unquoted value.
_QUOTED = r"(?:'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")(?=[\s,;}\])]|$)"
_QUERY_PARAM = re.compile(rf"(?i)(?<=[?&])({_NAME}=)([^&#\s]*)")
_KEY_VALUE = re.compile(rf"(?i)(?<![?&])({_NAME}\s*=\s*)({_QUOTED}|\S*)")
_MAPPING = re.compile(rf"(?i)(['\"]{_NAME}['\"]\s*:\s*)({_QUOTED}|[^\s,}}]*)")
_AUTHORIZATION = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_MASKED = re.compile(r"\*\*\*['\":,;)\]}]*")
_SCHEME = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://")


def redact(text: str, *, known: Iterable[str] = ()) -> str:
    """`text` with every credential it contains replaced by `***` (see the module docstring for the forms).

    `known`: secrets to mask wherever they appear, e.g. `secrets_in(url)` of the URL a driver was given, whose error
    may quote a fragment of it out of its URL form (libpq: `invalid percent-encoded token: "pw%zz"`). Values shorter
    than KNOWN_MIN_LENGTH are not masked literally (every "a" of a message would go).
    """
    if not isinstance(text, str):
        text = str(text)
    for secret in sorted({k for k in known if len(k) >= KNOWN_MIN_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _scan(text, None)


def secrets_in(text: str) -> list[str]:
    """The values `redact` masks in `text`, as written and (URL forms) percent-decoded: pass them as `known`."""
    found: list[str] = []
    _scan(text, found)
    return [v for v in dict.fromkeys(found + [unquote(v) for v in found]) if v]


def _scan(text: str, found: list[str] | None) -> str:
    def mask(match: re.Match[str]) -> str:
        value = match.group(2)
        if _MASKED.fullmatch(value):  # masked before (a known secret): keep what follows it
            return match.group(1) + value
        if found is not None:
            found.append(value[1:-1] if _masked_like(value) != MASK else value)
        return match.group(1) + _masked_like(value)

    # URLs first: a password in a URL's userinfo may itself contain `?password=`.
    text = _redact_urls(text, found)
    text = _QUERY_PARAM.sub(mask, text)
    text = _MAPPING.sub(mask, text)
    text = _KEY_VALUE.sub(mask, text)
    return _AUTHORIZATION.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def _masked_like(value: str) -> str:
    """`***`, keeping the quotes of a quoted value so the message still reads like what was given."""
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        return value[0] + MASK + value[0]
    return MASK


def _redact_urls(text: str, found: list[str] | None) -> str:
    out: list[str] = []
    position = 0
    for match in _SCHEME.finditer(text):
        start = match.start()
        if start < position:  # a "scheme://" inside the URL before (e.g. in its password): already handled
            continue
        out.append(text[position:start])
        end = start
        while end < len(text) and not text[end].isspace():  # a URL runs to the next whitespace
            end += 1
        out.append(_redact_url(text[start:end], found))
        position = end
    out.append(text[position:])
    return "".join(out)


def _redact_url(url: str, found: list[str] | None) -> str:
    scheme_end = url.index("://") + 3
    rest = url[scheme_end:]
    at = rest.rfind("@")
    if at != -1:
        colon = rest.find(":", 0, at)
        if colon != -1:
            if found is not None:
                found.append(rest[colon + 1:at])
            rest = rest[:colon + 1] + MASK + rest[at:]
    return url[:scheme_end] + rest


_LONG_RUN = re.compile(r"\S{121,}")


def clip(text: str, limit: int = 2000, run: int = 120) -> str:
    """A message fit to print: every run of more than `run` non-blank characters (a huge value quoted in it) cut to
    its first `run`, then, if still longer than `limit`, its middle left out. Redact before clipping: a cut URL may
    no longer look like one."""
    pattern = _LONG_RUN if run == 120 else re.compile(rf"\S{{{run + 1},}}")
    text = pattern.sub(lambda m: f"{m.group(0)[:run]}... ({len(m.group(0)) - run} more characters)", text)
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]} ... ({len(text) - head - tail} characters left out) ... {text[-tail:]}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 4, 4, 4
_REPR.maxfrozenset = _REPR.maxdeque = _REPR.maxarray = 4


def shorten(value: object, limit: int = 80) -> str:
    """At most about `limit` characters of `value` for an error message: a str as is, anything else as a bounded
    repr (computed without rendering all of a huge value), with how much was left out."""
    if isinstance(value, str):
        text = value
    else:
        _REPR.maxstring = _REPR.maxother = max(limit, 8)
        _REPR.maxlong = max(limit, 8)
        text = _REPR.repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"
