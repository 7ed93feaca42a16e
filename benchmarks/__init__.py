"""`make bench`: the kit's speed against the fastest honest baseline doing the same work (see benchmarks.harness).

Kept out of the edakit package, so services importing edakit.runtime never import the test-server launchers
(edakit.devservers) the benchmarks start. Run `python -m benchmarks [--only NAME[,NAME]] [--list]`.
"""
