"""edakit.redact: every URL/DSN form loses its secret, the rest of the message stays as it was."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.redact import MASK, redact, secrets_in, shorten

SETTINGS = settings(max_examples=300, deadline=None)

passwords = st.text(min_size=1, max_size=40)
url_passwords = st.text(st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1, max_size=40)
schemes = st.sampled_from(["postgresql", "postgresql+psycopg", "postgres", "redis", "rediss", "amqp", "amqps",
                           "kafka", "https", "mysql+pymysql", "mongodb+srv", "sqs+https"])
users = st.sampled_from(["app", "orders_rw", "user.name", "a-b"])
secret_names = st.sampled_from(["password", "sslpassword", "PASSWORD", "secret", "client_secret", "token",
                                "access_token", "api_key", "apikey", "sasl.password", "ssl.key.password",
                                "aws_secret_access_key", "X-Amz-Security-Token", "X-Amz-Signature", "sig",
                                "AccountKey", "SharedAccessKey"])
contexts = st.sampled_from(["{}", "error: outbox database {}: connection refused", "broker '{}': unknown scheme",
                            "could not open '{}'\nsecond line"])


def libpq_quote(value: str) -> str:
    """A value as libpq's key/value syntax takes it (its docs: quote empty values and spaces; escape ' and \\)."""
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@SETTINGS
@given(schemes, users, url_passwords, st.sampled_from(["db:5432/orders", "h", "[::1]:6379/0", "10.0.0.1//vhost"]),
       contexts)
def test_url_userinfo_password_is_masked(scheme: str, user: str, password: str, rest: str, context: str) -> None:
    url = f"{scheme}://{user}:{password}@{rest}"
    assert redact(context.format(url)) == context.format(f"{scheme}://{user}:{MASK}@{rest}")


@SETTINGS
@given(schemes, url_passwords)
def test_password_only_userinfo_is_masked(scheme: str, password: str) -> None:
    assert redact(f"{scheme}://:{password}@cache:6379/0") == f"{scheme}://:{MASK}@cache:6379/0"


@SETTINGS
@given(st.sampled_from(["password", "sslpassword", "passfile", "Password"]), passwords, contexts)
def test_libpq_key_value_password_is_masked(name: str, password: str, context: str) -> None:
    dsn = f"host=db port=5432 user=app {name}={libpq_quote(password)} dbname=orders"
    out = redact(context.format(dsn))
    if name.lower() == "passfile":  # a path to a file, not a secret: kept
        assert out == context.format(dsn)
        return
    assert out in {context.format(f"host=db port=5432 user=app {name}={masked} dbname=orders")
                   for masked in (MASK, f"'{MASK}'", f'"{MASK}"')}


@SETTINGS
@given(secret_names, passwords, st.booleans())
def test_query_parameter_secrets_are_masked(name: str, password: str, first: bool) -> None:
    value = quote(password, safe="")
    query = f"{name}={value}&sslmode=require" if first else f"user=app&{name}={value}&sslmode=require"
    expected = query.replace(f"{name}={value}", f"{name}={MASK}")
    assert redact(f"postgresql://db/orders?{query}") == f"postgresql://db/orders?{expected}"


@SETTINGS
@given(secret_names, passwords, st.sampled_from(["python", "json"]))
def test_mapping_secrets_are_masked(name: str, password: str, style: str) -> None:
    dump = repr if style == "python" else json.dumps
    config = {"bootstrap.servers": "h:9092", name: password, "client.id": "relay"}
    quote_char = dump(password)[0]
    expected = dump(config).replace(f"{dump(name)}: {dump(password)}", f"{dump(name)}: {quote_char}{MASK}{quote_char}")
    assert redact(dump(config)) == expected


@SETTINGS
@given(secret_names, st.text(st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1,
                                max_size=40))
def test_connection_string_secret_never_survives(name: str, secret: str) -> None:
    text = f"DefaultEndpointsProtocol=https;AccountName=acct;{name}={secret}"
    assert redact(text) in {f"DefaultEndpointsProtocol=https;AccountName=acct;{name}={masked}"
                            for masked in (MASK, f"'{MASK}'", f'"{MASK}"')}


@pytest.mark.parametrize("text, expected", [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "Authorization: Bearer ***"),
    ("password=x://u:p@z rest", "password=*** rest"),
    ("postgresql://app:a://b@host/x", "postgresql://app:***@host/x"),
    ("postgresql://app@db/orders", "postgresql://app@db/orders"),  # a user name alone is no secret
    ("kafka://127.0.0.1:9092,127.0.0.1:9093", "kafka://127.0.0.1:9092,127.0.0.1:9093"),
    ("sqs:http://127.0.0.1:5000", "sqs:http://127.0.0.1:5000"),
    ("connection to server at \"127.0.0.1\", port 1 failed: Connection refused",
     "connection to server at \"127.0.0.1\", port 1 failed: Connection refused"),
    ("https://h/x?X-Amz-Credential=AKIA/2026&X-Amz-Signature=abc&foo=bar",
     "https://h/x?X-Amz-Credential=***&X-Amz-Signature=***&foo=bar"),
    ("{'sasl.password': 'it''s'}", "{'sasl.password': '***'}"),
])
def test_examples(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_shorten_bounds_huge_values_without_rendering_them() -> None:
    huge = ["x" * 1_000_000] * 50  # ~50 MB as a repr
    started = time.perf_counter()
    text = shorten(huge)
    assert time.perf_counter() - started < 0.5
    assert len(text) < 200 and text.startswith("['xxxx")
    assert shorten("y" * 10_000, limit=20) == "y" * 20 + "... (9980 more characters)"
    assert shorten("short") == "short"
    assert shorten({"a": 1}) == "{'a': 1}"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=5000), st.lists(st.integers(), max_size=2000),
                 st.dictionaries(st.text(max_size=50), st.text(max_size=500), max_size=50)),
       st.integers(min_value=1, max_value=200))
def test_shorten_never_exceeds_its_limit_plus_the_note(value: object, limit: int) -> None:
    assert len(shorten(value, limit=limit)) <= max(limit, 8) + len("... (99999999 more characters)")


@SETTINGS
@given(url_passwords.filter(lambda p: len(p) >= 4), st.booleans())
def test_a_fragment_a_driver_quotes_out_of_url_form_is_masked_by_known(password: str, encoded: bool) -> None:
    written = quote(password, safe="") if encoded else password
    url = f"postgresql://app:{written}@db/orders"
    message = f'invalid percent-encoded token: "{written}" (decoded {password})'
    out = redact(message, known=secrets_in(url))
    assert password not in out and written not in out


def test_secrets_in_lists_what_redact_masks() -> None:
    assert secrets_in("postgresql://app:p%40ss@db/x?sslpassword=k%20y host=h password='a b'") == [
        "p%40ss", "k%20y", "a b", "p@ss", "k y"]
    assert redact("token abc", known=["abc"]) == "token abc"  # shorter than KNOWN_MIN_LENGTH: kept


def test_the_relay_log_formatter_redacts_messages_and_tracebacks() -> None:
    import logging

    from edakit.cli._problems import RedactingFormatter

    try:
        raise ConnectionError("connection to postgresql://app:hunter22@db/orders failed: pw%zzhunter22")
    except ConnectionError:
        record = logging.LogRecord("edakit.outbox", logging.ERROR, __file__, 1, "publish to %s failed", ("x",),
                                   exc_info=True)
        import sys
        record.exc_info = sys.exc_info()
    text = RedactingFormatter("%(levelname)s %(message)s", known=["pw%zzhunter22"]).format(record)
    assert "hunter22" not in text and "postgresql://app:***@db/orders" in text and "Traceback" in text
