"""The `[given]` and `[when]` sections: one `Key` per key (how it is read, what it means), in
`GIVEN_KEYS` and `WHEN_KEYS`, and the parse functions behind them.

`read_given` turns a file's `[given]` table into a `Given` (one field per key), `read_when` its `[when]`
table into a `RunSpec`. The world's parts are read into the world's own spec types (`Interpreter`,
`FileEntry`, `PackageSpec`, `FaultSpec`, `LockSpec`), validated as the world would (a fault that
`FaultSpec` refuses is an error naming its key); `Scenario.build_world` hands them to the `World`.
"""

import difflib
import os
import re
from typing import Any, Dict, List

from ._entries import FileEntry
from ._session_state import DEFAULT_LOCK_HOLDER_PID, DIE_POINTS, FaultSpec, LockSpec
from .outcome import quote_key
from ._scenario_keys import Key, KeyTable
from ._scenario_model import Given, MainSpec, RunSpec, ShellData
from ._scenario_reader import Reader
from .world import Interpreter, PackageSpec

__all__ = ["BEFORE_KEYS", "GIVEN_KEYS", "WHEN_KEYS", "read_given", "read_when"]

DEFAULT_LAYOUTS = ("instant", "min", "max")

# The keys of the tables inside [given]; tests/harness/test_scenario_keys.py keeps the spec types' ones
# equal to the fields of FaultSpec, PackageSpec and LockSpec.
INTERPRETER_KEYS = ("path", "version", "venv", "base", "broken")
FILE_KEYS = ("text", "executable")
FAULT_KEYS = ("command", "exit", "stdout", "stderr", "die", "times")
PACKAGE_KEYS = ("name", "version", "dependencies", "extras")
LOCK_KEYS = ("path", "pid", "alive", "finish")
SHELL_KEYS = ("path", "defaults", "extra")
MAIN_KEYS = ("behaviour", "provided_by")

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_INTERPRETER_RE = re.compile(r"^\s*(\S+)\s*=\s*(\S+)\s*$")


# region: parse functions, (reader, value, dotted key) -> value


def parse_root(r: Reader, value: Any, key: str) -> str:
    """The repo root; from here on `{root}` expands to it (`root` is the first key read)."""
    root = r.string(value, key)
    if not os.path.isabs(root):
        r.fail(key, "%s must be an absolute path, got %r" % (key, root))
    r.root = os.path.normpath(root)
    return r.root


def known_layouts() -> List[str]:
    """The layout names protoprimer_harness._layouts defines (the built-in names while it cannot be imported)."""
    try:
        from ._layouts import LAYOUTS
    except ImportError:
        return list(DEFAULT_LAYOUTS)
    return sorted(LAYOUTS)


def parse_layout(r: Reader, value: Any, key: str) -> str:
    name = r.string(value, key)
    layouts = known_layouts()
    if name not in layouts:
        close = difflib.get_close_matches(name, layouts, n=1)
        hint = "did you mean '%s'? " % close[0] if close else ""
        r.fail(key, "unknown layout %r in %s (%svalid layouts: %s)" % (name, key, hint, ", ".join(layouts)))
    return name


def parse_interpreter(r: Reader, value: Any, key: str) -> Interpreter:
    form = (
        'write "<path> = <X.Y.Z>", e.g. "python3 = 3.11.7" or "/opt/py312/bin/python3.12 = 3.12.1", '
        "or a table { path = ..., version = ..., venv = true, base = ..., broken = true }"
    )
    if isinstance(value, str):
        match = _INTERPRETER_RE.match(value)
        if not match:
            r.fail(key, "malformed interpreter %r in %s (%s)" % (value, key, form))
        path, version = r.expand(match.group(1)), match.group(2)
        if not _VERSION_RE.match(version):
            r.fail(key, "%s: version %r of %s must be X.Y.Z, like 3.11.7" % (key, version, path))
        return Interpreter(path=path, version=version)
    if not isinstance(value, dict):
        r.type_error(key, "a string or a table", value, " (%s)" % form)
    r.check_keys(value, INTERPRETER_KEYS, key)
    for required in ("path", "version"):
        if required not in value:
            r.fail("%s.%s" % (key, required), "missing key '%s.%s' (%s)" % (key, required, form))
    path = r.string(value["path"], key + ".path")
    version = r.string(value["version"], key + ".version")
    if not _VERSION_RE.match(version):
        r.fail(key + ".version", "%s.version %r must be X.Y.Z, like 3.11.7" % (key, version))
    venv = r.boolean(value.get("venv", False), key + ".venv")
    base = r.string(value["base"], key + ".base") if "base" in value else None
    if base is not None and not venv:
        r.fail(key + ".base", "%s.base names the base of a venv: set %s.venv = true too" % (key, key))
    broken = r.boolean(value.get("broken", False), key + ".broken")
    return Interpreter(path=path, version=version, venv=venv, base=base, broken=broken)


