"""A projector process for the fault test: projects an Orders store into an SQLite query database until killed,
or, with "drain", until caught up."""

from __future__ import annotations

import sys
import time

from edakit.es.orders import Orders, OrderSummaries
from edakit.es.projection import Projector, open_view
from edakit.es.store import store_env

if __name__ == "__main__":
    store_url, query_url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    projector = Projector(Orders(env=store_env(store_url)), open_view(OrderSummaries, query_url), batch_size=7)
    print("ready", flush=True)
    while projector.run_once() or mode != "drain":
        time.sleep(0.005)
