"""The pointer format: AWS's payload-offloading pointer, parsed as untrusted input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.claimcheck import ClaimCheckPublisher, LocalDirectoryStore, OffloadPolicy, restore
from edakit.runtime.claimcheck.pointer import (SIZE_HEADER, LEGACY_POINTER_CLASS, MAX_KEY_BYTES, MAX_POINTER_BYTES, POINTER_CLASS,
                                              Pointer, PointerError, declared_size, parse_pointer)
from edakit.runtime.message import CONTEXT_ATTRIBUTES, Message

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200)
keys = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn", "Cf", "Zs")), min_size=1,
               max_size=200).filter(lambda k: not k.startswith("/") and not {".", ".."} & set(k.split("/")))


def test_body_is_the_java_librarys_compact_array() -> None:
    assert Pointer("claims", "3f0c").to_payload() == (
        b'["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"claims","s3Key":"3f0c"}]')


def test_reads_the_python_ports_spacing_and_the_legacy_class() -> None:
    # the Python port writes json.dumps' default separators
    assert parse_pointer(json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "k"}]).encode()) == Pointer("b", "k")
    assert parse_pointer(json.dumps([LEGACY_POINTER_CLASS, {"s3BucketName": "b", "s3Key": "k"}]).encode()) == \
        Pointer("b", "k")


@given(names, keys)
def test_round_trip(bucket: str, key: str) -> None:
    if len(key.encode()) <= MAX_KEY_BYTES:
        assert parse_pointer(Pointer(bucket, key).to_payload()) == Pointer(bucket, key)


@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3))))
def test_anything_else_is_a_pointer_error_never_another_exception(body: bytes) -> None:
    try:
        parse_pointer(body)
    except PointerError:
        pass


@pytest.mark.parametrize(("body", "expected"), [
    (b"not json", "not JSON"),
    (b'{"s3BucketName": "b"}', "JSON array"),
    (b'["x.Y", {"s3BucketName": "b", "s3Key": "k"}]', "expected class"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": ""}]).encode(), "non-empty"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": 7}]).encode(), "non-empty"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "k" * (MAX_KEY_BYTES + 1)}]).encode(), "longer"),
    (b"[" + b" " * MAX_POINTER_BYTES + b"]", "at most"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "../other-container/x"}]).encode(), "'..' segment"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "a/./b"}]).encode(), "'..' segment"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "/abs"}]).encode(), "leading '/'"),
    (json.dumps([POINTER_CLASS, {"s3BucketName": "b", "s3Key": "a\nb"}]).encode(), "control character"),
])
def test_bad_pointers_name_what_was_expected(body: bytes, expected: str) -> None:
    with pytest.raises(PointerError, match=expected):
        parse_pointer(body)


@given(st.text(max_size=30))
def test_declared_size_is_a_decimal_count_or_a_pointer_error(text: str) -> None:
    try:
        value = declared_size(text)
    except PointerError:
        assert not (text.isascii() and text.isdigit()) or len(text) > 19  # 19 digits: any size a store holds
    else:
        assert str(value) == text.lstrip("0") or value == 0


@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=2000), st.booleans(),
       st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(
           lambda n: n not in CONTEXT_ATTRIBUTES | {"partitionkey", SIZE_HEADER}), st.text(max_size=20), max_size=3))
@settings(max_examples=20, deadline=None)  # an SQLite broker per example
def test_offload_then_restore_gives_the_message_back(payload: bytes, threshold: int, always: bool,
                                                     headers: dict[str, str]) -> None:
    message = Message.new("T", payload, source="s", headers=headers, content_type="application/octet-stream")
    policy = OffloadPolicy(threshold, always)
    with tempfile.TemporaryDirectory() as directory:
        store = LocalDirectoryStore(Path(directory) / "claims", bucket="claims")
        broker = EmbeddedBroker(Path(directory) / "broker.sqlite3")
        broker.create_group("t", "g")
        ClaimCheckPublisher(broker.publisher(), store, {"t": policy}).publish("t", [message])
        [delivery] = broker.subscriber("t", "g").receive(1, 0)
        sent = delivery.message
        assert (SIZE_HEADER in sent.headers) == policy.offloads(message)
        assert (restore(sent, store) if SIZE_HEADER in sent.headers else sent) == message
        assert (restore(sent, store) if SIZE_HEADER in sent.headers else sent).payload == payload
