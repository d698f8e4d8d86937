"""Scenario files: a versioned TOML description of one simulated run (given / when / then).

A scenario names a world (`[given]`), one command to run in it (`[when]`) and what must be observed
(`[then]`). This module is the whole file format: the model (`Scenario` and its parts), the loader
(`load_scenario`, which validates everything before anything runs), the run (`run_scenario`) and the
checks (`check_expectations`). It does not import pytest; `protoprimer_harness.plugin` is the thin layer that turns
scenario files into pytest items. The format is described for users in docs/scenarios.md.

Invariants:
- every problem in a file is a `ScenarioError` whose message starts with the file's name and names the
  offending key by its dotted path (`then.files."x.txt".text`), with the valid alternatives;
- a loaded `Scenario` is plain data: loading never touches a world, and building a world
  (`Scenario.build_world`) never runs anything;
- `{root}` in any string of a scenario is the world's repo root (`{{root}}` is a literal `{root}`), so
  absolute paths are written portably; relative paths in a scenario are relative to the repo root;
- `check_expectations` evaluates every expectation and reports all failures together.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

__all__ = [
    "DEFAULT_ROOT",
    "FaultData",
    "LockData",
    "CommandEnvExpectation",
    "MainExpectation",
    "PackageData",
    "ShellData",
    "ShellExpectation",
    "FileExpectation",
    "FileSpec",
    "Given",
    "HarnessMissing",
    "InterpreterSpec",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "SUPPORTED_FORMATS",
    "Then",
    "check_expectations",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]

# The formats this loader reads. A future format 2 keeps a loader for 1 (or, if 1 is ever dropped,
# `_RETIRED_FORMATS` maps it to a migration hint).
SUPPORTED_FORMATS = (1,)
_RETIRED_FORMATS: Dict[int, str] = {}

DEFAULT_ROOT = "/repo"
DEFAULT_LAYOUTS = ("instant", "min", "max")

INSTALL_HINT = "pip install 'protoprimer[harness]'"


class ScenarioError(Exception):
    """A scenario file is malformed. The message names the file, the key and what would be valid:
    fix the file, not the harness."""

    def __init__(self, file_name: str, message: str, key: Optional[str] = None):
        super().__init__("%s: %s" % (file_name, message))
        self.file_name = file_name
        self.key = key


class HarnessMissing(ImportError):
    """A package the harness needs (pyfakefs, or tomli before Python 3.11) is not installed:
    install the extra with `pip install 'protoprimer[harness]'`."""


# region: model


@dataclass(frozen=True)
class InterpreterSpec:
    """An interpreter in the world: `path` ("python3" alone means /usr/bin/python3) runs `version`."""

    path: str
    version: str
    venv: bool = False
    base: Optional[str] = None
    broken: bool = False


@dataclass(frozen=True)
class RunSpec:
    """One command run in the world: a shell-like string (shlex-split) or an argv list."""

    command: Union[str, Tuple[str, ...]]
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Optional[str] = None
    # `before` steps only: the exit code the step must end with, and changes to files just before it
    exit: int = 0
    files: Dict[str, "FileSpec"] = field(default_factory=dict)
    remove: List[str] = field(default_factory=list)

    def display(self) -> str:
        if isinstance(self.command, str):
            return self.command
        return shlex.join(self.command)


@dataclass(frozen=True)
class FileSpec:
    text: str
    executable: bool = False


@dataclass(frozen=True)
class FileExpectation:
    """What must be true of one path after the run; `path` is relative to the root when under it."""

    path: str
    text: Optional[str] = None
    contains: Tuple[str, ...] = ()
    symlink: Optional[str] = None
    absent: bool = False
    exists: bool = False


@dataclass(frozen=True)
class FaultData:
    """`[[given.faults]]`: see protoprimer_harness.machine.FaultSpec."""

    command: str
    exit: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    die: Optional[str] = None
    times: Optional[int] = None


@dataclass(frozen=True)
class PackageData:
    """`[[given.packages]]`: a release in the world's package index."""

    name: str
    version: str
    dependencies: Tuple[str, ...] = ()
    extras: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class LockData:
    """`[[given.locks]]`: a lock file held by a simulated other process."""

    path: str
    pid: int = 4242
    alive: bool = True
    finish: Union[None, str, Tuple[str, ...]] = None


@dataclass(frozen=True)
class ShellData:
    """`[given.shell]`: $SHELL (`path`), whether the default shells exist, extra shells."""

    path: Optional[str] = None
    defaults: bool = True
    extra: Tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandEnvExpectation:
    """`[then.command_env."PATTERN"]`: the environment of every command matching PATTERN (see
    Outcome.assert_command_env)."""

    pattern: str
    env_has: Tuple[str, ...] = ()
    env_lacks: Tuple[str, ...] = ()
    env: Optional[Dict[str, str]] = None


@dataclass(frozen=True)
class MainExpectation:
    """`[then.main]`: expectations on the last client main call (see Outcome.assert_main)."""

    called: Optional[bool] = None
    argv: Optional[Tuple[str, ...]] = None
    env_has: Tuple[str, ...] = ()
    env_lacks: Tuple[str, ...] = ()
    env: Optional[Dict[str, str]] = None
    interpreter: Optional[str] = None
    kernel_path: Optional[str] = None
    config_subset: Optional[Dict[str, Any]] = None
    args_subset: Optional[Dict[str, Any]] = None
    ended: Optional[str] = None
    proto_kernel_file: Optional[str] = None


@dataclass(frozen=True)
class ShellExpectation:
    """`[then.shell]`: expectations on the shell the chain ended in (see Outcome.assert_shell)."""

    ran: Optional[bool] = None
    argv: Optional[Tuple[str, ...]] = None
    env_has: Tuple[str, ...] = ()
    env_lacks: Tuple[str, ...] = ()
    env: Optional[Dict[str, str]] = None
    rc_contains: Tuple[str, ...] = ()


