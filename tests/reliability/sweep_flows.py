"""The main flows the reliability sweeps interrupt (tests/reliability/test_crash_sweep.py,
test_error_sweep.py), the clean run of each (its points and end state, computed once per test process) and
the end state a run is compared by. docs/reliability.md says what is swept and why.
"""

import os
import shlex
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from protoprimer_harness.world import World

# stamp records that differ between any two builds (who built it, file signatures), not inputs
VOLATILE_STAMP_KEYS = ("built_by", "venv_python_sig", "python_found_sig", "protoprimer_before")
PYPROJECT_WITH_A_DEPENDENCY = """\
[project]
name = "client"
version = "0.0.0"
dependencies = ["requests>=2"]
"""
# The filesystem operations that write (the error sweep injects ENOSPC, EACCES, EROFS there).
WRITE_OPS = ("write_text", "append_text", "make_symlink", "make_dirs")


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
    Flow("start_app", _min_world, ("./prime", "./proto_kernel.py wrap --plain start_app -s cmd/app -m client.main:main"),
         "./cmd/app", {}),
    Flow("warm boot through the shell front (its record)", _min_world,
         ("./proto_kernel.py wrap boot_env --force -s prime -m client.main:main", "./prime"), "./prime", {}),
]


@dataclass(frozen=True)
class CommandPoint:
    """A process the kernel starts (`line`: the shlex-joined argv, a fault's `command`); `restart`: a
    replacement of the process (a restart of the chain), not a `run`."""

    line: str
    restart: bool = False

    def fault(self) -> Dict[str, object]:
        return {"command": self.line}

    def describe(self) -> str:
        return ("restart " if self.restart else "") + self.line


@dataclass(frozen=True)
class FsPoint:
    """A filesystem operation of the clean run: `op` on `path` (for move/copy the source; `dst` the
    destination), the `skip`+1-th call of that op on that path in the run."""

    op: str
    path: str
    dst: Optional[str] = None
    skip: int = 0

    def fault(self) -> Dict[str, object]:
        return {"fs_op": self.op, "path": self.path, "skip": self.skip}

    def describe(self, root: str = "/repo") -> str:
        where = self.path if self.dst is None else "%s -> %s" % (self.path, self.dst)
        where = where.replace(root + "/", "")
        return "%s %s%s" % (self.op, where, " (#%d)" % (self.skip + 1) if self.skip else "")


@dataclass(frozen=True)
class CleanRun:
    """What the clean run of a flow did: its command points (commands then restarts), every call of the
    filesystem port that changes files (in order) and its end state."""

    commands: Tuple[CommandPoint, ...]
    fs_ops: Tuple[FsPoint, ...]
    state: Dict[str, object]

    def fs_points(self) -> Tuple[FsPoint, ...]:
        """The filesystem points the sweeps use: each operation at each distinct path once (its first
        call). The later calls left out are, in these flows, the stamp's second write (after the freeze:
        the kill after the freeze or the constraints write before it, and the kill before the first append
        to the file log after it, are swept) and the appends to the file log at the end of each later
        process of the chain (the log is not part of the end state)."""
        return tuple(point for point in self.fs_ops if point.skip == 0)


def prepared(flow: Flow, **fault):
    """A session of the flow's world brought to its starting state; `fault` (World.add_fault's keywords)
    is a fault point from the swept run on (the setup runs ran the same commands and operations)."""
    session = flow.build().activate()
    try:
        for command in flow.setup:
            session.run(command).assert_exit(0)
        for path, text in flow.edit.items():
            with open(session.path(path), "w") as f:
                f.write(text)
        if fault:
            session.add_fault(times=1, **fault)
    except BaseException:
        session.close()
        raise
    return session


def end_state(session, outcome) -> Dict[str, object]:
    """What the user can observe after the flow: committed files, the link, the `.gitignore` files that keep
    the directories the kernel makes (log, tmp, cache, the venvs) out of git, the venv's distributions and
    the stamp's inputs (`outcome.files` is the snapshot at the end of the run)."""
    root = session.root
    files = outcome.files
    state: Dict[str, object] = {}
    for path, entry in sorted(files.items()):
        rel = os.path.relpath(path, root)
        if rel.startswith("..") or "/site-packages/" in path:
            continue
        if rel.startswith(("log", "tmp", "cache", "venv")) and not (
                rel.endswith("/.gitignore") and rel.count(os.sep) == 1):
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


def state_differences(expected: Dict[str, object], actual: Dict[str, object]) -> str:
    """What differs between two end states, one line per key: what the healed run lacks, has more, or has
    otherwise."""
    lines = ["the end state differs from the clean run's:"]
    for key in sorted(set(expected) | set(actual)):
        if key not in actual:
            lines.append("  missing: %s" % key)
        elif key not in expected:
            lines.append("  extra: %s" % key)
        elif actual[key] != expected[key]:
            lines.append("  differs: %s (%.200r, expected %.200r)" % (key, actual[key], expected[key]))
    return "\n".join(lines)


def assert_heals(session, flow: Flow, expected: Dict[str, object]) -> None:
    """The flow's command run again without the fault exits 0 and ends in the clean run's state."""
    healed = session.run(flow.command)
    healed.assert_exit(0)
    healed_state = end_state(session, healed)
    assert healed_state == expected, state_differences(expected, healed_state)


def half_written(outcome) -> List[str]:
    """The committed files (constraints, JSON configs) that a run left without their data."""
    return sorted(path for path, entry in outcome.files.items() if path.endswith(("constraints.txt", ".json"))
                  and (entry.kind != "file" or entry.data is None))


def _command_points(outcome) -> Tuple[CommandPoint, ...]:
    points = [CommandPoint(command.full_line) for command in outcome.commands]
    points += [CommandPoint(shlex.join(process.exec_argv), restart=True)
               for process in outcome.processes[1:] if process.exec_argv]
    return tuple(points)


def _fs_points(outcome) -> Tuple[FsPoint, ...]:
    """Every filesystem operation of the run, each with how many calls of the same op on the same path
    (its source or destination, as a fault's path matches) came before it."""
    points = []
    for index, record in enumerate(outcome.fs_ops):
        skip = sum(1 for earlier in outcome.fs_ops[:index]
                   if earlier.op == record.op and record.path in (earlier.path, earlier.dst))
        points.append(FsPoint(record.op, record.path, record.dst, skip))
    return tuple(points)


_CLEAN: Dict[Tuple[str, int], CleanRun] = {}


def _kernel_source_key() -> int:
    """The kernel source a session copies into its world is read from disk when it starts: a clean run is
    reused only while that source is the same (an edit of the kernel during a long test run would make
    every later end state differ from the one cached before it)."""
    from protoprimer import primer_kernel

    with open(primer_kernel.__file__, "rb") as f:
        return hash(f.read())


def clean_run(flow: Flow) -> CleanRun:
    """The flow run without a fault (once per test process and kernel source)."""
    key = (flow.name, _kernel_source_key())
    if key not in _CLEAN:
        session = prepared(flow)
        try:
            outcome = session.run(flow.command)
            outcome.assert_exit(0)
            _CLEAN[key] = CleanRun(_command_points(outcome), _fs_points(outcome), end_state(session, outcome))
        finally:
            session.close()
    return _CLEAN[key]
