"""Message model and its CloudEvents 1.0 binary/structured mappings."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.runtime.cloudevents import (
    HTTP_PREFIX,
    KAFKA_PREFIX,
    CloudEventError,
    from_binary,
    from_structured,
    to_attributes,
    to_binary,
    to_structured,
)
from edakit.runtime.message import Message, MessageError

text = st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)
extension_names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda n: n not in {"id", "type", "source", "specversion", "time", "subject", "datacontenttype", "dataschema",
                        "data", "partitionkey"}
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
payloads = st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()) | json_values.map(
    lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode())
times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-7, minutes=-30))]))
messages = st.builds(
    Message,
    id=text, type=text, source=text, payload=payloads, time=times,
    content_type=st.sampled_from(["application/json", "application/avro", "text/plain; charset=utf-8",
                                  "application/vnd.example+json"]),
    key=st.none() | text, subject=st.none() | text,
    headers=st.dictionaries(extension_names, st.text(max_size=30), max_size=5),
)


@given(messages, st.sampled_from([KAFKA_PREFIX, HTTP_PREFIX]))
def test_binary_mode_round_trip(message: Message, prefix: str) -> None:
    headers = to_binary(message, prefix)
    assert headers[prefix + "specversion"] == "1.0"
    assert headers["content-type"] == message.content_type
    assert from_binary(headers, message.payload, prefix) == message


@given(messages)
def test_http_binary_header_names_are_case_insensitive(message: Message) -> None:
    # HTTP (and so Event Grid webhooks) may deliver `Ce-Id`, `CE-TYPE`, `Content-Type`.
    headers = {name.title() if i % 2 else name.upper(): value
               for i, (name, value) in enumerate(to_binary(message, HTTP_PREFIX).items())}
    assert from_binary(headers, message.payload, HTTP_PREFIX) == message


@given(messages)
def test_structured_mode_round_trip(message: Message) -> None:
    body = to_structured(message)
    event = json.loads(body)
    assert ("data" in event) != ("data_base64" in event)
    assert from_structured(body) == message


@given(st.datetimes(timezones=st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))))
def test_the_time_attribute_is_exactly_isoformat_of_the_utc_time(time: datetime) -> None:
    # The fast formatter (orjson) must not change a byte of what travels in ce_time / time attributes.
    message = Message(id="e1", type="t", source="/s", payload=b"", time=time)
    assert to_attributes(message)["time"] == time.astimezone(timezone.utc).isoformat()


def test_json_payload_is_embedded_as_data() -> None:
    message = Message.new("OrderPlaced", b'{"order":1}', source="/orders")
    event = json.loads(to_structured(message))
    assert event["data"] == {"order": 1}
    assert event["datacontenttype"] == "application/json"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", event["time"])  # RFC 3339, UTC


def test_binary_headers_unrelated_to_cloudevents_are_ignored() -> None:
    message = Message.new("t", b"x", source="/s", key="k", headers={"traceparent": "00-1-2-01"})
    headers = {**to_binary(message), "dlq_reason": "{}", "x-broker": "1"}
    assert from_binary(headers, b"x") == message
    assert to_binary(message)["ce_partitionkey"] == "k"


@pytest.mark.parametrize("drop", ["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time"])
def test_missing_required_attribute_is_named(drop: str) -> None:
    headers = to_binary(Message.new("t", b"", source="/s"))
    del headers[drop]
    with pytest.raises(CloudEventError, match=drop.removeprefix("ce_")):
        from_binary(headers, b"", where="topic orders partition 0 offset 7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-01-25T22:12:19.4556811Z", datetime(2018, 1, 25, 22, 12, 19, 455681, timezone.utc)),  # Azure: 7 digits
        ("2024-03-01t10:00:00z", datetime(2024, 3, 1, 10, tzinfo=timezone.utc)),
        ("2024-03-01T11:30:00+01:30", datetime(2024, 3, 1, 10, tzinfo=timezone.utc)),
    ],
)
def test_rfc3339_times_from_other_producers(text: str, expected: datetime) -> None:
    body = json.dumps({"specversion": "1.0", "id": "1", "type": "t", "source": "/s", "time": text}).encode()
    assert from_structured(body).time == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[1]", "expected a JSON object"),
        (b"{", "not JSON"),
        (b'{"specversion":"0.3","id":"1","type":"t","source":"/s","time":"2020-01-01T00:00:00Z"}', "specversion"),
        (b'{"specversion":"1.0","id":"1","type":"t","source":"/s","time":"yesterday"}', "RFC 3339"),
        (b'{"specversion":"1.0","id":"1","type":"t","source":"/s","time":"2020-01-01T00:00:00Z","data_base64":"@"}',
         "base64"),
        (b'{"specversion":"1.0","id":1,"type":"t","source":"/s","time":"2020-01-01T00:00:00Z"}', "id must be str"),
    ],
)
def test_bad_structured_events_say_what_is_wrong(body: bytes, expected: str) -> None:
    with pytest.raises(CloudEventError, match=expected):
        from_structured(body)


@pytest.mark.parametrize("name", ["Traceparent", "retry-count", "id", "time", "partitionkey", ""])
def test_header_names_must_be_cloudevents_extension_names(name: str) -> None:
    with pytest.raises(MessageError, match="extension name"):
        Message.new("t", b"", source="/s", headers={name: "v"})


def test_message_rejects_naive_time_and_normalises_to_utc() -> None:
    with pytest.raises(MessageError, match="timezone-aware"):
        Message(id="1", type="t", source="/s", payload=b"", time=datetime(2020, 1, 1))
    local = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert Message(id="1", type="t", source="/s", payload=b"", time=local).time.tzinfo is timezone.utc


def test_new_messages_get_distinct_ids_and_read_only_headers() -> None:
    a, b = (Message.new("t", b"", source="/s", headers={"traceparent": "x"}) for _ in range(2))
    assert a.id != b.id
    with pytest.raises(TypeError):
        a.headers["traceparent"] = "y"  # type: ignore[index]