def parse_interpreters(r: Reader, value: Any, key: str) -> List[Interpreter]:
    if not isinstance(value, list):
        r.type_error(key, "an array", value)
    return [parse_interpreter(r, item, "%s[%d]" % (key, i)) for i, item in enumerate(value)]


def parse_file(r: Reader, value: Any, key: str) -> FileEntry:
    if isinstance(value, str):
        return FileEntry(text=r.expand(value))
    if not isinstance(value, dict):
        r.type_error(key, "a string (the file's text) or a table { text = ..., executable = true }", value)
    r.check_keys(value, FILE_KEYS, key)
    if "text" not in value:
        r.fail(key + ".text", "missing key '%s.text' (the file's text)" % key)
    return FileEntry(
        text=r.string(value["text"], key + ".text"),
        executable=r.boolean(value.get("executable", False), key + ".executable"),
    )


def parse_files(r: Reader, value: Any, key: str) -> Dict[str, FileEntry]:
    return {r.expand(name): parse_file(r, item, "%s.%s" % (key, quote_key(name)))
            for name, item in r.table(value, key).items()}


def parse_copy(r: Reader, value: Any, key: str) -> Dict[str, str]:
    """World path -> the absolute real path (relative to the scenario file's directory), which must exist."""
    base = os.path.dirname(os.path.abspath(r.path))
    copies = {}
    for world_path, real in r.string_table(value, key).items():
        resolved = os.path.normpath(os.path.join(base, real))
        if not os.path.exists(resolved):
            r.fail(
                "%s.%s" % (key, quote_key(world_path)),
                "%s.%s: the real path %r does not exist (relative paths are relative to the scenario "
                "file's directory: %s)" % (key, quote_key(world_path), real, base),
            )
        copies[world_path] = resolved
    return copies


def parse_repo(r: Reader, value: Any, key: str) -> str:
    """The real directory of the client repo (relative to the scenario file's directory), which must exist."""
    real = r.string(value, key)
    base = os.path.dirname(os.path.abspath(r.path))
    resolved = os.path.normpath(os.path.join(base, real))
    if not os.path.isdir(resolved):
        r.fail(key, "%s: %r is not a directory (a relative path is relative to the scenario file's directory: %s)"
               % (key, real, base))
    return resolved


def parse_step_files(r: Reader, value: Any, key: str) -> Dict[str, FileEntry]:
    """A `before` step's `files`: "path" = text, or a table { text = ..., executable = true }."""
    if not isinstance(value, dict):
        r.type_error(key, 'a table of "path" = text', value)
    files = {}
    for path, text in value.items():
        if isinstance(text, dict):
            r.check_keys(text, FILE_KEYS, "%s.%s" % (key, path))
            files[r.expand(path)] = FileEntry(
                r.expand(r.string(text.get("text", ""), "%s.%s.text" % (key, path))),
                bool(text.get("executable", False)),
            )
        else:
            files[r.expand(path)] = FileEntry(r.expand(r.string(text, "%s.%s" % (key, path))))
    return files


def parse_step(r: Reader, value: Any, key: str) -> RunSpec:
    """One `before` step: a command, or a table of BEFORE_KEYS."""
    if not isinstance(value, dict):
        return RunSpec(command=r.command(value, key))
    r.check_keys(value, BEFORE_KEYS.names, key)
    if "run" not in value:
        r.fail(key + ".run", "missing key '%s.run' (the command to run)" % key)
    return _run_spec(BEFORE_KEYS.parse(r, value, where=key))


