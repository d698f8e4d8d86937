"""The crash sweep (issue: reliability sweeps), for the points the harness can kill at today: every
process the kernel starts (a venv creation, an installer, a probe, a freeze) and every restart of the
chain. For each main flow, a clean run lists those points; then, for each point, the flow is run again
with the process killed just before it, in the middle of it (for a tool with steps) and just after it,
and once more without any fault. The run after the kill must exit 0 and leave the same observable end
state as the clean run: the repo's committed files (kernel copy, configs, constraints), the `lconf` link,
the venv's installed distributions and the stamp's inputs; and no kill may leave a committed file
half-written or lost.

Not covered yet (said in docs/reliability.md): kills at the filesystem operations themselves (a write, a
rename), which need fault points in the fake filesystem, and injected errors (ENOSPC, EACCES).
"""

import os
import shlex
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import pytest

from protoprimer_harness.world import World

KILL_MOMENTS = ("before", "during", "after")
# stamp records that differ between any two builds (who built it, file signatures), not inputs
VOLATILE_STAMP_KEYS = ("built_by", "venv_python_sig", "python_found_sig", "protoprimer_before")
PYPROJECT_WITH_A_DEPENDENCY = """\
[project]
name = "client"
version = "0.0.0"
dependencies = ["requests>=2"]
"""


@dataclass(frozen=True)
class Flow:
    """A main flow: a world, the runs that bring it to its starting state, and the command swept."""

    name: str
    build: Callable[[], World]
    setup: Tuple[str, ...]
    command: str
    edit: Dict[str, str]


def _min_world() -> World:
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main("client.main:main", "report")
    world.add_package("requests", "2.31.0")
    return world


def _uv_world() -> World:
    return _min_world().set_env(PROTOPRIMER_VENV_DRIVER="venv_uv")


def _max_world() -> World:
    world = (World().apply_layout("max").add_interpreter("python3", "3.11.7").add_interpreter("python3.12", "3.12.4")
             .add_main("client.main:main", "report"))
    return world


FLOWS = [
    Flow("cold boot (pip)", _min_world, (), "./prime", {}),
    Flow("cold boot (uv)", _uv_world, (), "./prime", {}),
    Flow("boot after a changed pyproject", _min_world, ("./prime",), "./prime",
         {"pyproject.toml": PYPROJECT_WITH_A_DEPENDENCY}),
    Flow("reset", _min_world, ("./prime",), "./prime reset", {}),
    Flow("--env switch to an env with its own venv", _max_world, ("./prime",), "./prime --env dst/special_env", {}),
    Flow("start_app", _min_world, ("./prime", "./proto_kernel.py wrap start_app -s cmd/app -m client.main:main"),
         "./cmd/app", {}),
]


def _prepared(flow: Flow, fault=None):
    session = flow.build().activate()
    try:
        for command in flow.setup:
            session.run(command).assert_exit(0)
        for path, text in flow.edit.items():
            with open(session.path(path), "w") as f:
                f.write(text)
        if fault is not None:  # from the swept run on: the setup runs ran the same commands
            session.add_fault(fault[0], die=fault[1], times=1)
    except BaseException:
        session.close()
        raise
    return session


def _end_state(session, outcome) -> Dict[str, object]:
    """What the user can observe after the flow: committed files, the link, the venv's distributions and
    the stamp's inputs (`outcome.files` is the snapshot at the end of the run)."""
    root = session.root
    files = outcome.files
    state: Dict[str, object] = {}
    for path, entry in sorted(files.items()):
        rel = os.path.relpath(path, root)
        if rel.startswith(("log", "tmp", "cache", "venv")) or rel.startswith(".."):
            continue
        if entry.kind == "file" and rel.endswith("__pycache__"):
            continue
        state[rel] = (entry.kind, entry.data, entry.target)
    for venv in sorted({os.path.relpath(p, root).split(os.sep)[0] for p in files
                        if os.path.relpath(p, root).startswith("venv")}):
        site = [os.path.relpath(p, root) for p in files if "/site-packages/" in p and p.endswith(".dist-info")
                and os.path.relpath(p, root).startswith(venv + os.sep)]
        state[venv + " dists"] = sorted(os.path.basename(p) for p in site)
        stamp = files.get(os.path.join(root, venv, "protoprimer.stamp"))
        if stamp is not None:
            lines = [line for line in stamp.text().splitlines()
                     if line and not line.startswith("#") and line.split("=", 1)[0] not in VOLATILE_STAMP_KEYS]
            state[venv + " stamp"] = lines
    return state


def _points(outcome) -> List[str]:
    """The commands and restarts of a run, as fault patterns (the shlex-joined argv)."""
    points = [command.full_line for command in outcome.commands]
    points += [shlex.join(process.exec_argv) for process in outcome.processes[1:] if process.exec_argv]
    return points


def _clean(flow: Flow):
    session = _prepared(flow)
    try:
        outcome = session.run(flow.command)
        outcome.assert_exit(0)
        return _points(outcome), _end_state(session, outcome)
    finally:
        session.close()


CASES = []
for _flow in FLOWS:
    for _point in _clean(_flow)[0]:
        for _moment in KILL_MOMENTS:
            CASES.append(pytest.param(_flow, _point, _moment, id="%s|%s|%s" % (_flow.name, _moment, _point[:60])))


@pytest.mark.parametrize("flow, point, moment", CASES)
def test_a_run_killed_at_any_point_is_healed_by_the_next(flow, point, moment):
    # given: the flow killed at the point
    _, expected = _clean(flow)
    session = _prepared(flow, fault=(point, moment))
    try:
        killed = session.run(flow.command)
        committed = {path: entry for path, entry in killed.files.items() if path.endswith(("constraints.txt", ".json"))}
        for path, entry in committed.items():
            assert entry.kind == "file" and entry.data is not None, "%s half-written after the kill" % path
        # when: the same command without the fault
        healed = session.run(flow.command)
        # then
        healed.assert_exit(0)
        assert _end_state(session, healed) == expected
    finally:
        session.close()


def test_the_sweep_covers_every_flow_and_counts_its_points(capsys):
    by_flow = {}
    for case in CASES:
        by_flow[case.values[0].name] = by_flow.get(case.values[0].name, 0) + 1
    with capsys.disabled():
        print("\ncrash sweep: %d kill points over %d flows: %s" % (
            len(CASES), len(by_flow), ", ".join("%s %d" % item for item in by_flow.items())))
    assert set(by_flow) == {flow.name for flow in FLOWS}
