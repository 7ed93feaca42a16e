"""Payload validation throughput, measured against baselines in the same run (see tools/edakit/bench.py).

json_validation_ratio: payloads/s parsed (orjson) and validated by the kit's compiled validator, over payloads/s
merely parsed by orjson. avro_validation_ratio: the kit's Avro validation over fastavro's own `validate`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import orjson

from edakit.schemas.validate import PayloadValidator, read_json

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "order-events" / "v2"
PAYLOADS = 5000
ROUNDS = 7


def _payload(i: int) -> dict[str, Any]:
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


def _rates(baseline: Callable[[], None], kit: Callable[[], None], count: int) -> tuple[float, float]:
    """Items per second, best of ROUNDS; the two alternate so both see the same machine load."""
    best = [float("inf"), float("inf")]
    for _ in range(ROUNDS):
        for index, fn in enumerate((baseline, kit)):
            start = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return count / best[0], count / best[1]


def run() -> dict[str, float]:
    records = [_payload(i) for i in range(PAYLOADS)]
    raw = [orjson.dumps(r) for r in records]

    json_validator = PayloadValidator("JSON", read_json(SCHEMAS / "order-placed.schema.json"))
    is_valid_json = json_validator.is_valid
    loads = orjson.loads
    assert all(is_valid_json(loads(b)) for b in raw), "benchmark payloads must be valid"

    def parse_only() -> None:
        for b in raw:
            loads(b)

    def parse_and_validate() -> None:
        for b in raw:
            is_valid_json(loads(b))

    avro_schema = read_json(SCHEMAS / "order-placed.avsc")
    avro_validator = PayloadValidator("AVRO", avro_schema)
    parsed = fastavro.parse_schema(avro_schema)
    is_valid_avro = avro_validator.is_valid
    assert all(is_valid_avro(r) for r in records), "benchmark records must be valid"

    def fastavro_validate() -> None:
        for r in records:
            fastavro.validate(r, parsed, raise_errors=False)

    def kit_avro() -> None:
        for r in records:
            is_valid_avro(r)

    parse_rate, kit_json_rate = _rates(parse_only, parse_and_validate, PAYLOADS)
    fastavro_rate, kit_avro_rate = _rates(fastavro_validate, kit_avro, PAYLOADS)
    return {
        "json_validation_ratio": kit_json_rate / parse_rate,
        "json_parse_payloads_per_s": parse_rate,
        "json_validate_payloads_per_s": kit_json_rate,
        "avro_validation_ratio": kit_avro_rate / fastavro_rate,
        "avro_fastavro_validate_records_per_s": fastavro_rate,
        "avro_validate_records_per_s": kit_avro_rate,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:40} {value:14,.3f}")
