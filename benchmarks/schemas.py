"""Payload validation, against the libraries doing the same work called directly.

- json_validation_ratio: payloads/s through the kit's bounded parse (`parse_json`: size and nesting bounds over
  orjson) and its compiled validator (`PayloadValidator.is_valid`) / a raw loop of `orjson.loads` + the
  jsonschema-rs validator compiled once for the same schema (formats checked, as the kit's).
- json_validation_vs_parse_ratio: the same kit path / `orjson.loads` alone: what validating costs at all.
- json_consumer_decode_ratio: `ChannelCodec.decode` on the json wire (a consumer's whole path: the schema file's
  staleness check, the bounded parse, the validator, the Decoded result) / the same raw loop. No target: the
  per-message stat that picks up a changed schema file is most of the gap.
- avro_validation_ratio: records/s through the kit's compiled Avro validator (PayloadValidator.is_valid) /
  `fastavro.validate(record, parsed_schema, raise_errors=False)` called directly.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import jsonschema_rs
import orjson

from benchmarks.harness import Figure, Group, Sides
from edakit.runtime.message import Message
from edakit.runtime.serde.codec import ChannelCodec, EventSchema
from edakit.schemas.validate import PayloadValidator, parse_json, read_json, validator_for

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "order-events" / "v2"
PAYLOADS = 20_000


def payload(i: int) -> dict[str, Any]:
    items = [{"product_id": f"sku-{i % 97}-{n}", "quantity": 1 + n, "unit_price": 2.5 * (n + 1)}
             for n in range(1 + i % 4)]
    return {
        "event_id": str(uuid.UUID(int=i + 1)), "event_time": 1767225600000 + i, "order_id": f"ord-{i}",
        "customer_id": f"cus-{i % 311}", "items": items,
        "total_amount": sum(x["quantity"] * x["unit_price"] for x in items), "currency": "EUR",
        "shipping_address": None if i % 3 else {"line1": "1 Main St", "city": "Utrecht", "postal_code": "3511",
                                                "country": "NL"},
        "sales_channel": ("web", "mobile", "store")[i % 3],
    }


def _loop(items: list, fn: Callable[[Any], object]) -> Callable[[], float]:
    def side() -> float:
        start = time.perf_counter()
        for item in items:
            fn(item)
        return time.perf_counter() - start
    return side


def _json_sides(kit: str, baseline: str) -> Callable[[object], Sides]:
    def prepare(_: object) -> Sides:
        path = SCHEMAS / "order-placed.schema.json"
        messages = [Message.new("OrderPlaced", orjson.dumps(payload(i)), source="/bench") for i in range(PAYLOADS)]
        raw = [m.payload for m in messages]
        compiled = jsonschema_rs.validator_for(read_json(path), validate_formats=True)
        loads, is_valid = orjson.loads, compiled.is_valid
        assert all(is_valid(loads(b)) for b in raw), "benchmark payloads must be valid"
        base = _loop(raw, lambda b: is_valid(loads(b))) if baseline == "validator" else _loop(raw, loads)
        if kit == "decode":
            codec = ChannelCodec("orders", {"OrderPlaced": EventSchema("OrderPlaced", path, "JSON", 2,
                                                                       "orders-value")}, wire="json")
            codec.decode(messages[0])  # compiles and caches the validator
            return Sides(kit=_loop(messages, codec.decode), baseline=base, items=PAYLOADS)
        kit_valid = validator_for(path).is_valid
        return Sides(kit=_loop(raw, lambda b: kit_valid(parse_json(b, "payload"))), baseline=base, items=PAYLOADS)
    return prepare


def _avro(_: object) -> Sides:
    schema = read_json(SCHEMAS / "order-placed.avsc")
    records = [payload(i) for i in range(PAYLOADS)]
    is_valid = PayloadValidator("AVRO", schema).is_valid
    parsed, validate = fastavro.parse_schema(schema), fastavro.validate
    assert all(is_valid(r) for r in records), "benchmark records must be valid"
    return Sides(kit=_loop(records, is_valid), baseline=_loop(records, lambda r: validate(r, parsed, raise_errors=False)),
                 items=PAYLOADS)


BASELINE = "orjson.loads + a jsonschema-rs validator compiled once (formats on), called directly per payload"
GROUP = Group("schemas", [
    Figure("json_validation_ratio", BASELINE, _json_sides("validate", "validator"), target=(">=", 0.9), budget=10),
    Figure("json_validation_vs_parse_ratio", "orjson.loads alone per payload (no validation)",
           _json_sides("validate", "parse"), target=(">=", 0.7), budget=10),
    Figure("json_consumer_decode_ratio", BASELINE, _json_sides("decode", "validator"), budget=10),
    Figure("avro_validation_ratio", "fastavro.validate(record, parsed schema, raise_errors=False) per record",
           _avro, target=(">=", 0.95), budget=10),
])
