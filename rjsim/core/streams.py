"""Named random streams: the only place rjsim makes random number generators.

Every stochastic source draws from its own generator, named by what it is (e.g.
``("demand", "E23000036", "violence")``) and derived from (seed, replication, name) through a
stable hash, never by position. Adding a source never re-seeds another; the same seed gives the
same numbers serially, in parallel or on any executor; and two scenarios that differ only in
capacity see identical demand and identical per-case draws (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(*name: str) -> tuple[int, ...]:
    """Four 32-bit words from a BLAKE2b hash of the joined name (stable across runs)."""
    digest = hashlib.blake2b("/".join(name).encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


class Streams:
    """Factory of named generators for one (seed, replication)."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def rng(self, *name: str) -> np.random.Generator:
        """A fresh generator for the named source; the same name always gives the same draws."""
        seq = np.random.SeedSequence(entropy=self.seed,
                                     spawn_key=(self.replication, *stream_key(*name)))
        return np.random.Generator(np.random.PCG64(seq))
