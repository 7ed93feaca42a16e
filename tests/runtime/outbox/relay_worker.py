"""A relay process for the fault test: relays a PostgreSQL outbox to an embedded broker until killed."""

from __future__ import annotations

import sys
import threading

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.outbox import PostgresOutbox, Relay

if __name__ == "__main__":
    dsn, broker_path, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    relay = Relay(PostgresOutbox(dsn), EmbeddedBroker(broker_path).publisher(), batch_size=batch_size,
                  poll_interval=0.2)
    print("ready", flush=True)
    sys.stdin.readline()  # the fault test says "go" to all relays at once, then kills each at a random moment
    relay.run(threading.Event())  # runs until SIGKILL/SIGTERM: the test is the only way it stops
