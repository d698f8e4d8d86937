"""The scenario model: what a loaded scenario file is, as plain data, and the world its `[given]` builds.

A `Scenario` has a `Given` (the world), a `RunSpec` (`[when]`, the command) and a `Then` (the
expectations; `Then` lives with its key table in protoprimer_harness._scenario_then, and so do the
sub-tables `[then.main]`, `[then.shell]` and `[then.command_env]`, read as the keyword arguments of the
Outcome assertion they are checked with). The world's parts are
the world's own spec types: `Interpreter`, `FileEntry` and `PackageSpec` (protoprimer_harness.world),
`FaultSpec` and `LockSpec` (protoprimer_harness._session_state); the types below are the ones only a scenario
has. Paths are kept as the file writes them (relative to the repo root, or absolute) with `{root}`
already expanded; `build_world` hands them to the `World` builders, which resolve them.

Loading never touches a world, and `build_world` never runs anything.
"""

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Union

from ._entries import FileEntry
from ._session_state import FaultSpec, LockSpec
from .world import DEFAULT_ROOT, Interpreter, PackageSpec, World

if TYPE_CHECKING:  # pragma: no cover
    from ._scenario_then import Then

__all__ = [
    "DEFAULT_ROOT",
    "FileExpectation",
    "Given",
    "MainSpec",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "ShellData",
]


class ScenarioError(Exception):
    """A scenario file is malformed. The message names the file, the key and what would be valid:
    fix the file, not the harness."""

    def __init__(self, file_name: str, message: str, key: Optional[str] = None):
        super().__init__("%s: %s" % (file_name, message))
        self.file_name = file_name
        self.key = key


# region: [given] and [when]


@dataclass(frozen=True)
class RunSpec:
    """One command run in the world: a shell-like string (shlex-split) or an argv tuple."""

    command: Union[str, Tuple[str, ...]]
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Optional[str] = None
    # `before` steps only: the exit code the step must end with, and changes to files just before it
    exit: int = 0
    files: Dict[str, FileEntry] = field(default_factory=dict)
    remove: List[str] = field(default_factory=list)

    def display(self) -> str:
        if isinstance(self.command, str):
            return self.command
        import shlex

        return shlex.join(self.command)


@dataclass(frozen=True)
class ShellData:
    """`[given.shell]`: $SHELL (`path`), whether the default shells exist, extra shells."""

    path: Optional[str] = None
    defaults: bool = True
    extra: Tuple[str, ...] = ()


@dataclass(frozen=True)
class MainSpec:
    """One `[given.mains]` entry: a built-in main's `behaviour` ("report", "exit 3", ...) and the
    distribution it is importable from (`provided_by`; None: from every process)."""

    behaviour: str
    provided_by: Optional[str] = None


@dataclass
class Given:
    """`[given]`: one field per key of `_scenario_given.GIVEN_KEYS`, each the key's parsed value."""

    root: str = DEFAULT_ROOT
    layout: Optional[str] = None
    repo: Optional[str] = None  # the absolute real path of the client repo
    interpreters: List[Interpreter] = field(default_factory=list)
    path: Optional[List[str]] = None
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Optional[str] = None
    remove: List[str] = field(default_factory=list)
    dirs: List[str] = field(default_factory=list)
    files: Dict[str, FileEntry] = field(default_factory=dict)
    symlinks: Dict[str, str] = field(default_factory=dict)
    copy: Dict[str, str] = field(default_factory=dict)  # world path -> absolute real path
    before: List[RunSpec] = field(default_factory=list)
    faults: List[FaultSpec] = field(default_factory=list)
    packages: List[PackageSpec] = field(default_factory=list)
    index_from_constraints: List[str] = field(default_factory=list)
    locks: List[LockSpec] = field(default_factory=list)
    shell: Optional[ShellData] = None
    mains: Dict[str, MainSpec] = field(default_factory=dict)


# endregion: [given] and [when]

# region: [then]


@dataclass(frozen=True)
class FileExpectation:
    """What must be true of one path after the run; `path` is relative to the root when under it."""

    path: str
    text: Optional[str] = None
    contains: Tuple[str, ...] = ()
    symlink: Optional[str] = None
    absent: bool = False
    exists: bool = False


# endregion: [then]


@dataclass
class Scenario:
    """One loaded scenario file. `file_name` is how messages name the file (e.g. its path relative to
    the pytest rootdir); `name` (the file's stem) is the pytest item name."""

    path: str
    file_name: str
    format: int
    title: str
    when: RunSpec
    then: "Then"
    given: Given = field(default_factory=Given)
    markers: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.path))[0]

    @property
    def root(self) -> str:
        return self.given.root

    def build_world(self) -> World:
        """A new `World` as `[given]` describes it (nothing is activated or run). The keys are applied in
        the order docs/scenarios.md gives: a later one may replace what an earlier one added."""
        given = self.given
        world = World(root=given.root)
        if given.layout is not None:
            world.apply_layout(given.layout)
        if given.repo is not None:
            world.add_repo(given.repo)
        for world_path, real_path in given.copy.items():
            if os.path.isdir(real_path):
                world.copy_real_dir(real_path, world_path)
            else:
                with open(real_path, "r", encoding="utf-8") as f:
                    text = f.read()
                world.add_file(world_path, text, executable=os.access(real_path, os.X_OK))
        for removed in given.remove:
            world.remove(removed)
        for interpreter in given.interpreters:
            world.add_interpreter(interpreter.path, interpreter.version, venv=interpreter.venv,
                                  base=interpreter.base, broken=interpreter.broken)
        for directory in given.dirs:
            world.add_dir(directory)
        for file_path, entry in given.files.items():
            world.add_file(file_path, entry.text, executable=entry.executable)
        for link_path, target in given.symlinks.items():
            world.add_symlink(link_path, target)
        if given.path is not None:
            world.path = list(given.path)
        if given.env:
            world.set_env(**given.env)
        if given.cwd is not None:
            world.cwd = os.path.normpath(os.path.join(world.root, given.cwd))
        for package in given.packages:
            world.add_package(package.name, package.version, package.dependencies, dict(package.extras))
        for constraints in given.index_from_constraints:
            world.add_packages_from_constraints(path=constraints)
        for fault in given.faults:
            world.add_fault(fault.command, exit=fault.exit, stdout=fault.stdout, stderr=fault.stderr,
                            die=fault.die, times=fault.times)
        for lock in given.locks:
            world.hold_lock(lock.path, pid=lock.pid, alive=lock.alive, finish=lock.finish)
        if given.shell is not None:
            if not given.shell.defaults:
                world.without_default_shells()
            for extra in given.shell.extra:
                world.add_shell(extra)
            if given.shell.path is not None:
                world.set_shell(given.shell.path)
        for spec, main in given.mains.items():
            world.add_main(spec, main.behaviour, provided_by=main.provided_by)
        return world