def parse_before(r: Reader, value: Any, key: str) -> List[RunSpec]:
    if not isinstance(value, list):
        r.type_error(key, "an array of commands", value)
    return [parse_step(r, item, "%s[%d]" % (key, i)) for i, item in enumerate(value)]


def parse_fault(r: Reader, value: Any, key: str) -> FaultSpec:
    table = r.entry_table(value, key, FAULT_KEYS, ("command",))
    command = r.string(table["command"], key + ".command")
    exit = r.integer(table["exit"], key + ".exit") if "exit" in table else None
    stdout = r.string(table["stdout"], key + ".stdout") if "stdout" in table else ""
    stderr = r.string(table["stderr"], key + ".stderr") if "stderr" in table else ""
    die = r.string(table["die"], key + ".die") if "die" in table else None
    times = r.integer(table["times"], key + ".times") if "times" in table else None
    if die is not None and die not in DIE_POINTS:
        r.fail(key + ".die", "%s.die must be one of %s, got %r" % (key, ", ".join('"%s"' % d for d in DIE_POINTS), die))
    try:
        return FaultSpec(command, exit=exit, stdout=stdout, stderr=stderr, die=die, times=times)
    except ValueError as error:
        r.fail(key, "%s: %s" % (key, error))


def parse_package(r: Reader, value: Any, key: str) -> PackageSpec:
    from .tools._index import check_release

    table = r.entry_table(value, key, PACKAGE_KEYS, ("name", "version"))
    extras = {}
    if "extras" in table:
        for extra, reqs in r.table(table["extras"], key + ".extras").items():
            extras[extra] = tuple(r.strings(reqs, "%s.extras.%s" % (key, quote_key(extra))))
    spec = PackageSpec(
        name=r.string(table["name"], key + ".name"),
        version=r.string(table["version"], key + ".version"),
        dependencies=tuple(r.strings(table.get("dependencies", []), key + ".dependencies")),
        extras=tuple(sorted(extras.items())),
    )
    try:
        check_release(spec)
    except ValueError as error:
        r.fail(key, "%s: %s" % (key, error))
    return spec


def parse_lock(r: Reader, value: Any, key: str) -> LockSpec:
    table = r.entry_table(value, key, LOCK_KEYS, ("path",))
    finish = r.command(table["finish"], key + ".finish") if "finish" in table else None
    pid = r.integer(table.get("pid", DEFAULT_LOCK_HOLDER_PID), key + ".pid")
    if pid <= 0:
        r.fail(key + ".pid", "%s.pid must be a positive integer, got %d" % (key, pid))
    alive = r.boolean(table.get("alive", True), key + ".alive")
    if finish is not None and not alive:
        r.fail(key + ".finish", "%s.finish needs a live holder: a dead one (alive = false) finishes nothing" % key)
    return LockSpec(path=r.string(table["path"], key + ".path"), pid=pid, alive=alive, finish=finish)


def parse_entries(parse_entry):
    """The parse function of an array of tables (`[[given.faults]]`), each read by `parse_entry`."""

    def parse(r: Reader, value: Any, key: str) -> list:
        return [parse_entry(r, item, "%s[%d]" % (key, i)) for i, item in enumerate(r.array(value, key))]

    return parse


def parse_shell(r: Reader, value: Any, key: str) -> ShellData:
    table = r.entry_table(value, key, SHELL_KEYS, ())
    path = r.string(table["path"], key + ".path") if "path" in table else None
    if path is not None and not os.path.isabs(path):
        r.fail(key + ".path", "%s.path must be an absolute path like \"/bin/zsh\", got %r" % (key, path))
    extra = tuple(r.strings(table.get("extra", []), key + ".extra"))
    for i, item in enumerate(extra):
        if not os.path.isabs(item):
            r.fail("%s.extra[%d]" % (key, i), "%s.extra[%d] must be an absolute path, got %r" % (key, i, item))
    return ShellData(path=path, defaults=r.boolean(table.get("defaults", True), key + ".defaults"), extra=extra)


