"""Unit tests: named random streams (STYLE habit 1: no global randomness, names not positions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rjsim.core.streams import Streams, stream_key

NAME = ("demand", "E23000036", "violence")


def test_same_name_gives_identical_draws():
    a = Streams(7, 0).rng(*NAME).random(1000)
    b = Streams(7, 0).rng(*NAME).random(1000)
    assert np.array_equal(a, b)


def test_a_stream_requested_twice_restarts():
    s = Streams(7, 0)
    assert np.array_equal(s.rng(*NAME).random(10), s.rng(*NAME).random(10))


def test_different_names_seeds_and_replications_differ():
    base = Streams(7, 0).rng(*NAME).random(100)
    variants = [
        Streams(7, 0).rng("demand", "E23000036", "sexual"),
        Streams(7, 0).rng("demand", "E23000026", "violence"),
        Streams(7, 0).rng("delay", "E23000036", "violence"),
        Streams(8, 0).rng(*NAME),
        Streams(7, 1).rng(*NAME),
    ]
    for rng in variants:
        assert not np.any(rng.random(100) == base)


def test_draws_do_not_depend_on_the_order_streams_are_made():
    names = [("demand", "A", "violence"), ("delay", "A", "violence"), ("path", "A", "theft"),
             ("mode", "B", "hate")]
    forward = Streams(3, 2)
    first = {n: forward.rng(*n).random(20) for n in names}
    backward = Streams(3, 2)
    backward.rng("an", "extra", "stream").random(500)  # adding a source re-seeds nothing
    second = {n: backward.rng(*n).random(20) for n in reversed(names)}
    for n in names:
        assert np.array_equal(first[n], second[n]), n


def test_name_parts_are_not_ambiguous_with_the_same_characters_regrouped():
    assert stream_key("demand", "E1") != stream_key("demandE1")
    assert stream_key("a", "b") != stream_key("b", "a")


def test_stream_key_is_four_32_bit_words():
    key = stream_key(*NAME)
    assert len(key) == 4
    assert all(0 <= k < 2**32 for k in key)


def test_draws_are_stable_across_interpreters():
    """A name hashed with Python's salted ``hash`` would differ between processes."""
    code = ("from rjsim.core.streams import Streams; "
            "print(Streams(11, 3).rng('demand', 'E23000036', 'violence').integers(0, 2**62, 4))")
    root = Path(__file__).resolve().parents[1]
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True, cwd=root)
        outputs.add(done.stdout)
    here = str(Streams(11, 3).rng(*NAME).integers(0, 2**62, 4))
    assert outputs == {here + "\n"}


@settings(max_examples=400, deadline=None)
@given(seed=st.one_of(st.integers(0, 2**32 + 1), st.integers(0, 2**63), st.integers(0, 2**140)),
       replication=st.one_of(st.integers(0, 40), st.integers(0, 2**40)),
       name=st.lists(st.text(max_size=12), min_size=1, max_size=4))
@example(seed=0, replication=0, name=[""])
@example(seed=2**32 - 1, replication=2**32, name=["demand", "E23000036", "violence"])
def test_streams_are_seeded_exactly_as_numpy_seed_sequence(seed: int, replication: int,
                                                           name: list[str]) -> None:
    """Streams mixes the seed and replication once and each name's words later: the state it
    generates, and so every draw, is NumPy's SeedSequence's word for word."""
    numpy_seq = np.random.SeedSequence(entropy=seed, spawn_key=(replication, *stream_key(*name)))
    streams = Streams(seed, replication)
    ours = streams.seed_sequence(*name)
    for n_words, dtype in ((8, np.uint32), (4, np.uint64), (5, np.uint32), (3, np.uint64)):
        theirs, mine = numpy_seq.generate_state(n_words, dtype), ours.generate_state(n_words, dtype)
        assert mine.dtype == theirs.dtype
        assert np.array_equal(mine, theirs)
    expected = np.random.Generator(np.random.PCG64(numpy_seq)).integers(0, 2**63, 8)
    assert np.array_equal(streams.rng(*name).integers(0, 2**63, 8), expected)


def test_negative_seeds_are_refused_as_numpy_refuses_them() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1, 0)
    with pytest.raises(ValueError, match="non-negative"):
        np.random.SeedSequence(entropy=-1)
