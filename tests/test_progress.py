"""The progress state machine behind the progress actor."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import ScanStatus
from engine.runtime.progress import ProgressState


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


events = st.lists(st.tuples(st.sampled_from(["finish", "start", "restore", "hb", "account", "tick"]),
                            st.integers(min_value=0, max_value=30),
                            st.floats(min_value=0.0, max_value=5.0)), max_size=120)


@settings(max_examples=200, deadline=None)
@given(costs=st.lists(st.floats(min_value=0.01, max_value=50.0), min_size=1, max_size=25), evs=events,
       final=st.sampled_from([ScanStatus.COMPLETED, ScanStatus.PARTIAL, ScanStatus.CANCELLED]))
def test_percent_never_decreases_and_completion_reaches_100(costs, evs, final):
    """Property: progress monotonicity — for any order of unit reports (repeats, unknown keys,
    restored units, heartbeats), percent never decreases, versions only grow, the ETA is None until
    a unit finished in this run, and a completed scan ends at 100."""
    clock = FakeClock()
    keys = [f"{i:012d}/us-east-1/ec2" for i in range(len(costs))]
    p = ProgressState("s", list(zip(keys, costs, strict=False)), clock=clock)
    p.start()
    last_pct, last_ver = p.percent, p.version
    for kind, idx, dt in evs:
        clock.t += dt
        key = keys[idx] if idx < len(keys) else f"999999999999/x/{idx}"
        if kind == "finish":
            p.unit_finished(key, {"high": 1})
        elif kind == "restore":
            p.unit_finished(key, None, restored=True)
        elif kind == "start":
            p.unit_started(key)
        elif kind == "hb":
            p.heartbeat()
        elif kind == "account":
            p.account_update("111111111111", "running")
        snap = p.snapshot()
        assert snap["percent"] >= last_pct and snap["version"] >= last_ver
        assert 0.0 <= snap["percent"] <= 100.0
        assert snap["done_units"] <= snap["total_units"]
        if p.run_cost == 0:
            assert snap["eta_seconds"] is None
        last_pct, last_ver = snap["percent"], snap["version"]
    for k in keys:
        p.unit_finished(k)
    assert p.percent == 100.0
    p.finish(final)
    assert p.snapshot()["percent"] >= last_pct
    if final is ScanStatus.COMPLETED:
        assert p.snapshot()["percent"] == 100.0
    assert p.snapshot()["eta_seconds"] is None


def test_eta_estimates_remaining_work_from_this_runs_rate():
    clock = FakeClock()
    p = ProgressState("s", [("a/r/x", 1.0), ("b/r/x", 1.0), ("c/r/x", 2.0)], clock=clock)
    p.start()
    assert p.eta_seconds() is None
    clock.t = 10.0
    p.unit_finished("a/r/x")
    assert p.eta_seconds() == 30.0  # 1 cost unit per 10 s; 3 left
    p.unit_finished("b/r/x", restored=True)  # restored work does not speed up the estimate
    assert p.eta_seconds() == 20.0


def test_severity_counts_accumulate_and_repeated_reports_count_once():
    p = ProgressState("s", [("a/r/x", 1.0), ("b/r/x", 1.0)])
    p.start()
    p.unit_finished("a/r/x", {"critical": 2, "low": 1})
    p.unit_finished("a/r/x", {"critical": 2, "low": 1})
    p.unit_finished("b/r/x", {"critical": 1})
    assert p.counts["critical"] == 3 and p.counts["low"] == 1
    assert p.snapshot()["done_units"] == 2


def test_reports_after_the_scan_ended_change_nothing():
    p = ProgressState("s", [("a/r/x", 1.0), ("b/r/x", 1.0)])
    p.start()
    p.finish(ScanStatus.CANCELLED)
    v = p.version
    p.unit_finished("a/r/x")
    p.heartbeat()
    assert p.version == v and p.snapshot()["done_units"] == 0 and p.status is ScanStatus.CANCELLED