@dataclass
class Given:
    root: str = DEFAULT_ROOT
    layout: Optional[str] = None
    interpreters: List[InterpreterSpec] = field(default_factory=list)
    path: Optional[List[str]] = None
    env: Dict[str, str] = field(default_factory=dict)
    cwd: Optional[str] = None
    remove: List[str] = field(default_factory=list)
    dirs: List[str] = field(default_factory=list)
    files: Dict[str, FileSpec] = field(default_factory=dict)
    symlinks: Dict[str, str] = field(default_factory=dict)
    copy: Dict[str, str] = field(default_factory=dict)  # world path -> absolute real path
    before: List[RunSpec] = field(default_factory=list)
    faults: List[FaultData] = field(default_factory=list)
    packages: List[PackageData] = field(default_factory=list)
    locks: List[LockData] = field(default_factory=list)
    shell: Optional[ShellData] = None
    mains: Dict[str, str] = field(default_factory=dict)
    main_providers: Dict[str, str] = field(default_factory=dict)


_UNSET = object()


@dataclass
class Then:
    exit: Optional[int] = None
    stdout: Optional[str] = None
    stdout_contains: List[str] = field(default_factory=list)
    stdout_json: Any = _UNSET
    stdout_json_subset: Optional[Dict[str, Any]] = None
    stderr: Optional[str] = None
    stderr_contains: List[str] = field(default_factory=list)
    stderr_not_contains: List[str] = field(default_factory=list)
    stderr_counts: Dict[str, int] = field(default_factory=dict)
    stderr_max_counts: Dict[str, int] = field(default_factory=dict)
    unchanged: Union[None, bool, List[str]] = None
    written: Optional[List[str]] = None
    chain: Optional[List[str]] = None
    commands: Optional[List[str]] = None
    command_env: List[CommandEnvExpectation] = field(default_factory=list)
    files: List[FileExpectation] = field(default_factory=list)
    killed: Optional[bool] = None
    main: Optional[MainExpectation] = None
    shell: Optional[ShellExpectation] = None


@dataclass
class Scenario:
    """One loaded scenario file. `file_name` is how messages name the file (e.g. its path relative to
    the pytest rootdir); `name` (the file's stem) is the pytest item name."""

    path: str
    file_name: str
    format: int
    title: str
    when: RunSpec
    then: Then
    given: Given = field(default_factory=Given)
    markers: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.path))[0]

    @property
    def root(self) -> str:
        return self.given.root

    def build_world(self):
        """A new `protoprimer_harness.world.World` as `[given]` describes it (nothing is activated or run)."""
        from protoprimer_harness.world import World

        given = self.given
        world = World(root=given.root)
        if given.layout is not None:
            world.apply_layout(given.layout)
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
            world.add_interpreter(
                interpreter.path,
                interpreter.version,
                venv=interpreter.venv,
                base=interpreter.base,
                broken=interpreter.broken,
            )
        for directory in given.dirs:
            world.add_dir(directory)
        for file_path, spec in given.files.items():
            world.add_file(file_path, spec.text, executable=spec.executable)
        for link_path, target in given.symlinks.items():
            world.add_symlink(link_path, target)
        if given.path is not None:
            world.path = list(given.path)
        if given.env:
            world.set_env(**given.env)
        if given.cwd is not None:
            world.cwd = os.path.normpath(os.path.join(world.root, given.cwd))
        for package in given.packages:
            world.add_package(package.name, package.version, package.dependencies,
                              {extra: reqs for extra, reqs in package.extras})
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
        for spec, behaviour in given.mains.items():
            world.add_main(spec, behaviour, provided_by=given.main_providers.get(spec))
        return world


# endregion: model

# region: loading

_TOP_KEYS = {
    "format": "the scenario format version (1)",
    "title": "one line saying what the scenario shows",
    "markers": "extra pytest markers",
    "given": "the world",
    "when": "the command",
    "then": "the expectations",
}
_GIVEN_KEYS = (
    "root",
    "layout",
    "interpreters",
    "path",
    "env",
    "cwd",
    "remove",
    "dirs",
    "files",
    "symlinks",
    "copy",
    "before",
    "faults",
    "packages",
    "locks",
    "shell",
    "mains",
)
_FAULT_KEYS = ("command", "exit", "stdout", "stderr", "die", "times")
_PACKAGE_KEYS = ("name", "version", "dependencies", "extras")
_LOCK_KEYS = ("path", "pid", "alive", "finish")
_SHELL_KEYS = ("path", "defaults", "extra")
_THEN_MAIN_KEYS = ("called", "argv", "env_has", "env_lacks", "env", "interpreter", "kernel_path",
                   "config_subset", "args_subset", "ended", "proto_kernel_file")
_THEN_COMMAND_ENV_KEYS = ("env_has", "env_lacks", "env")
_THEN_SHELL_KEYS = ("ran", "argv", "env_has", "env_lacks", "env", "rc_contains")
_WHEN_KEYS = ("run", "env", "cwd")
_BEFORE_KEYS = ("run", "env", "cwd", "exit", "files", "remove")
_THEN_KEYS = (
    "exit",
    "stdout",
    "stdout_contains",
    "stdout_json",
    "stdout_json_subset",
    "stderr",
    "stderr_contains",
    "stderr_not_contains",
    "stderr_counts",
    "stderr_max_counts",
    "unchanged",
    "written",
    "chain",
    "commands",
    "command_env",
    "files",
    "killed",
    "main",
    "shell",
)
_INTERPRETER_KEYS = ("path", "version", "venv", "base", "broken")
_GIVEN_FILE_KEYS = ("text", "executable")
_THEN_FILE_KEYS = ("text", "contains", "symlink", "absent", "exists")

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_INTERPRETER_RE = re.compile(r"^\s*(\S+)\s*=\s*(\S+)\s*$")
_MARKER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return "date/time"


