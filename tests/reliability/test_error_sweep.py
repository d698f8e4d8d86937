"""The error sweep (issue 9: reliability sweeps): at the points of the crash sweep (test_crash_sweep.py),
an error instead of a kill, for each main flow (tests/reliability/sweep_flows.py).

- Every write point of the clean run (write_text, append_text, make_symlink, make_dirs; each operation at
  each distinct path once, as in the crash sweep) fails with an OSError: ENOSPC, EACCES or EROFS. To keep
  the reliability tier near a minute, each point gets one of the three in turn per kind of write, over all
  flows (the first make_dirs ENOSPC, the second EACCES, the third EROFS, the fourth ENOSPC, ...), so each
  errno meets each kind of write several times; a kind with fewer points than errnos (make_symlink: the
  `lconf` link of the --env switch) gets all three. The kernel handles the three on one path (an OSError);
  only the reason in its message differs.
- Every command the kernel runs exits 1 with a line on stderr. Not the restarts of the chain: a restart
  that exits 1 is the new process's own exit code, with nothing of the kernel left to report it. start_app
  has no point here: it writes nothing and runs no command, its one point is its restart.

The faulted run must end with exactly one `ERROR` message that names the operation's path (a failed tool:
its command line; a failed probe: the interpreter), a documented exit code (docs/exit-codes.md: 10 for a
file that cannot be written, 6 for a failed tool, 5 when a probed candidate interpreter does not run), and
no traceback. Two exceptions, by design: the file log and the venv's record for the entry script's fast
path are best-effort, so a failed write to them costs one `WARNING` naming it and the run goes on (exit 0). The next run, without the fault, must heal: exit 0 and
the clean run's end state.
"""

import fnmatch
import shlex
from typing import Dict, List, Tuple

import pytest

from sweep_flows import FLOWS, WRITE_OPS, CommandPoint, Flow, FsPoint, assert_heals, clean_run, prepared

ERRNOS = ("ENOSPC", "EACCES", "EROFS")
FILE_ERROR_EXIT = 10
TOOL_ERROR_EXIT = 6
# A probe that fails means the interpreter does not run: 5 (no interpreter matches) for a candidate of the
# required version, 6 for the python of a venv just created.
PROBE_ERROR_EXITS = (5, 6)
# What starts a new record on stderr (not the continuation of a message).
RECORD_STARTS = ("ERROR ", "WARNING ", "INFO ", "DEBUG ", "CRITICAL ", "FAILURE ", "SUCCESS ", "protoprimer: ")
TOOL_STDERR = "simulated failure of the tool\n"
# The file log and the venv's record for the entry script's fast path are best-effort (docs/reliability.md):
# one that cannot be written costs one WARNING naming it, and the run goes on.
BEST_EFFORT = (("append_text", "*/log/*.log"), ("write_text", "*/protoprimer.fast"))


def _cases():
    cases = []
    writes = [point for flow in FLOWS for point in clean_run(flow).fs_points() if point.op in WRITE_OPS]
    per_op = {op: sum(1 for point in writes if point.op == op) for op in WRITE_OPS}
    turn = {op: 0 for op in WRITE_OPS}
    for flow in FLOWS:
        for point in clean_run(flow).fs_points():
            if point.op not in WRITE_OPS:
                continue
            if per_op[point.op] < len(ERRNOS):  # too few points for each errno to have its turn: all of them
                errno_names = ERRNOS
            else:
                errno_names = (ERRNOS[turn[point.op] % len(ERRNOS)],)
                turn[point.op] += 1
            for errno_name in errno_names:
                cases.append(pytest.param(flow, point, errno_name, id="%s|%s|%s" % (
                    flow.name, errno_name, point.describe()[:70])))
        for point in clean_run(flow).commands:
            if not point.restart:
                cases.append(pytest.param(flow, point, "exit 1", id="%s|exit 1|%s" % (
                    flow.name, point.describe()[:70])))
    return cases


CASES = _cases()


def _messages(stderr: str, level: str) -> List[str]:
    """The messages of `level` on stderr: a line starting with the level and the lines that continue it
    (up to the next record or the exit line)."""
    messages: List[str] = []
    current = None
    for line in stderr.splitlines():
        if line.startswith(level + " "):
            current = [line]
            messages.append("")
        elif current is not None and line and not line.startswith(RECORD_STARTS):
            current.append(line)
        else:
            current = None
        if current is not None:
            messages[-1] = "\n".join(current)
    return messages


def _is_best_effort(point) -> bool:
    return isinstance(point, FsPoint) and any(point.op == op and fnmatch.fnmatchcase(point.path, pattern)
                                               for op, pattern in BEST_EFFORT)


def _expected(point, error: str) -> Tuple[Dict[str, object], Tuple[int, ...], str, str]:
    """The fault for the point, the exit codes documented for it, the level of its one message and what
    that message must name."""
    if isinstance(point, FsPoint):
        if _is_best_effort(point):
            return dict(point.fault(), error=error), (0,), "WARNING", point.path
        return dict(point.fault(), error=error), (FILE_ERROR_EXIT,), "ERROR", point.path
    assert isinstance(point, CommandPoint)
    fault = dict(point.fault(), exit=1, stderr=TOOL_STDERR)
    if " -c " in point.line:  # a probe: the kernel names the interpreter that does not run
        return fault, PROBE_ERROR_EXITS, "ERROR", shlex.split(point.line)[0]
    return fault, (TOOL_ERROR_EXIT,), "ERROR", point.line


@pytest.mark.parametrize("flow, point, error", CASES)
def test_an_error_at_any_point_is_one_message_and_the_next_run_heals(flow: Flow, point, error: str):
    # given: the flow with the error at the point
    expected = clean_run(flow).state
    fault, codes, level, named = _expected(point, error)
    session = prepared(flow, **fault)
    try:
        # when
        failed = session.run(flow.command)
        # then: one ERROR naming the path (or the command), a documented code, no traceback
        assert failed.faults, "the fault did not fire"
        assert "Traceback" not in failed.stderr, failed.stderr
        messages = _messages(failed.stderr, "ERROR")
        if level == "ERROR":
            assert len(messages) == 1, "expected one ERROR message, got %d:\n%s" % (len(messages), failed.stderr)
        else:
            assert messages == [], "expected no ERROR message:\n%s" % failed.stderr
            messages = [m for m in _messages(failed.stderr, level) if named in m]
            assert len(messages) == 1, "expected one %s naming %s:\n%s" % (level, named, failed.stderr)
        assert named in messages[0], "the %s message does not name %s:\n%s" % (level, named, messages[0])
        assert failed.exit_code in codes, "exit %d, not %s:\n%s" % (
            failed.exit_code, " or ".join(map(str, codes)), failed.stderr)
        # when, then: the same command without the fault heals
        assert_heals(session, flow, expected)
    finally:
        session.close()


def test_the_sweep_covers_every_flow_and_counts_its_points(capsys):
    by_flow: Dict[str, Dict[str, int]] = {}
    for case in CASES:
        counts = by_flow.setdefault(case.values[0].name, {"writes": 0, "commands": 0})
        counts["writes" if isinstance(case.values[1], FsPoint) else "commands"] += 1
    with capsys.disabled():
        print("\nerror sweep: %d points over %d flows: %s" % (len(CASES), len(by_flow), ", ".join(
            "%s %d+%d" % (name, counts["writes"], counts["commands"]) for name, counts in by_flow.items())))
    # start_app writes nothing and runs no command: its one point is the restart into the venv
    assert set(by_flow) == {flow.name for flow in FLOWS if flow.name != "start_app"}
