"""A relay process for the fault tests: relays an Orders store to an embedded broker (topic "orders") until killed,
or, with "drain", until caught up."""

from __future__ import annotations

import sys
import threading

from edakit.es.orders import Orders
from edakit.es.relay import EventStoreRelay
from edakit.es.store import store_env
from edakit.runtime.adapters.embedded import EmbeddedBroker

if __name__ == "__main__":
    store_url, broker_path, batch_size, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    app = Orders(env=store_env(store_url))
    relay = EventStoreRelay(app, EmbeddedBroker(broker_path).publisher(), batch_size=batch_size,
                            topic_of=lambda event_type: "orders", poll_interval=0.02, standby_poll=0.05)
    if mode == "drain":
        relay.drain()
    else:
        relay.run(threading.Event(), on_active=lambda: print("active", flush=True))