def _quote_key(key: str) -> str:
    """A key as TOML would write it in a dotted path."""
    if re.match(r"^[A-Za-z0-9_-]+$", key):
        return key
    return json.dumps(key)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def default_file_name(path: str) -> str:
    """How a scenario file is named in messages by default: relative to the cwd when under it."""
    path = os.fspath(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(os.pardir) else rel


def _read_toml(path: str, file_name: str) -> Dict[str, Any]:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise HarnessMissing(
                "reading scenario files needs tomli before Python 3.11: %s" % INSTALL_HINT
            ) from None
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ScenarioError(file_name, "cannot read the file: %s" % (e.strerror or e)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(file_name, "not UTF-8 text (byte %d)" % e.start) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        match = _TOML_POSITION_RE.search(message)
        if not match:
            raise ScenarioError(file_name, "TOML syntax error: %s" % message) from None
        line_no, column = int(match.group(1)), int(match.group(2))
        lines = text.splitlines()
        shown = ""
        if 1 <= line_no <= len(lines):
            shown = "\n    %s\n    %s^" % (lines[line_no - 1], " " * max(column - 1, 0))
        raise ScenarioError(
            file_name,
            "TOML syntax error at line %d, column %d: %s%s"
            % (line_no, column, message[: match.start()], shown),
        ) from None


def load_scenario(path, file_name: Optional[str] = None) -> Scenario:
    """Read and validate the scenario file at `path`. `file_name` is how messages name the file
    (default: the path relative to the cwd). Raises ScenarioError for anything malformed."""
    path = os.fspath(path)
    if file_name is None:
        file_name = default_file_name(path)
    data = _read_toml(path, file_name)
    return parse_scenario(data, path=path, file_name=file_name)


def parse_scenario(data: Dict[str, Any], path: str = "<scenario>.toml", file_name: Optional[str] = None):
    """Validate already-parsed TOML data (a dict) into a Scenario. See `load_scenario`."""
    if file_name is None:
        file_name = path
    return _Parser(path, file_name).scenario(data)


class _Parser:
    """Validates one file's data; every error names the dotted key and the file."""

    def __init__(self, path: str, file_name: str):
        self.path = path
        self.file_name = file_name
        self.root = DEFAULT_ROOT

    # -- errors and primitive checks

    def fail(self, key: Optional[str], message: str):
        raise ScenarioError(self.file_name, message, key=key)

    def check_keys(self, table: Dict[str, Any], known: Sequence[str], where: str):
        """Reject keys not in `known`; `where` is the dotted path of the table ('' for the top)."""
        for key in table:
            if key in known:
                continue
            dotted = "%s.%s" % (where, _quote_key(key)) if where else _quote_key(key)
            close = difflib.get_close_matches(key, known, n=1)
            hint = "did you mean '%s'? " % close[0] if close else ""
            place = "in [%s]" % where if where else "at the top level"
            self.fail(
                dotted,
                "unknown key '%s' (%sknown keys %s: %s)" % (dotted, hint, place, ", ".join(known)),
            )

    def type_error(self, key: str, expected: str, value: Any, hint: str = ""):
        self.fail(
            key,
            "%s must be %s, got %s %s%s" % (key, expected, _toml_type(value), _short(value), hint),
        )

    def string(self, value: Any, key: str, hint: str = "") -> str:
        if not isinstance(value, str):
            self.type_error(key, "a string", value, hint)
        return self.expand(value)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.type_error(key, "a boolean (true or false)", value)
        return value

    def integer(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.type_error(key, "an integer", value)
        return value

    def table(self, value: Any, key: str) -> Dict[str, Any]:
        if not isinstance(value, dict):
            self.type_error(key, "a table", value)
        return value

    def strings(self, value: Any, key: str, allow_single: bool = False) -> List[str]:
        if allow_single and isinstance(value, str):
            return [self.expand(value)]
        if not isinstance(value, list):
            self.type_error(key, "an array of strings", value)
        return [self.string(item, "%s[%d]" % (key, i)) for i, item in enumerate(value)]

    def string_table(self, value: Any, key: str) -> Dict[str, str]:
        table = self.table(value, key)
        return {
            self.expand(name): self.string(
                item,
                "%s.%s" % (key, _quote_key(name)),
                hint=" (TOML values here are text: quote them)" if not isinstance(item, (dict, list)) else "",
            )
            for name, item in table.items()
        }

    def expand(self, text: str) -> str:
        """Expand the `{root}` placeholder; `{{root}}` stays a literal `{root}`."""
        if "{" not in text:
            return text
        return text.replace("{{root}}", "\0").replace("{root}", self.root).replace("\0", "{root}")

    def expand_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.expand(value)
        if isinstance(value, list):
            return [self.expand_any(item) for item in value]
        if isinstance(value, dict):
            return {self.expand(k): self.expand_any(v) for k, v in value.items()}
        return value

    def world_path(self, text: str) -> str:
        """A path as the outcome reports it: relative to the root when under it, else absolute."""
        if os.path.isabs(text):
            normal = os.path.normpath(text)
            root = os.path.normpath(self.root)
            if normal == root:
                return "."
            if normal.startswith(root + os.sep):
                return os.path.relpath(normal, root)
            return normal
        trailing = "/" if text.endswith("/") else ""
        return os.path.normpath(text) + trailing if text not in ("", ".") else "."

    # -- the file

    def scenario(self, data: Dict[str, Any]) -> Scenario:
        self.check_keys(data, tuple(_TOP_KEYS), "")
        file_format = self.format(data)
        given = self.given(self.table(data.get("given", {}), "given"))  # first: it sets {root}
        if "title" not in data:
            self.fail("title", "missing key 'title' (one line saying what the scenario shows)")
        title = self.string(data["title"], "title")
        if not title.strip():
            self.fail("title", "title must not be empty")
        markers = self.markers(data.get("markers", []))
        if "when" not in data:
            self.fail("when", "missing table [when] (it needs at least: run = \"./prime ...\")")
        when = self.when(self.table(data["when"], "when"))
        if "then" not in data:
            self.fail(
                "then",
                "missing table [then] (it needs at least one expectation: %s)" % ", ".join(_THEN_KEYS),
            )
        then = self.then(self.table(data["then"], "then"))
        return Scenario(
            path=self.path,
            file_name=self.file_name,
            format=file_format,
            title=title,
            markers=markers,
            given=given,
            when=when,
            then=then,
        )

    def format(self, data: Dict[str, Any]) -> int:
        supported = ", ".join(str(f) for f in SUPPORTED_FORMATS)
        if "format" not in data:
            self.fail(
                "format",
                "missing key 'format' (write `format = %d` first; supported formats: %s)"
                % (SUPPORTED_FORMATS[-1], supported),
            )
        value = self.integer(data["format"], "format")
        if value in SUPPORTED_FORMATS:
            return value
        if value in _RETIRED_FORMATS:
            self.fail("format", "format %d is no longer read (supported formats: %s); %s"
                      % (value, supported, _RETIRED_FORMATS[value]))
        if value > max(SUPPORTED_FORMATS):
            self.fail(
                "format",
                "format %d is newer than this harness reads (supported formats: %s); "
                "upgrade the harness: pip install -U 'protoprimer[harness]'" % (value, supported),
            )
        self.fail("format", "unsupported format %d (supported formats: %s)" % (value, supported))

    def markers(self, value: Any) -> List[str]:
        markers = self.strings(value, "markers")
        for i, marker in enumerate(markers):
            if not _MARKER_RE.match(marker):
                self.fail(
                    "markers[%d]" % i,
                    "markers[%d] %r is not a marker name (letters, digits and _, e.g. \"conf\")"
                    % (i, marker),
                )
        return markers

    def given(self, table: Dict[str, Any]) -> Given:
        self.check_keys(table, _GIVEN_KEYS, "given")
        given = Given()
        if "root" in table:
            root = self.string(table["root"], "given.root")
            if not os.path.isabs(root):
                self.fail("given.root", "given.root must be an absolute path, got %r" % root)
            given.root = self.root = os.path.normpath(root)
        if "layout" in table:
            given.layout = self.layout(table["layout"])
        if "interpreters" in table:
            value = table["interpreters"]
            if not isinstance(value, list):
                self.type_error("given.interpreters", "an array", value)
            given.interpreters = [
                self.interpreter(item, "given.interpreters[%d]" % i) for i, item in enumerate(value)
            ]
        if "path" in table:
            given.path = self.strings(table["path"], "given.path")
        if "env" in table:
            given.env = self.string_table(table["env"], "given.env")
        if "cwd" in table:
            given.cwd = self.string(table["cwd"], "given.cwd")
        if "remove" in table:
            given.remove = self.strings(table["remove"], "given.remove")
        if "dirs" in table:
            given.dirs = self.strings(table["dirs"], "given.dirs")
        if "files" in table:
            files = self.table(table["files"], "given.files")
            given.files = {
                self.expand(name): self.given_file(item, "given.files.%s" % _quote_key(name))
                for name, item in files.items()
            }
        if "symlinks" in table:
            given.symlinks = self.string_table(table["symlinks"], "given.symlinks")
        if "copy" in table:
            given.copy = {
                world_path: self.real_path(real, "given.copy.%s" % _quote_key(world_path))
                for world_path, real in self.string_table(table["copy"], "given.copy").items()
            }
        if "before" in table:
            value = table["before"]
            if not isinstance(value, list):
                self.type_error("given.before", "an array of commands", value)
            given.before = [
                self.run_spec(item, "given.before[%d]" % i, _BEFORE_KEYS, allow_table=True)
                for i, item in enumerate(value)
            ]
        if "faults" in table:
            given.faults = [self.fault(item, "given.faults[%d]" % i)
                            for i, item in enumerate(self.array(table["faults"], "given.faults"))]
        if "packages" in table:
            given.packages = [self.package(item, "given.packages[%d]" % i)
                              for i, item in enumerate(self.array(table["packages"], "given.packages"))]
        if "locks" in table:
            given.locks = [self.lock(item, "given.locks[%d]" % i)
                           for i, item in enumerate(self.array(table["locks"], "given.locks"))]
        if "shell" in table:
            given.shell = self.shell(table["shell"], "given.shell")
        if "mains" in table:
            given.mains, given.main_providers = self.mains(table["mains"], "given.mains")
        return given

    # -- given: faults, packages, locks, shell, mains

    def array(self, value: Any, key: str) -> List[Any]:
        if not isinstance(value, list):
            self.type_error(key, "an array of tables (write [[%s]] sections)" % key, value)
        return value

    def entry_table(self, value: Any, key: str, known: Sequence[str], required: Sequence[str]) -> Dict[str, Any]:
        if not isinstance(value, dict):
            self.type_error(key, "a table", value)
        self.check_keys(value, known, key)
        for name in required:
            if name not in value:
                self.fail("%s.%s" % (key, name), "missing key '%s.%s'" % (key, name))
        return value

    def fault(self, value: Any, key: str) -> FaultData:
        from protoprimer_harness.machine import DIE_POINTS, FaultSpec

        table = self.entry_table(value, key, _FAULT_KEYS, ("command",))
        data = FaultData(
            command=self.string(table["command"], key + ".command"),
            exit=self.integer(table["exit"], key + ".exit") if "exit" in table else None,
            stdout=self.string(table["stdout"], key + ".stdout") if "stdout" in table else "",
            stderr=self.string(table["stderr"], key + ".stderr") if "stderr" in table else "",
            die=self.string(table["die"], key + ".die") if "die" in table else None,
            times=self.integer(table["times"], key + ".times") if "times" in table else None,
        )
        if data.die is not None and data.die not in DIE_POINTS:
            self.fail(key + ".die", "%s.die must be one of %s, got %r" % (key, ", ".join(
                '"%s"' % d for d in DIE_POINTS), data.die))
        try:
            FaultSpec(data.command, exit=data.exit, stdout=data.stdout, stderr=data.stderr, die=data.die,
                      times=data.times)
        except ValueError as error:
            self.fail(key, "%s: %s" % (key, error))
        return data

    def package(self, value: Any, key: str) -> PackageData:
        table = self.entry_table(value, key, _PACKAGE_KEYS, ("name", "version"))
        extras: Dict[str, Tuple[str, ...]] = {}
        if "extras" in table:
            for extra, reqs in self.table(table["extras"], key + ".extras").items():
                extras[extra] = tuple(self.strings(reqs, "%s.extras.%s" % (key, _quote_key(extra))))
        data = PackageData(
            name=self.string(table["name"], key + ".name"),
            version=self.string(table["version"], key + ".version"),
            dependencies=tuple(self.strings(table.get("dependencies", []), key + ".dependencies")),
            extras=tuple(sorted(extras.items())),
        )
        try:
            from protoprimer_harness.tools.index import check_release

            check_release(data)
        except ValueError as error:
            self.fail(key, "%s: %s" % (key, error))
        return data

    def lock(self, value: Any, key: str) -> LockData:
        table = self.entry_table(value, key, _LOCK_KEYS, ("path",))
        finish: Union[None, str, Tuple[str, ...]] = None
        if "finish" in table:
            finish = self.command(table["finish"], key + ".finish")
        pid = self.integer(table.get("pid", 4242), key + ".pid")
        if pid <= 0:
            self.fail(key + ".pid", "%s.pid must be a positive integer, got %d" % (key, pid))
        alive = self.boolean(table.get("alive", True), key + ".alive")
        if finish is not None and not alive:
            self.fail(key + ".finish", "%s.finish needs a live holder: a dead one (alive = false) finishes "
                                       "nothing" % key)
        return LockData(path=self.string(table["path"], key + ".path"), pid=pid, alive=alive, finish=finish)

    def shell(self, value: Any, key: str) -> ShellData:
        table = self.entry_table(value, key, _SHELL_KEYS, ())
        path = self.string(table["path"], key + ".path") if "path" in table else None
        if path is not None and not os.path.isabs(path):
            self.fail(key + ".path", "%s.path must be an absolute path like \"/bin/zsh\", got %r" % (key, path))
        extra = tuple(self.strings(table.get("extra", []), key + ".extra"))
        for i, item in enumerate(extra):
            if not os.path.isabs(item):
                self.fail("%s.extra[%d]" % (key, i), "%s.extra[%d] must be an absolute path, got %r" % (key, i, item))
        return ShellData(path=path, defaults=self.boolean(table.get("defaults", True), key + ".defaults"),
                         extra=extra)

    def mains(self, value: Any, key: str) -> Tuple[Dict[str, str], Dict[str, str]]:
        from protoprimer_harness.mains import BEHAVIOURS, check_behaviour

        form = ('"report" (a built-in main: %s) or a table { behaviour = "report", provided_by = "client" }'
                % ", ".join(BEHAVIOURS))
        mains, providers = {}, {}
        for spec, item in self.table(value, key).items():
            spec = self.expand(spec)
            item_key = "%s.%s" % (key, _quote_key(spec))
            module, sep, func = spec.partition(":")
            if not sep or not module or not func:
                self.fail(item_key, "%s: %r is not of the form \"module:func\"" % (item_key, spec))
            if isinstance(item, dict):
                self.check_keys(item, ("behaviour", "provided_by"), item_key)
                if "behaviour" not in item:
                    self.fail(item_key + ".behaviour", "missing key '%s.behaviour' (%s)" % (item_key, form))
                behaviour = self.string(item["behaviour"], item_key + ".behaviour")
                if "provided_by" in item:
                    providers[spec] = self.string(item["provided_by"], item_key + ".provided_by")
            else:
                behaviour = self.string(item, item_key, hint=" (%s)" % form)
            try:
                mains[spec] = check_behaviour(behaviour)
            except ValueError as error:
                self.fail(item_key, "%s: %s" % (item_key, error))
        return mains, providers

    def layout(self, value: Any) -> str:
        name = self.string(value, "given.layout")
        layouts = _known_layouts()
        if name not in layouts:
            close = difflib.get_close_matches(name, layouts, n=1)
            hint = "did you mean '%s'? " % close[0] if close else ""
            self.fail(
                "given.layout",
                "unknown layout %r in given.layout (%svalid layouts: %s)" % (name, hint, ", ".join(layouts)),
            )
        return name

    def interpreter(self, value: Any, key: str) -> InterpreterSpec:
        form = (
            'write "<path> = <X.Y.Z>", e.g. "python3 = 3.11.7" or "/opt/py312/bin/python3.12 = 3.12.1", '
            "or a table { path = ..., version = ..., venv = true, base = ..., broken = true }"
        )
        if isinstance(value, str):
            match = _INTERPRETER_RE.match(value)
            if not match:
                self.fail(key, "malformed interpreter %r in %s (%s)" % (value, key, form))
            path, version = self.expand(match.group(1)), match.group(2)
            if not _VERSION_RE.match(version):
                self.fail(key, "%s: version %r of %s must be X.Y.Z, like 3.11.7" % (key, version, path))
            return InterpreterSpec(path=path, version=version)
        if not isinstance(value, dict):
            self.type_error(key, "a string or a table", value, " (%s)" % form)
        self.check_keys(value, _INTERPRETER_KEYS, key)
        for required in ("path", "version"):
            if required not in value:
                self.fail("%s.%s" % (key, required), "missing key '%s.%s' (%s)" % (key, required, form))
        path = self.string(value["path"], key + ".path")
        version = self.string(value["version"], key + ".version")
        if not _VERSION_RE.match(version):
            self.fail(key + ".version", "%s.version %r must be X.Y.Z, like 3.11.7" % (key, version))
        venv = self.boolean(value.get("venv", False), key + ".venv")
        base = self.string(value["base"], key + ".base") if "base" in value else None
        if base is not None and not venv:
            self.fail(key + ".base", "%s.base names the base of a venv: set %s.venv = true too" % (key, key))
        broken = self.boolean(value.get("broken", False), key + ".broken")
        return InterpreterSpec(path=path, version=version, venv=venv, base=base, broken=broken)

    def given_file(self, value: Any, key: str) -> FileSpec:
        if isinstance(value, str):
            return FileSpec(text=self.expand(value))
        if not isinstance(value, dict):
            self.type_error(key, "a string (the file's text) or a table { text = ..., executable = true }", value)
        self.check_keys(value, _GIVEN_FILE_KEYS, key)
        if "text" not in value:
            self.fail(key + ".text", "missing key '%s.text' (the file's text)" % key)
        return FileSpec(
            text=self.string(value["text"], key + ".text"),
            executable=self.boolean(value.get("executable", False), key + ".executable"),
        )

    def real_path(self, real: str, key: str) -> str:
        base = os.path.dirname(os.path.abspath(self.path))
        resolved = os.path.normpath(os.path.join(base, real))
        if not os.path.exists(resolved):
            self.fail(
                key,
                "%s: the real path %r does not exist (relative paths are relative to the scenario "
                "file's directory: %s)" % (key, real, base),
            )
        return resolved

    def run_spec(self, value: Any, key: str, known: Sequence[str], allow_table: bool) -> RunSpec:
        if allow_table and isinstance(value, dict):
            self.check_keys(value, known, key)
            if "run" not in value:
                self.fail(key + ".run", "missing key '%s.run' (the command to run)" % key)
            env = self.string_table(value["env"], key + ".env") if "env" in value else {}
            cwd = self.string(value["cwd"], key + ".cwd") if "cwd" in value else None
            return RunSpec(
                command=self.command(value["run"], key + ".run"),
                env=env,
                cwd=cwd,
                exit=self.integer(value["exit"], key + ".exit") if "exit" in value else 0,
                files=self.before_files(value["files"], key + ".files") if "files" in value else {},
                remove=self.strings(value["remove"], key + ".remove") if "remove" in value else [],
            )
        return RunSpec(command=self.command(value, key))

    def before_files(self, value: Any, key: str) -> Dict[str, "FileSpec"]:
        if not isinstance(value, dict):
            self.type_error(key, 'a table of "path" = text', value)
        files = {}
        for path, text in value.items():
            if isinstance(text, dict):
                self.check_keys(text, _GIVEN_FILE_KEYS, "%s.%s" % (key, path))
                files[self.expand(path)] = FileSpec(
                    self.expand(self.string(text.get("text", ""), "%s.%s.text" % (key, path))),
                    bool(text.get("executable", False)),
                )
            else:
                files[self.expand(path)] = FileSpec(self.expand(self.string(text, "%s.%s" % (key, path))))
        return files

    def command(self, value: Any, key: str) -> Union[str, Tuple[str, ...]]:
        if isinstance(value, list):
            argv = tuple(self.strings(value, key))
            if not argv:
                self.fail(key, "%s must not be empty" % key)
            return argv
        command = self.string(value, key, hint=' (a command line like "./prime eval --json")')
        try:
            argv = shlex.split(command)
        except ValueError as e:
            self.fail(key, "%s cannot be split like a shell command line: %s" % (key, e))
        if not argv:
            self.fail(key, "%s must not be empty" % key)
        return command

    def when(self, table: Dict[str, Any]) -> RunSpec:
        self.check_keys(table, _WHEN_KEYS, "when")
        if "run" not in table:
            self.fail("when.run", "missing key 'when.run' (the command to run, e.g. run = \"./prime\")")
        spec = self.run_spec(table, "when", _WHEN_KEYS, allow_table=True)
        return spec

    def then(self, table: Dict[str, Any]) -> Then:
        self.check_keys(table, _THEN_KEYS, "then")
        if not table:
            self.fail("then", "[then] has no expectations (add at least one of: %s)" % ", ".join(_THEN_KEYS))
        then = Then()
        if "exit" in table:
            then.exit = self.integer(table["exit"], "then.exit")
        if "stdout" in table:
            then.stdout = self.string(table["stdout"], "then.stdout")
        if "stdout_contains" in table:
            then.stdout_contains = self.strings(table["stdout_contains"], "then.stdout_contains", True)
        if "stdout_json" in table:
            then.stdout_json = self.expand_any(table["stdout_json"])
        if "stdout_json_subset" in table:
            then.stdout_json_subset = self.expand_any(
                self.table(table["stdout_json_subset"], "then.stdout_json_subset")
            )
        if "stderr" in table:
            then.stderr = self.string(table["stderr"], "then.stderr")
        if "stderr_contains" in table:
            then.stderr_contains = self.strings(table["stderr_contains"], "then.stderr_contains", True)
        if "stderr_not_contains" in table:
            then.stderr_not_contains = self.strings(
                table["stderr_not_contains"], "then.stderr_not_contains", True
            )
        if "stderr_counts" in table:
            then.stderr_counts = self.counts(table["stderr_counts"], "then.stderr_counts")
        if "stderr_max_counts" in table:
            then.stderr_max_counts = self.counts(table["stderr_max_counts"], "then.stderr_max_counts")
        if "unchanged" in table:
            value = table["unchanged"]
            if value is True:
                then.unchanged = True
            elif isinstance(value, list):
                then.unchanged = [self.world_path(p) for p in self.strings(value, "then.unchanged")]
            else:
                self.type_error(
                    "then.unchanged",
                    "true (nothing changed) or an array of paths that must not change",
                    value,
                )
        if "written" in table:
            then.written = [self.world_path(p) for p in self.strings(table["written"], "then.written")]
            if then.unchanged is True:
                self.fail(
                    "then.written",
                    "then.unchanged = true and then.written contradict each other: keep one",
                )
        if "chain" in table:
            then.chain = self.strings(table["chain"], "then.chain")
        if "commands" in table:
            then.commands = self.strings(table["commands"], "then.commands")
        if "command_env" in table:
            patterns = self.table(table["command_env"], "then.command_env")
            if not patterns:
                self.fail("then.command_env", "[then.command_env] is empty (write [then.command_env.\"PATTERN\"] "
                                              "tables: a substring or glob of the command lines)")
            then.command_env = [
                self.command_env(name, item, "then.command_env.%s" % _quote_key(name))
                for name, item in patterns.items()
            ]
        if "files" in table:
            files = self.table(table["files"], "then.files")
            then.files = [
                self.then_file(name, item, "then.files.%s" % _quote_key(name)) for name, item in files.items()
            ]
        if "killed" in table:
            then.killed = self.boolean(table["killed"], "then.killed")
        if "main" in table:
            then.main = self.then_main(table["main"], "then.main")
        if "shell" in table:
            then.shell = self.then_shell(table["shell"], "then.shell")
        return then

    def counts(self, value: Any, key: str) -> Dict[str, int]:
        """A table `"substring" = n` (n >= 0), `{root}` expanded in the substrings."""
        counts: Dict[str, int] = {}
        for text, times in self.table(value, key).items():
            item_key = "%s.%s" % (key, _quote_key(text))
            times = self.integer(times, item_key)
            if times < 0:
                self.fail(item_key, "%s must be 0 or more, got %d" % (item_key, times))
            counts[self.expand(text)] = times
        return counts

    def command_env(self, name: str, value: Any, key: str) -> CommandEnvExpectation:
        table = self.entry_table(value, key, _THEN_COMMAND_ENV_KEYS, ())
        if not table:
            self.fail(key, "[%s] has no expectations (add at least one of: %s)"
                      % (key, ", ".join(_THEN_COMMAND_ENV_KEYS)))
        pattern = self.expand(name)
        if not pattern:
            self.fail(key, "%s: the command pattern must not be empty" % key)
        return CommandEnvExpectation(
            pattern=pattern,
            env_has=self.env_names(table, "env_has", key),
            env_lacks=self.env_names(table, "env_lacks", key),
            env=self.string_table(table["env"], key + ".env") if "env" in table else None,
        )

    def env_names(self, table: Dict[str, Any], name: str, key: str) -> Tuple[str, ...]:
        if name not in table:
            return ()
        return tuple(self.strings(table[name], "%s.%s" % (key, name), allow_single=True))

    def then_main(self, value: Any, key: str) -> MainExpectation:
        table = self.entry_table(value, key, _THEN_MAIN_KEYS, ())
        if not table:
            self.fail(key, "[%s] has no expectations (add at least one of: %s)" % (key, ", ".join(_THEN_MAIN_KEYS)))
        return MainExpectation(
            called=self.boolean(table["called"], key + ".called") if "called" in table else None,
            argv=tuple(self.strings(table["argv"], key + ".argv")) if "argv" in table else None,
            env_has=self.env_names(table, "env_has", key),
            env_lacks=self.env_names(table, "env_lacks", key),
            env=self.string_table(table["env"], key + ".env") if "env" in table else None,
            interpreter=self.string(table["interpreter"], key + ".interpreter") if "interpreter" in table else None,
            kernel_path=self.string(table["kernel_path"], key + ".kernel_path") if "kernel_path" in table else None,
            config_subset=(self.expand_any(self.table(table["config_subset"], key + ".config_subset"))
                           if "config_subset" in table else None),
            args_subset=(self.expand_any(self.table(table["args_subset"], key + ".args_subset"))
                         if "args_subset" in table else None),
            ended=self.string(table["ended"], key + ".ended") if "ended" in table else None,
            proto_kernel_file=(self.string(table["proto_kernel_file"], key + ".proto_kernel_file")
                               if "proto_kernel_file" in table else None),
        )

    def then_shell(self, value: Any, key: str) -> ShellExpectation:
        table = self.entry_table(value, key, _THEN_SHELL_KEYS, ())
        if not table:
            self.fail(key, "[%s] has no expectations (add at least one of: %s)" % (key, ", ".join(_THEN_SHELL_KEYS)))
        return ShellExpectation(
            ran=self.boolean(table["ran"], key + ".ran") if "ran" in table else None,
            argv=tuple(self.strings(table["argv"], key + ".argv")) if "argv" in table else None,
            env_has=self.env_names(table, "env_has", key),
            env_lacks=self.env_names(table, "env_lacks", key),
            env=self.string_table(table["env"], key + ".env") if "env" in table else None,
            rc_contains=self.env_names(table, "rc_contains", key),
        )

    def then_file(self, name: str, value: Any, key: str) -> FileExpectation:
        form = (
            "a table: { text = \"...\" }, { contains = \"...\" }, { symlink = \"target\" }, "
            "{ absent = true } or { exists = true }"
        )
        if not isinstance(value, dict):
            self.type_error(key, form, value)
        self.check_keys(value, _THEN_FILE_KEYS, key)
        if not value:
            self.fail(key, "%s is empty (write %s)" % (key, form))
        path = self.world_path(self.expand(name))
        text = self.string(value["text"], key + ".text") if "text" in value else None
        contains = tuple(self.strings(value["contains"], key + ".contains", True)) if "contains" in value else ()
        symlink = self.string(value["symlink"], key + ".symlink") if "symlink" in value else None
        absent = self.boolean(value.get("absent", False), key + ".absent")
        exists = self.boolean(value.get("exists", False), key + ".exists")
        if "absent" in value and not absent:
            self.fail(key + ".absent", "%s.absent = false says nothing: write { exists = true }" % key)
        if "exists" in value and not exists:
            self.fail(key + ".exists", "%s.exists = false says nothing: write { absent = true }" % key)
        if absent and len(value) > 1:
            self.fail(key, "%s: absent = true cannot be combined with %s" % (
                key, ", ".join(k for k in value if k != "absent")))
        if symlink is not None and (text is not None or contains):
            self.fail(key, "%s: symlink cannot be combined with text or contains" % key)
        return FileExpectation(
            path=path, text=text, contains=contains, symlink=symlink, absent=absent, exists=exists
        )


def _known_layouts() -> List[str]:
    """The layout names protoprimer_harness.layouts defines (the built-in names while it cannot be imported)."""
    try:
        from protoprimer_harness.layouts import LAYOUTS
    except ImportError:
        return list(DEFAULT_LAYOUTS)
    return sorted(LAYOUTS)


# endregion: loading

# region: running and checking


TAIL_LINES = 20
# Where an Outcome assert_* message starts its output tails (check_expectations shows them once).
_OUTPUT_TAIL_MARK = "\n--- stderr"


def _tail(title: str, text: str, lines: int = TAIL_LINES) -> str:
    """The last lines of one output stream under a `--- title ---` header."""
    all_lines = text.splitlines()
    if not all_lines:
        return "--- %s: (empty) ---" % title
    kept = all_lines[-lines:]
    if len(kept) < len(all_lines):
        return "\n".join(["--- %s (last %d of %d lines) ---" % (title, len(kept), len(all_lines))] + kept)
    return "\n".join(["--- %s ---" % title] + kept)


def _output_tails(outcome) -> str:
    return "%s\n%s" % (_tail("stderr", outcome.stderr), _tail("stdout", outcome.stdout))


def _run(session, spec: RunSpec):
    return session.run(
        list(spec.command) if isinstance(spec.command, tuple) else spec.command,
        env=dict(spec.env) if spec.env else None,
        cwd=spec.cwd,
    )


def run_scenario(scenario: Scenario, check: bool = False):
    """Build the scenario's world, activate it, run the `before` commands (each must exit 0, or an
    AssertionError names the command) and then the `when` command; return the Outcome of the `when`
    run. With `check=True` the expectations are checked too (see `check_expectations`)."""
    world = scenario.build_world()
    session = world.activate()
    with session:
        for i, before in enumerate(scenario.given.before):
            _change_files(session, before)
            outcome = _run(session, before)
            if outcome.exit_code != before.exit:
                raise AssertionError(
                    "%s: before run given.before[%d] `%s` exited %d, expected %d (the `when` run did not "
                    "start)\n  title: %s\n%s"
                    % (
                        scenario.file_name,
                        i,
                        before.display(),
                        outcome.exit_code,
                        before.exit,
                        scenario.title,
                        _output_tails(outcome),
                    )
                )
        _change_files(session, scenario.when)
        outcome = _run(session, scenario.when)
    if check:
        check_expectations(scenario, outcome)
    return outcome


def _change_files(session, spec: RunSpec) -> None:
    """Apply a `before` step's file edits (as a person would between two runs)."""
    import os

    for path in spec.remove:
        target = session.path(path)
        if os.path.islink(target) or os.path.isfile(target):
            os.remove(target)
        elif os.path.isdir(target):
            import shutil

            shutil.rmtree(target)
        else:
            from protoprimer_harness.errors import HarnessError

            raise HarnessError("before: cannot remove %s: nothing is there" % target)
    for path, spec_file in spec.files.items():
        session.write_text(path, spec_file.text, executable=spec_file.executable)


def check_expectations(scenario: Scenario, outcome) -> None:
    """Check every expectation of `[then]` against `outcome`; raise one AssertionError listing all
    that failed (each under its key), headed by the scenario file's name and title and followed, once,
    by the tails of stderr and stdout."""
    failures: List[Tuple[str, str]] = []
    checks = _expectation_checks(scenario.then, outcome)
    for key, check in checks:
        try:
            check()
        except AssertionError as e:
            message = str(e) or "failed"
            # the Outcome helpers end each message with the output tails: show those once, at the end
            mark = message.find(_OUTPUT_TAIL_MARK)
            failures.append((key, message[:mark] if mark >= 0 else message))
    if not failures:
        return
    lines = [
        "%s: %d of %d expectations failed" % (scenario.file_name, len(failures), len(checks)),
        "  title: %s" % scenario.title,
        "  run:   %s" % scenario.when.display(),
    ]
    for key, message in failures:
        lines.append("")
        lines.append("[%s]" % key)
        lines.extend("  " + line if line else "" for line in message.splitlines())
    lines.append("")
    lines.append(_output_tails(outcome))
    raise AssertionError("\n".join(lines))


def _expectation_checks(then: Then, outcome) -> List[Tuple[str, Callable[[], None]]]:
    checks: List[Tuple[str, Callable[[], None]]] = []

    def add(key, func, *args, **kwargs):
        checks.append((key, lambda: func(*args, **kwargs)))

    if then.exit is not None:
        add("then.exit", outcome.assert_exit, then.exit)
    if then.stdout is not None:
        add("then.stdout", outcome.assert_stdout, equals=then.stdout)
    if then.stdout_contains:
        add("then.stdout_contains", outcome.assert_stdout, contains=tuple(then.stdout_contains))
    if then.stdout_json is not _UNSET:
        add("then.stdout_json", outcome.assert_stdout_json, then.stdout_json)
    if then.stdout_json_subset is not None:
        add("then.stdout_json_subset", _assert_stdout_json_subset, outcome, then.stdout_json_subset)
    if then.stderr is not None:
        add("then.stderr", outcome.assert_stderr, equals=then.stderr)
    if then.stderr_contains:
        add("then.stderr_contains", outcome.assert_stderr, contains=tuple(then.stderr_contains))
    if then.stderr_not_contains:
        add("then.stderr_not_contains", outcome.assert_stderr, not_contains=tuple(then.stderr_not_contains))
    if then.stderr_counts:
        add("then.stderr_counts", outcome.assert_stderr, counts=dict(then.stderr_counts))
    if then.stderr_max_counts:
        add("then.stderr_max_counts", outcome.assert_stderr, max_counts=dict(then.stderr_max_counts))
    if then.unchanged is True:
        add("then.unchanged", outcome.assert_unchanged)
    elif then.unchanged is not None:
        add("then.unchanged", outcome.assert_unchanged, list(then.unchanged))
    if then.written is not None:
        add("then.written", outcome.assert_written, list(then.written))
    if then.chain is not None:
        add("then.chain", outcome.assert_chain, list(then.chain))
    if then.commands is not None:
        add("then.commands", outcome.assert_commands, list(then.commands))
    for expectation in then.command_env:
        add("then.command_env.%s" % _quote_key(expectation.pattern), outcome.assert_command_env,
            expectation.pattern, env_has=expectation.env_has, env_lacks=expectation.env_lacks, env=expectation.env)
    for expectation in then.files:
        key = "then.files.%s" % _quote_key(expectation.path)
        if expectation.absent:
            add(key, outcome.assert_absent, expectation.path)
            continue
        if expectation.symlink is not None:
            add(key, outcome.assert_symlink, expectation.path, expectation.symlink)
        if expectation.text is not None:
            add(key, outcome.assert_file, expectation.path, text=expectation.text)
        for part in expectation.contains:
            add(key, outcome.assert_file, expectation.path, contains=part)
        if expectation.exists and expectation.symlink is None and expectation.text is None and not expectation.contains:
            add(key, outcome.assert_file, expectation.path)
    if then.killed is not None:
        add("then.killed", outcome.assert_killed, then.killed)
    if then.main is not None:
        main = then.main
        add("then.main", outcome.assert_main, called=main.called,
            argv=list(main.argv) if main.argv is not None else None, env_has=main.env_has,
            env_lacks=main.env_lacks, env=main.env, interpreter=main.interpreter, kernel_path=main.kernel_path,
            config_subset=main.config_subset, args_subset=main.args_subset, ended=main.ended,
            proto_kernel_file=main.proto_kernel_file)
    if then.shell is not None:
        shell = then.shell
        add("then.shell", outcome.assert_shell, argv=list(shell.argv) if shell.argv is not None else None,
            env_has=shell.env_has, env_lacks=shell.env_lacks, env=shell.env, rc_contains=shell.rc_contains,
            ran=shell.ran)
    return checks


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _subset_differences(expected: Any, actual: Any, where: str) -> List[str]:
    """Where `actual` fails to contain `expected`: tables recursively by key, anything else by equality
    (booleans never equal numbers)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: expected an object, got %s %s" % (where or "(top)", _json_type(actual), _short(actual))]
        found: List[str] = []
        for key, value in expected.items():
            path = "%s.%s" % (where, _quote_key(key)) if where else _quote_key(key)
            if key not in actual:
                found.append("%s: missing (expected %s)" % (path, json.dumps(value, sort_keys=True)))
            else:
                found.extend(_subset_differences(value, actual[key], path))
        return found
    if expected == actual and isinstance(expected, bool) == isinstance(actual, bool):
        return []
    return [
        "%s: expected %s, got %s" % (
            where or "(top)",
            json.dumps(expected, sort_keys=True),
            json.dumps(actual, sort_keys=True),
        )
    ]


def _assert_stdout_json_subset(outcome, expected: Dict[str, Any]) -> None:
    try:
        actual = json.loads(outcome.stdout)
    except ValueError as e:
        raise AssertionError("stdout is not JSON: %s" % e) from None
    differences = _subset_differences(expected, actual, "")
    if differences:
        raise AssertionError(
            "stdout JSON does not contain the expected keys/values:\n%s"
            % "\n".join("  - " + d for d in differences)
        )


# endregion: running and checking
