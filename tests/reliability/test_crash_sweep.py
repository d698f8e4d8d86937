"""The crash sweep (issue 9: reliability sweeps). For each main flow (tests/reliability/sweep_flows.py), a
clean run lists its kill points:

- every process the kernel starts (a venv creation, an installer, a probe, a freeze) and every restart of
  the chain, killed just before it, in the middle of it (for a tool with steps) and just after it;
- every filesystem operation that changes files (a write, a link, an append, a directory creation, a
  removal, a move, a copy), killed just before it (nothing done) and just after it (its effect done). To
  keep the reliability tier near a minute, each operation at each distinct path once (its first call).
  The later calls left out are the stamp's second write, after the install (the points on either side of
  it, the kill after the freeze or the constraints write and the kill before the first append to the file
  log, are swept), and the appends to the file log of the later processes of the chain (the log is not
  part of the end state).

For each point the flow is run again with the process killed there, and once more without any fault. The
killed run must have reached the point (it was killed: exit 137) and left no committed file half-written;
the run after it must exit 0 and leave the same observable end state as the clean run: the repo's
committed files (kernel copy, configs, constraints), the `lconf` link, the `.gitignore` of each directory
the kernel makes, the venv's installed distributions and the stamp's inputs. Injected errors (ENOSPC, a
failing tool) are test_error_sweep.py's.
"""

from typing import Dict

import pytest

from sweep_flows import FLOWS, Flow, assert_heals, clean_run, half_written, prepared

COMMAND_KILL_MOMENTS = ("before", "during", "after")
FS_KILL_MOMENTS = ("before", "after")


def _cases():
    cases = []
    for flow in FLOWS:
        clean = clean_run(flow)
        for point in clean.commands:
            for moment in COMMAND_KILL_MOMENTS:
                cases.append(pytest.param(flow, point, moment, id="%s|%s|%s" % (
                    flow.name, moment, point.describe()[:60])))
        for point in clean.fs_points():
            for moment in FS_KILL_MOMENTS:
                cases.append(pytest.param(flow, point, moment, id="%s|%s|%s" % (
                    flow.name, moment, point.describe()[:70])))
    return cases


CASES = _cases()


@pytest.mark.parametrize("flow, point, moment", CASES)
def test_a_run_killed_at_any_point_is_healed_by_the_next(flow: Flow, point, moment: str):
    # given: the flow killed at the point
    expected = clean_run(flow).state
    session = prepared(flow, die=moment, **point.fault())
    try:
        killed = session.run(flow.command)
        killed.assert_killed()
        assert half_written(killed) == [], "half-written after the kill"
        # when, then: the same command without the fault heals
        assert_heals(session, flow, expected)
    finally:
        session.close()


def test_the_sweep_covers_every_flow_and_counts_its_points(capsys):
    by_flow: Dict[str, Dict[str, int]] = {}
    for case in CASES:
        counts = by_flow.setdefault(case.values[0].name, {"commands": 0, "fs": 0})
        counts["fs" if hasattr(case.values[1], "op") else "commands"] += 1
    with capsys.disabled():
        print("\ncrash sweep: %d kill points over %d flows: %s" % (len(CASES), len(by_flow), ", ".join(
            "%s %d+%d" % (name, counts["commands"], counts["fs"]) for name, counts in by_flow.items())))
    assert set(by_flow) == {flow.name for flow in FLOWS}
    assert all(counts["fs"] for name, counts in by_flow.items() if name != "start_app")
