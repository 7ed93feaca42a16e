"""pair_builder lists a common event (no subject, no extensions, no partition key) in one display: every binding's
pairs must be the same as the general listing's, in the same order, with or without the fast path."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from edakit.runtime.cloudevents import CONTENT_TYPE, SPECVERSION, pair_builder
from edakit.runtime.message import Message

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
messages = st.builds(
    Message, id=text, type=text, source=text, payload=st.binary(max_size=20),
    time=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)),
    content_type=st.sampled_from(["application/json", "text/plain"]), key=st.none() | text,
    subject=st.none() | text, headers=st.dictionaries(st.sampled_from(["traceparent", "tenant", "x1"]), text, max_size=2))


def reference(message: Message, prefix: str, partitionkey: bool, content_type: bool) -> list[tuple[str, str]]:
    pairs = [(prefix + "specversion", SPECVERSION), (prefix + "id", message.id), (prefix + "type", message.type),
             (prefix + "source", message.source), (prefix + "time", message.time.isoformat())]
    if message.subject is not None:
        pairs.append((prefix + "subject", message.subject))
    if partitionkey and message.key is not None:
        pairs.append((prefix + "partitionkey", message.key))
    pairs.extend((prefix + name, value) for name, value in message.headers.items())
    if content_type:
        pairs.append((CONTENT_TYPE, message.content_type))
    return pairs


@given(messages, st.sampled_from(["ce_", "ce-", ""]), st.booleans(), st.booleans())
def test_every_binding_lists_the_same_pairs_as_the_general_listing(message, prefix, partitionkey, content_type):
    assert pair_builder(prefix, partitionkey, content_type)(message) == reference(message, prefix, partitionkey,
                                                                                  content_type)
