"""``relevo bench``: fan-out benchmark of relevo against its peers.

A C load generator (``c/loadgen.c``) drives each server — relevo, the peers
installed by ``bench/install-peers.sh`` and a raw C limit server
(``c/rawserver.c``) — through the scenarios of ``docs/benchmarks.md``, with
the server pinned to core 1 and the generator to core 0.
"""

from relevo.bench.runner import main

__all__ = ["main"]
