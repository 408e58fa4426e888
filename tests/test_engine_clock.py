"""The engine's clock: plain calls scheduled on :class:`rjsim.model.engine.Clock` run in
exactly the order SimPy would run timeouts with the same callbacks (time, priority, then the
order scheduled), interleaved with ordinary SimPy events, and ``run(until=...)`` stops before
anything due at the horizon."""

from __future__ import annotations

from collections.abc import Callable

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from rjsim.model.engine import Clock

# Each step: (delay, schedule it as a plain call rather than a timeout, delays it schedules
# when it runs). Delays are drawn from a few values so that ties are common.
DELAYS = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0])
STEPS = st.lists(st.tuples(DELAYS, st.booleans(), st.lists(DELAYS, max_size=2)), min_size=1,
                 max_size=12)


def _trace(env: simpy.Environment, steps: list[tuple[float, bool, list[float]]],
           schedule: Callable[[simpy.Environment, float, bool, Callable[[object], None]], None],
           until: float) -> list[tuple[float, int]]:
    """Run ``steps`` (each may schedule more) and return (time, step) in the order run."""
    order: list[tuple[float, int]] = []
    counter = iter(range(10_000))

    def plant(delay: float, as_call: bool, children: list[float]) -> None:
        label = next(counter)

        def fire(_: object) -> None:
            order.append((env.now, label))
            for i, d in enumerate(children):
                plant(d, (label + i) % 2 == 0, [] if label > 20 else children[:1])
        schedule(env, delay, as_call, fire)

    for delay, as_call, children in steps:
        plant(delay, as_call, children)
    env.run(until=until)
    return order


def _timeouts(env: simpy.Environment, delay: float, _: bool,
              fire: Callable[[object], None]) -> None:
    env.timeout(delay).callbacks.append(fire)


def _mixed(env: simpy.Environment, delay: float, as_call: bool,
           fire: Callable[[object], None]) -> None:
    if as_call and isinstance(env, Clock):
        env.call_in(delay, fire)
    else:
        env.timeout(delay).callbacks.append(fire)


@settings(max_examples=200, deadline=None)
@given(STEPS, st.sampled_from([1.0, 2.0, 3.5]))
def test_calls_run_in_simpys_order_among_timeouts(
        steps: list[tuple[float, bool, list[float]]], until: float) -> None:
    expected = _trace(simpy.Environment(), steps, _timeouts, until)
    assert _trace(Clock(), steps, _mixed, until) == expected
    assert all(t < until for t, _ in expected)  # nothing due at the horizon itself ran


def test_peek_sees_calls_and_events() -> None:
    env = Clock()
    assert env.peek() == float("inf")
    env.call_in(2.0, lambda _: None)
    assert env.peek() == 2.0
    env.timeout(1.0)
    assert env.peek() == 1.0
    env.run()
    assert env.now == 2.0