def parse_mains(r: Reader, value: Any, key: str) -> Dict[str, MainSpec]:
    from ._mains import BEHAVIOURS, check_behaviour

    form = ('"report" (a built-in main: %s) or a table { behaviour = "report", provided_by = "client" }'
            % ", ".join(BEHAVIOURS))
    mains = {}
    for spec, item in r.table(value, key).items():
        spec = r.expand(spec)
        item_key = "%s.%s" % (key, quote_key(spec))
        module, sep, func = spec.partition(":")
        if not sep or not module or not func:
            r.fail(item_key, "%s: %r is not of the form \"module:func\"" % (item_key, spec))
        provided_by = None
        if isinstance(item, dict):
            r.check_keys(item, MAIN_KEYS, item_key)
            if "behaviour" not in item:
                r.fail(item_key + ".behaviour", "missing key '%s.behaviour' (%s)" % (item_key, form))
            behaviour = r.string(item["behaviour"], item_key + ".behaviour")
            if "provided_by" in item:
                provided_by = r.string(item["provided_by"], item_key + ".provided_by")
        else:
            behaviour = r.string(item, item_key, hint=" (%s)" % form)
        try:
            mains[spec] = MainSpec(check_behaviour(behaviour), provided_by)
        except ValueError as error:
            r.fail(item_key, "%s: %s" % (item_key, error))
    return mains


# endregion: parse functions

# region: the tables

GIVEN_KEYS = KeyTable("given", [
    Key("root", parse_root, doc="absolute path of the repo root in the world (default `/repo`)."),
    Key("layout", parse_layout, doc="""
        start from a prepared repo: `instant`, `min` or `max` (see "Layouts"). Without it the repo is empty."""),
    Key("repo", parse_repo, doc="""
        a real client repo, as committed, at the root of the world: the real path of its directory, relative to
        the directory of the scenario file (`repo = ".."` for a repo whose scenarios are in `scenarios/`). In
        a git work tree its files are what git lists (tracked, and untracked but not ignored: never `venv/`,
        logs, caches, `lconf`); elsewhere a walk skips what the kernel generates (docs/client-testing.md). The
        pins of its constraints files seed the package index. Combine it with `interpreters`, and with
        `[given.mains]` `"module:func" = "import"` to run its own client code."""),
    Key("interpreters", parse_interpreters, doc="""
        array of interpreters that exist in the world. A string `"<path> = <X.Y.Z>"` (`"python3 = 3.11.7"`: a
        bare name means `/usr/bin/<name>`), or a table `{ path = "...", version = "3.12.1", venv = true, base
        = "/usr/bin/python3.12", broken = true }`: `venv` = it is a venv's interpreter, `base` = its base
        interpreter (needs `venv = true`), `broken` = it exists but fails to run (exit 1)."""),
    Key("path", Reader.strings, doc="array of directories for `PATH` (default: the world's own PATH)."),
    Key("env", Reader.string_table, doc='table of environment variables (strings: quote numbers, `N = "1"`).'),
    Key("cwd", Reader.string, doc="the working directory of the runs: relative to the root, or absolute."),
    Key("remove", Reader.strings, doc="array of paths to drop from the layout."),
    Key("dirs", Reader.strings, doc="array of (empty) directories to create."),
    Key("files", parse_files, shown="[given.files]", doc="""
        `"path" = "text"`, or `"path" = { text = "...", executable = true }`. TOML's `'''...'''` is handy for
        multi-line text and JSON."""),
    Key("symlinks", Reader.string_table, shown="[given.symlinks]", doc="""
        `"path" = "target"`; the target is kept exactly as written (it may be relative to the link's
        directory)."""),
    Key("copy", parse_copy, shown="[given.copy]", doc="""
        `"world path" = "real path"`: copy a real file or directory tree of your repo into the world (a
        relative real path is relative to the directory of the scenario file). This is how a client repo tests
        its own real configuration."""),
    Key("before", parse_before, doc="""
        array of earlier runs in the same world, in order, before the `[when]` run: `"./prime --env
        dst/special_env"` or a table `{ run = "...", env = {...}, cwd = "...", exit = 137, files = {
        "pyproject.toml" = "..." }, remove = ["venv/pyvenv.cfg"] }`. Each must end with its `exit` (default
        0), otherwise the scenario fails naming that command (its output tails are shown). `files` and
        `remove` change the world just before that step, as a person would between two runs. Use them to reach
        a state ("after a first boot, then an edit, ..."); only the `[when]` run is checked by `[then]`."""),
    Key("faults", parse_entries(parse_fault), shown="[[given.faults]]", doc="""
        fault points (see "Faults, locks, packages, shells and client mains" below): `command` (required),
        `exit`, `stdout`, `stderr`, `die`, `times`."""),
    Key("packages", parse_entries(parse_package), shown="[[given.packages]]", doc="""
        releases in the package index the fake pip and uv install from: `name`, `version` (required),
        `dependencies` (array of requirement strings), `extras` (table: extra name = array of requirements)."""),
    Key("index_from_constraints", Reader.strings, doc="""
        array of constraints files in the world (paths relative to the root, or absolute): each `name==version`
        line becomes a release of the package index, with no dependencies, unless `[[given.packages]]` has
        that release. A `repo`'s own constraints files need not be listed: they seed the index already."""),
    Key("locks", parse_entries(parse_lock), shown="[[given.locks]]", doc="""
        lock files held by simulated other processes: `path` (required; relative to the root or absolute),
        `pid` (default 4242), `alive` (default true), `finish` (a command, string or array)."""),
    Key("shell", parse_shell, shown="[given.shell]", doc="""
        `path` (absolute: becomes `$SHELL`, a fake shell is added there if needed), `defaults` (false: no
        /bin/bash, /bin/zsh, /bin/sh), `extra` (more fake shells). `env = { SHELL = "/bin/zsh" }` also works
        for a default shell."""),
    Key("mains", parse_mains, shown="[given.mains]", doc="""
        client code: `"module:func" = "report"` names a built-in main (`report`, `extend`, `exit N`, `return
        N`, `fail`, `missing`, and the 0.13-style `proto_main`, `reference_config`, `import_proto_kernel`), or
        `"import"`: the client's own function, imported from the test process and called with the simulated
        host (docs/client-testing.md); or `{ behaviour = "report", provided_by = "client" }`: importable only
        where the distribution `client` is installed."""),
])

