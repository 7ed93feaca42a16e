"""Filter evaluation: the kit's evaluators against moto's on the same filters and messages.

- sns_filter_eval_ratio: evaluations/s of `sns_filter_matches` (the kit's evaluator, as `edakit routes` and the
  embedded broker call it: the policy validated and compiled per call, with SNS's limits) / moto's
  `moto.sns.utils.FilterPolicyMatcher(policy, scope).matches(attributes, message)`, built per call too, over every
  (policy, message) pair of POLICIES x messages, attribute and body scopes.
- eventbridge_pattern_eval_ratio: evaluations/s of `event_pattern_matches` / moto's
  `moto.events.models.EventPattern(None, pattern).matches_event(event)` on the same patterns and events.
- sns_filter_eval_compiled_ratio, eventbridge_pattern_eval_compiled_ratio: the same with the kit's filter compiled
  once per policy (`compile_sns_filter_policy`, `compile_event_pattern`) and only its evaluation timed (the
  message flattened, `ruler.explain`): the evaluator's own speed, as moto's matcher does no compilation.

Both sides must reach the same verdict on every pair (checked before timing), so they do the same work; above 1
the kit's evaluator is faster than moto's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from moto.events.models import EventPattern
from moto.sns.utils import FilterPolicyMatcher

from benchmarks.harness import Figure, Group, Sides
from edakit.routing import ruler
from edakit.routing.eventbridge import compile_event_pattern, event_pattern_matches
from edakit.routing.sns import compile_sns_filter_policy, message_attributes_flat, sns_filter_matches

MESSAGES = 600
POLICIES: list[tuple[dict[str, Any], str]] = [
    ({"event_type": ["OrderPlaced", "OrderCancelled"]}, "MessageAttributes"),
    ({"amount": [{"numeric": [">", 100, "<=", 1000]}]}, "MessageAttributes"),
    ({"region": [{"prefix": "eu-"}], "event_type": [{"anything-but": ["OrderCancelled"]}]}, "MessageAttributes"),
    ({"vip": [{"exists": True}]}, "MessageAttributes"),
    ({"order": {"total": [{"numeric": [">=", 50]}], "currency": ["EUR"]}}, "MessageBody"),
]
PATTERNS: list[dict[str, Any]] = [
    {"detail-type": ["OrderPlaced"]},
    {"source": [{"prefix": "/shop"}], "detail": {"total": [{"numeric": [">", 100]}]}},
    {"detail": {"currency": ["EUR", "USD"], "region": [{"anything-but": ["us-east-1"]}]}},
    {"detail-type": ["OrderPlaced"], "detail": {"vip": [{"exists": True}]}},
]
TYPES, REGIONS, CURRENCIES = ("OrderPlaced", "OrderCancelled", "OrderShipped"), ("eu-west-1", "us-east-1"), ("EUR", "GBP")


def _sns_inputs() -> list[tuple[dict[str, dict[str, str]], dict[str, dict[str, str]], str]]:
    """(Publish API attributes for the kit, moto's stored {Type, Value} form of the same, body) per message."""
    inputs = []
    for n in range(MESSAGES):
        attributes = {"event_type": ("String", TYPES[n % 3]), "amount": ("Number", str(n * 7 % 1500)),
                      "region": ("String", REGIONS[n % 2])}
        if n % 4 == 0:
            attributes["vip"] = ("String", "yes")
        kit = {k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()}
        moto = {k: {"Type": t, "Value": v} for k, (t, v) in attributes.items()}
        body = json.dumps({"order": {"total": n % 120, "currency": CURRENCIES[n % 2]}})
        inputs.append((kit, moto, body))
    return inputs


def _events() -> list[dict[str, Any]]:
    events = []
    for n in range(MESSAGES):
        detail: dict[str, Any] = {"total": n % 300, "currency": CURRENCIES[n % 2], "region": REGIONS[n % 2]}
        if n % 5 == 0:
            detail["vip"] = True
        events.append({"version": "0", "id": f"e{n}", "detail-type": TYPES[n % 3], "source": ("/shop", "/ops")[n % 2],
                       "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "local",
                       "resources": [], "detail": detail})
    return events


def _timed(pairs: list, evaluate: Callable[..., bool]) -> Callable[[], float]:
    def side() -> float:
        start = time.perf_counter()
        for args in pairs:
            evaluate(*args)
        return time.perf_counter() - start
    return side


def _sns_pairs() -> tuple[list[tuple], list[tuple]]:
    inputs = _sns_inputs()
    return ([(policy, scope, kit, body) for policy, scope in POLICIES for kit, _moto, body in inputs],
            [(policy, scope, moto, body) for policy, scope in POLICIES for _kit, moto, body in inputs])


def _sns_kit(policy: dict, scope: str, attributes: dict, body: str) -> bool:
    return sns_filter_matches(policy, scope=scope, message_attributes=attributes, message=body)  # type: ignore[arg-type]


def _sns_moto(policy: dict, scope: str, attributes: dict, body: str) -> bool:
    return FilterPolicyMatcher(policy, scope).matches(attributes, body)


def _compiled_sns_kit(pairs: list[tuple]) -> tuple[list[tuple], Callable[..., bool]]:
    """(node, scope, attributes, body) per pair, and the evaluation explain_sns runs after compiling."""
    nodes = {json.dumps(p): compile_sns_filter_policy(p, scope=s) for p, s in POLICIES}  # type: ignore[arg-type]

    def evaluate(node: ruler.Node, scope: str, attributes: dict, body: str) -> bool:
        if scope == "MessageAttributes":
            return not ruler.explain(node, message_attributes_flat(attributes))
        return not ruler.explain(node, ruler.flatten(json.loads(body)))
    return [(nodes[json.dumps(p)], s, a, b) for p, s, a, b in pairs], evaluate


def _checked(kit: list[bool], moto: list[bool], what: str) -> None:
    if kit != moto:
        raise RuntimeError(f"filters bench: the kit and moto disagree on an {what}; fix the inputs")
    if all(kit) or not any(kit):
        raise RuntimeError(f"filters bench: every {what} evaluation has the same verdict; the inputs test nothing")


def _sns(compiled: bool) -> Callable[[object], Sides]:
    def prepare(_: object) -> Sides:
        kit_pairs, moto_pairs = _sns_pairs()
        evaluate = _sns_kit
        if compiled:
            kit_pairs, evaluate = _compiled_sns_kit(kit_pairs)
        _checked([evaluate(*k) for k in kit_pairs], [_sns_moto(*m) for m in moto_pairs], "SNS policy")
        return Sides(kit=_timed(kit_pairs, evaluate), baseline=_timed(moto_pairs, _sns_moto), items=len(kit_pairs))
    return prepare


def _eb_moto(pattern: dict, event: dict) -> bool:
    return EventPattern(None, pattern).matches_event(event)


def _eb_compiled(node: ruler.Node, event: dict) -> bool:
    return not ruler.explain(node, ruler.flatten(event))


def _eventbridge(compiled: bool) -> Callable[[object], Sides]:
    def prepare(_: object) -> Sides:
        events = _events()
        pairs = [(pattern, event) for pattern in PATTERNS for event in events]
        kit_pairs: list[tuple] = pairs
        evaluate: Callable[..., bool] = event_pattern_matches
        if compiled:
            nodes = [compile_event_pattern(p) for p in PATTERNS]
            kit_pairs, evaluate = [(node, event) for node in nodes for event in events], _eb_compiled
        _checked([evaluate(*p) for p in kit_pairs], [_eb_moto(*p) for p in pairs], "EventBridge pattern")
        return Sides(kit=_timed(kit_pairs, evaluate), baseline=_timed(pairs, _eb_moto), items=len(pairs))
    return prepare


SNS_BASELINE = "moto.sns.utils.FilterPolicyMatcher(policy, scope).matches(...) on the same policies and messages"
EB_BASELINE = "moto.events.models.EventPattern(None, pattern).matches_event(...) on the same patterns and events"
GROUP = Group("filters", [
    Figure("sns_filter_eval_ratio", SNS_BASELINE, _sns(compiled=False), budget=8),
    Figure("sns_filter_eval_compiled_ratio", SNS_BASELINE, _sns(compiled=True), budget=8),
    Figure("eventbridge_pattern_eval_ratio", EB_BASELINE, _eventbridge(compiled=False), budget=8),
    Figure("eventbridge_pattern_eval_compiled_ratio", EB_BASELINE, _eventbridge(compiled=True), budget=8),
])
