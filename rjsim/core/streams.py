"""Named random streams: the only place rjsim makes random number generators.

Every stochastic source draws from its own generator, named by what it is (e.g.
``("demand", "E23000036", "violence")``) and derived from (seed, replication, name) through a
stable hash, never by position. Adding a source never re-seeds another; the same seed gives the
same numbers serially, in parallel or on any executor; and two scenarios that differ only in
capacity see identical demand and identical per-case draws (common random numbers).

Each generator is NumPy's PCG64 seeded exactly as by
``np.random.SeedSequence(entropy=seed, spawn_key=(replication, *stream_key(*name)))``. A
national replication makes thousands of them, and most of that seed sequence's work (mixing the
seed and the replication into its pool) is the same for all of a replication's streams, so
:class:`Streams` does it once and mixes in only each name's four words (:class:`_Pool`, NumPy's
SeedSequence algorithm on Python integers, checked word for word against NumPy's own by the
tests). The draws are bit-identical to NumPy's seeding; only the time to make a stream is less.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

_MASK = 0xFFFFFFFF
# NumPy's SeedSequence constants (M. E. O'Neill's seed_seq_fe): hashing of entropy into the
# pool, mixing of pool words, and hashing of the pool into the generated state.
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL_SIZE = 4
_KEY_WORDS = 4


@lru_cache(maxsize=1 << 15)
def stream_key(*name: str) -> tuple[int, ...]:
    """Four 32-bit words from a BLAKE2b hash of the joined name (stable across runs)."""
    digest = hashlib.blake2b("/".join(name).encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def _words(n: int) -> list[int]:
    """A non-negative integer as little-endian 32-bit words (0 is one word), as NumPy's
    SeedSequence reads its entropy and spawn key."""
    if n < 0:
        raise ValueError(f"random streams need non-negative integers, not {n}")
    out = [n & _MASK]
    n >>= 32
    while n:
        out.append(n & _MASK)
        n >>= 32
    return out


def _mix(x: int, y: int) -> int:
    r = (_MIX_L * x - _MIX_R * y) & _MASK
    return r ^ (r >> 16)


class _Pool:
    """NumPy's SeedSequence pool after the entropy words (the seed, zero-padded to the pool
    size, then the replication), and the hash constants its next four words will use."""

    def __init__(self, seed: int, replication: int) -> None:
        entropy = _words(seed)
        entropy += [0] * (_POOL_SIZE - len(entropy)) + _words(replication)
        h = _INIT_A

        def hashmix(v: int) -> int:
            nonlocal h
            v ^= h
            h = h * _MULT_A & _MASK
            v = v * h & _MASK
            return v ^ (v >> 16)

        pool = [hashmix(entropy[i]) for i in range(_POOL_SIZE)]
        for src in range(_POOL_SIZE):
            for dst in range(_POOL_SIZE):
                if src != dst:
                    pool[dst] = _mix(pool[dst], hashmix(pool[src]))
        for word in entropy[_POOL_SIZE:]:
            for dst in range(_POOL_SIZE):
                pool[dst] = _mix(pool[dst], hashmix(word))
        self.pool = tuple(pool)
        consts = []
        for _ in range(_POOL_SIZE * _KEY_WORDS):  # (xor, multiplier) of each later hashmix
            x, h = h, h * _MULT_A & _MASK
            consts.append((x, h))
        self.consts = tuple(consts)

    def with_key(self, key: tuple[int, ...]) -> tuple[int, int, int, int]:
        """The pool once the four words of a stream's key are mixed in."""
        p0, p1, p2, p3 = self.pool
        c, m = self.consts, _MASK
        for i, w in enumerate(key):  # mix(p, hashmix(w)) into each pool word, inlined
            (x0, m0), (x1, m1), (x2, m2), (x3, m3) = c[4 * i:4 * i + 4]
            v = (w ^ x0) * m0 & m
            r = (_MIX_L * p0 - _MIX_R * (v ^ (v >> 16))) & m
            p0 = r ^ (r >> 16)
            v = (w ^ x1) * m1 & m
            r = (_MIX_L * p1 - _MIX_R * (v ^ (v >> 16))) & m
            p1 = r ^ (r >> 16)
            v = (w ^ x2) * m2 & m
            r = (_MIX_L * p2 - _MIX_R * (v ^ (v >> 16))) & m
            p2 = r ^ (r >> 16)
            v = (w ^ x3) * m3 & m
            r = (_MIX_L * p3 - _MIX_R * (v ^ (v >> 16))) & m
            p3 = r ^ (r >> 16)
        return p0, p1, p2, p3


class _Seeded(ISeedSequence):
    """A seed sequence whose pool is already mixed: generates state as NumPy's does."""

    __slots__ = ("pool",)

    def __init__(self, pool: tuple[int, int, int, int]) -> None:
        self.pool = pool

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Any:
        wide = dtype is np.uint64 or np.dtype(dtype) == np.dtype(np.uint64)
        if not wide and np.dtype(dtype) != np.dtype(np.uint32):
            raise TypeError("only support uint32 or uint64")
        h, words, pool = _INIT_B, [], self.pool
        for i in range(2 * n_words if wide else n_words):
            v = pool[i % _POOL_SIZE] ^ h
            h = h * _MULT_B & _MASK
            v = v * h & _MASK
            words.append(v ^ (v >> 16))
        if wide:  # little-endian pairs of words, as NumPy assembles them
            return np.array([lo | hi << 32 for lo, hi in zip(words[::2], words[1::2], strict=True)],
                            dtype=np.uint64)
        return np.array(words, dtype=np.uint32)


class Streams:
    """Factory of named generators for one (seed, replication)."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._pool = _Pool(self.seed, self.replication)

    def seed_sequence(self, *name: str) -> ISeedSequence:
        """The seed sequence of the named source (NumPy's ``SeedSequence(entropy=seed,
        spawn_key=(replication, *stream_key(*name)))``, state for state)."""
        return _Seeded(self._pool.with_key(stream_key(*name)))

    def rng(self, *name: str) -> np.random.Generator:
        """A fresh generator for the named source; the same name always gives the same draws."""
        # NumPy's bit generators take any ISeedSequence (its documented interface); the
        # stubs name only SeedSequence
        seq = self.seed_sequence(*name)
        return np.random.Generator(np.random.PCG64(seq))  # type: ignore[arg-type]
