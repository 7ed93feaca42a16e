"""Retry, dead-letter queue and redrive on the embedded broker: what fails for a moment is retried, what cannot
succeed is set aside with its reason, and is sent back once the cause is fixed.

Why: a consumer that retries forever blocks or burns its queue on a message that can never succeed (a poison
message); one that drops failures loses orders. The kit retries with exponential backoff and jitter, then moves the
message to the group's DLQ with why it failed; an operator lists the DLQ, fixes the cause and replays (redrives) the
messages, same event id, to that group alone.

What happens (no servers; the broker is one SQLite file in a temporary directory):
1. Four OrderPlaced events reach the Shipping group (retry middleware: 3 attempts, backoff 0.05 s doubling).
   - ord-1: the carrier's API times out twice; the third attempt books the shipment.
   - ord-2: its payload is not JSON (a poison message); a ValueError is not retryable: dead-lettered at once.
   - ord-3: a handler bug (it reads `address.country`, which the event may omit) fails all 3 attempts: dead-lettered.
   - ord-4: shipped at once.
2. The DLQ is listed: each message with its error, attempts and where it came from (what `edakit dlq ls` prints).
3. The bug is fixed and the KeyError letters are replayed: ord-3 ships. The poison message stays, then is purged.
4. The demo checks the shipments (each order once, ord-2 never) and the empty DLQ; any failed check exits 1.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.message import Message
from edakit.runtime.middleware import Handler, RetryPolicy, Router, compose, retry

TOPIC, GROUP = "order-placed", "shipping"
POLICY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, non_retryable=(ValueError,))


def say(text: str) -> None:
    print(text, flush=True)


class Shipping:
    def __init__(self) -> None:
        self.shipments: list[str] = []
        self.timeouts_left = 2  # the carrier's API is slow for a moment
        self.fixed = False

    def book(self, delivery: Delivery) -> None:
        order = json.loads(delivery.message.payload)  # ValueError (JSONDecodeError) for the poison message
        if order["order_id"] == "ord-1" and self.timeouts_left:
            self.timeouts_left -= 1
            raise TimeoutError("carrier API did not answer within 2 s")
        # The bug: `address.country` is optional in the event; the fix falls back to the shop's country.
        country = order["address"].get("country", "DE") if self.fixed else order["address"]["country"]
        self.shipments.append(order["order_id"])
        say(f"   shipping {order['order_id']} attempt {delivery.attempt}: shipment booked to {country}")


def logged(next_handler: Handler) -> Handler:
    """Prints each failed attempt and what the retry middleware will do with it."""

    def handle(delivery: Delivery) -> None:
        try:
            next_handler(delivery)
        except Exception as error:
            then = "retry after backoff" if POLICY.should_retry(error, delivery.attempt) else "dead-letter"
            say(f"   shipping {delivery.message.key} attempt {delivery.attempt}: {type(error).__name__}: {error} "
                f"-> {then}")
            raise

    return handle


def drain(broker: EmbeddedBroker, shipping: Shipping) -> None:
    router = Router(broker.subscriber(TOPIC, GROUP), compose(shipping.book, retry(POLICY), logged))
    router.run_until_idle(idle_timeout=POLICY.max_delay + 0.2)  # longer than any retry delay: retries included
    router.subscriber.close()


def show(dlq: DeadLetterQueue) -> None:
    letters = dlq.list()
    say(f"   DLQ of {TOPIC}/{GROUP}: {len(letters)} message(s)")
    for letter in letters:
        r = letter.reason
        assert r is not None  # the retry middleware always says why
        say(f"   - {letter.message.key} {letter.message.type}: {r.error_type}: {r.error_message} after "
            f"{r.attempts} attempt(s), from {r.original_source}")


def order(order_id: str, body: dict[str, object] | None = None) -> Message:
    payload = b"{order_id: ord-2" if body is None else json.dumps({"order_id": order_id, **body}).encode()
    return Message.new("OrderPlaced", payload, source="/services/order", key=order_id)


def main() -> int:
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the demo prints each attempt itself; the middleware's log would repeat it
    try:
        return _main()
    finally:
        logging.disable(previous)  # a caller's logging (a test run importing the demo) is left as it was


def _main() -> int:
    problems: list[str] = []

    def check(ok: bool, problem: str) -> None:
        if not ok:
            problems.append(problem)

    with tempfile.TemporaryDirectory(prefix="edakit-dlq-") as tmp:
        path = Path(tmp) / "broker.sqlite3"
        broker = EmbeddedBroker(path)
        broker.create_group(TOPIC, GROUP)
        publisher = broker.publisher()
        publisher.publish(TOPIC, [order("ord-1", {"address": {"country": "FR"}}), order("ord-2"),
                                  order("ord-3", {"address": {"city": "Lyon"}}),
                                  order("ord-4", {"address": {"country": "NL"}})])
        publisher.close()
        shipping = Shipping()

        say(f"1. four orders reach group {GROUP!r} (up to {POLICY.max_attempts} attempts, backoff with jitter)")
        drain(broker, shipping)
        check(sorted(shipping.shipments) == ["ord-1", "ord-4"],
              f"expected ord-1 and ord-4 shipped, got {shipping.shipments}")

        say("\n2. the DLQ, as `edakit dlq ls` shows it")
        dlq = DeadLetterQueue(broker, TOPIC, GROUP, wait=0.1)
        show(dlq)
        say(f"   (the same from a shell: edakit dlq ls --broker embedded:{path} --topic {TOPIC} --group {GROUP})")
        reasons = {letter.message.key: (letter.reason.error_type, letter.reason.attempts)
                   for letter in dlq.list() if letter.reason}
        check(reasons == {"ord-2": ("JSONDecodeError", 1), "ord-3": ("KeyError", 3)},
              f"expected ord-2 (JSONDecodeError, 1 attempt) and ord-3 (KeyError, 3 attempts) in the DLQ, got "
              f"{reasons}")

        say("\n3. the bug is fixed (a missing country falls back to DE); replay the KeyError letters")
        shipping.fixed = True
        replayed = dlq.replay(Selection(error_type="KeyError"))
        say(f"   replayed {len(replayed.done)} ({', '.join(str(d.message.key) for d in replayed.done)}), "
            f"kept {replayed.kept} in the DLQ")
        drain(broker, shipping)
        show(dlq)
        purged = dlq.purge(Selection(error_type="JSONDecodeError"))
        say(f"   purged {len(purged.done)} poison message(s): "
            f"{', '.join(str(d.message.key) for d in purged.done)} - it can never be shipped")
        show(dlq)
        check(len(replayed.done) == 1 and replayed.kept == 1, "expected 1 letter replayed and 1 kept")
        check(dlq.list() == [], "the DLQ is not empty at the end")

    check(sorted(shipping.shipments) == ["ord-1", "ord-3", "ord-4"],
          f"expected ord-1, ord-3 and ord-4 shipped once each, got {shipping.shipments}")
    for problem in problems:
        say(f"FAIL: {problem}")
    say("\nDLQ + retry + redrive: " + ("FAIL" if problems else
        "PASS: the timeout was retried, the poison and the bug were dead-lettered with their reasons, the fixed "
        "order was redriven and shipped once"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
