"""The worker's push endpoints: each push subscriber's receiver behind a gate that closes on drain, routed by the
path of its endpoint URL in the spec."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from edakit.runtime.adapters.pubsub_push import PubSubPushReceiver, PushResponse, wsgi_app
from edakit.spec.model import Spec


class PushGate:
    """A push receiver that answers 503 once the worker drains, and counts the pushes it is handling."""

    def __init__(self, receiver: PubSubPushReceiver) -> None:
        self.receiver = receiver
        self.closed = False
        self.in_flight = 0
        self._changed = threading.Condition()

    def __call__(self, method: str, headers: Mapping[str, str], body: bytes) -> PushResponse:
        with self._changed:
            if self.closed:
                return PushResponse(503, {"Content-Type": "text/plain; charset=utf-8"},
                                    b"draining: redeliver to another instance")
            self.in_flight += 1
        try:
            return self.receiver(method, headers, body)
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def close_and_wait(self, deadline: float) -> bool:
        with self._changed:
            self.closed = True
            return self._changed.wait_for(lambda: self.in_flight == 0, max(0.0, deadline - time.monotonic()))


def push_routes(spec: Spec, gates: Mapping[str, PushGate]) -> Callable[..., Iterable[bytes]]:
    """One WSGI app serving each push subscriber at its endpoint's path (404 elsewhere)."""
    by_path = {}
    for name, gate in gates.items():
        endpoint = spec.subscribers[name].pubsub.push_endpoint  # type: ignore[union-attr] - App checked it
        by_path[urlsplit(endpoint).path or "/"] = wsgi_app(gate, gate.receiver.max_body_bytes)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = by_path.get(environ.get("PATH_INFO") or "/")
        if route is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"no push subscriber here\n"]
        return route(environ, start_response)

    return app