WHEN_KEYS = KeyTable("when", [
    Key("run", Reader.command, doc="""
        the command line, split like a shell would (`shlex`): `"./prime eval --json"`. An array is taken as
        the argv as is: `["./prime", "eval"]`. A relative program path is relative to the cwd, a bare name is
        looked up on `PATH`."""),
    Key("env", Reader.string_table, doc="extra environment variables for this run only (merged over `[given] env`)."),
    Key("cwd", Reader.string, doc="the working directory for this run only."),
])

# A `before` step's table: the keys of [when] and three of its own (documented in the `before` row).
BEFORE_KEYS = KeyTable("given.before[]", list(WHEN_KEYS) + [
    Key("exit", Reader.integer, doc="the exit code the step must end with (default 0)."),
    Key("files", parse_step_files, doc="files to write just before the step."),
    Key("remove", Reader.strings, doc="paths to delete just before the step."),
])

# endregion: the tables


def _run_spec(values: Dict[str, Any]) -> RunSpec:
    values = dict(values)
    return RunSpec(command=values.pop("run"), **values)


def read_given(r: Reader, table: Dict[str, Any]) -> Given:
    """`[given]` as a `Given`; reading `root` first sets the `{root}` the other keys expand."""
    return Given(**GIVEN_KEYS.parse(r, table))


def read_when(r: Reader, table: Dict[str, Any]) -> RunSpec:
    r.check_keys(table, WHEN_KEYS.names, "when")
    if "run" not in table:
        r.fail("when.run", "missing key 'when.run' (the command to run, e.g. run = \"./prime\")")
    return _run_spec(WHEN_KEYS.parse(r, table))
