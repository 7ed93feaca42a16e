"""Request-reply on the embedded broker: a checkout asks a pricing service for quotes and waits for each answer.

What happens (no servers; the broker is one SQLite file in a temporary directory):
1. The pricing service (a Responder) reads the `pricing-requests` topic as consumer group `pricing`.
2. The checkout (a Requester) owns a reply channel, the topic `replies-checkout`. Each request carries two
   CloudEvents extensions: `correlationid` (the request's id) and `replyto` (that topic). Four threads ask at once;
   each gets the reply carrying its own correlation id, whatever order the replies come back in.
3. One quote is slow: the checkout gives up after 0.5 s (RequestTimeout). When that reply arrives later it is
   dropped and counted as late, never handed to a later request.
4. The pricing service stops (a crash): the next request times out instead of hanging.
Any failed check exits 1.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.request_reply import CORRELATION_ID, Requester, RequestTimeout, Responder

PRICES = {"sku-123": 19.99, "sku-777": 5.0, "sku-555": 42.0, "sku-999": 7.5}
SLOW = "sku-slow"


def price(request: Message) -> bytes:
    sku = json.loads(request.payload)["sku"]
    if sku == SLOW:
        time.sleep(1.0)  # longer than the checkout waits
    print(f"   pricing: quote for {sku} (correlationid {request.headers[CORRELATION_ID][:8]}...)", flush=True)
    return json.dumps({"sku": sku, "price": PRICES.get(sku, 1.0)}).encode()


def main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edakit-rr-") as tmp:
        broker = EmbeddedBroker(Path(tmp) / "broker.sqlite3")
        requests = broker.subscriber("pricing-requests", "pricing")
        responder, stop = Responder(broker.publisher(), source="urn:demo:pricing"), threading.Event()
        service = threading.Thread(target=responder.serve, args=(requests, price), kwargs={"stop": stop, "poll": 0.05})
        service.start()
        checkout = Requester.for_broker(broker, "checkout", source="urn:demo:checkout", poll=0.05)
        print(f"checkout's reply channel: {checkout.reply_topic!r}; pricing reads 'pricing-requests'")

        def ask(sku: str, timeout: float = 10) -> dict:
            print(f"   checkout: asks for {sku}", flush=True)
            reply = checkout.request("pricing-requests", "QuoteRequested", json.dumps({"sku": sku}).encode(),
                                     timeout=timeout)
            answer = json.loads(reply.payload)
            print(f"   checkout: got {answer} for {sku}", flush=True)
            return answer

        print("\n1. four requests at once")
        with ThreadPoolExecutor(4) as pool:
            answers = dict(zip(PRICES, pool.map(ask, PRICES), strict=True))
        if any(answers[sku] != {"sku": sku, "price": p} for sku, p in PRICES.items()):
            problems.append(f"a request got another request's reply: {answers}")

        print("\n2. a slow quote: the checkout waits 0.5 s")
        try:
            ask(SLOW, timeout=0.5)
            problems.append("the slow request did not time out")
        except RequestTimeout as exc:
            print(f"   checkout: RequestTimeout: {exc}")
        if ask("sku-777")["price"] != PRICES["sku-777"]:  # waits behind the slow quote, gets its own reply
            problems.append("the request after the slow one got the wrong reply")
        deadline = time.monotonic() + 10
        while checkout.stats.late == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"   checkout: replies {checkout.stats.replies}, late replies dropped {checkout.stats.late}")
        if checkout.stats.late != 1:
            problems.append(f"expected 1 late reply dropped, counted {checkout.stats.late}")

        print("\n3. the pricing service stops; the checkout asks once more")
        stop.set()
        service.join()
        started = time.monotonic()
        try:
            ask("sku-123", timeout=1)
            problems.append("a request with no responder did not time out")
        except RequestTimeout as exc:
            print(f"   checkout: RequestTimeout after {time.monotonic() - started:.1f} s: {exc}")
        checkout.close()
        requests.close()
        responder.close()

    for problem in problems:
        print("FAIL:", problem)
    print("\nrequest-reply:", "FAIL" if problems else
          "PASS: each reply reached its own request; the late reply was dropped and counted; no responder, a timeout")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
