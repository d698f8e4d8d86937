"""What a run left behind, and assertions on it that fail with a readable diff.

Every `assert_*` raises `ExpectationFailure` (an `AssertionError`): a headline saying what was expected and
what happened, details (a `difflib` unified diff for lists and multi-line text, a list of problems), and the
last lines of stderr and stdout. Its message is the three in that order; the scenario report
(protoprimer_harness._scenario_run) shows the headline and details of each failure and the tails once.
Paths in an outcome are relative to the world's root when under it, absolute otherwise; assertion
arguments may be given either way.

The helpers that format expected against actual data (`subset_differences`, `quote_key`) are shared with
the scenario checks, so a mismatch reads the same from Python and from a scenario file.

Why one module of about 700 lines: it is one concept, what a run left and the assertions users make on it;
the records and the `assert_*` methods are read together (an assertion's failure prints the records), and
users import them from one place.
"""

import difflib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from ._snapshot import Entry, Snapshot

TAIL_LINES = 20
UNKNOWN_STRIDE = "stride_py_unknown"
STRIDE_VARIABLE = "PROTOPRIMER_PY_EXEC"


@dataclass
class ProcessRecord:
    """One simulated process: which interpreter ran what, with which stride, argv and env (at start).

    `interpreter` is the executable as invoked (absolute; for a shell, the shell); `argv` is `sys.argv` as
    the process saw it (a shell: its argv); `exec_argv` the argv it was started with; `ended` is "exit N",
    "replaced", "crashed" or "killed"; `kind` is "python" or "shell" (then `shell` has the details).
    """

    interpreter: str
    stride: str
    argv: List[str]
    env: Dict[str, str]
    code: str
    exec_argv: List[str] = field(default_factory=list)
    cwd: str = ""
    pid: int = 0
    ended: str = ""
    kind: str = "python"
    shell: Optional["ShellRecord"] = None


@dataclass
class ShellRecord:
    """A shell the chain ended in (process replacement): what it was started with and what it would read.

    `mode` is "command" (`command` = the -c text) or "interactive" (`rc_file` = the file it sources at
    start, `rc_text` = that file's text when it started, None if missing); `exit_code` is what it exited
    with (0, or a fault's).
    """

    path: str
    name: str
    argv: List[str]
    env: Dict[str, str]
    mode: str
    command: Optional[str] = None
    rc_file: Optional[str] = None
    rc_text: Optional[str] = None
    exit_code: int = 0


@dataclass
class CommandRecord:
    """One `host.proc.run` call and its result.

    `line` is the shlex-joined argv with long well-known arguments abbreviated (the probe code shows as
    `PYTHON_PROBE_CODE`); `full_line` is the exact shlex-joined argv. `streamed`: run with stream=True (the
    output went to the process's streams, the kernel got none); `fault`: the fault point that changed it;
    `killed`: "before" / "during" / "after" when a fault killed the process at this command.
    """

    argv: List[str]
    returncode: int
    stdout: str = ""
    stderr: str = ""
    env: Optional[Dict[str, str]] = None
    cwd: Optional[str] = None
    line: str = ""
    streamed: bool = False
    fault: Optional[str] = None
    killed: Optional[str] = None

    @property
    def full_line(self) -> str:
        return shlex.join(self.argv)


@dataclass
class FsOpRecord:
    """One call of an operation of the filesystem port that changes files (`write_text`, `make_symlink`,
    `append_text`, `make_dirs`, `remove`, `remove_tree`, `move`, `copy`), by the simulated process `pid`.

    `path` is the operation's path (for `move`/`copy` the source, for `make_symlink` the link); `dst` the
    destination of a `move`/`copy`; `target` the text a `make_symlink` link points at. `fault`: the fault
    point that changed it; `killed`: "before" / "after" when a fault killed the process at this call;
    `error`: the errno name (`ENOSPC`, `ENOENT`, ...) when the call raised an OSError, injected or real.
    """

    op: str
    path: str
    dst: Optional[str] = None
    target: Optional[str] = None
    pid: Optional[int] = None
    fault: Optional[str] = None
    killed: Optional[str] = None
    error: Optional[str] = None

    @property
    def line(self) -> str:
        """"write_text /repo/constraints.txt", "move /repo/venv -> /repo/venv.moved", "make_symlink /repo/x -> t"."""
        if self.dst is not None:
            return "%s %s -> %s" % (self.op, self.path, self.dst)
        if self.target is not None:
            return "%s %s -> %s" % (self.op, self.path, self.target)
        return "%s %s" % (self.op, self.path)


@dataclass
class MainCall:
    """One `host.proc.call_main` call: the client main, and the process facts it was called with.

    `env` and `argv` are what the client code saw; `executable` the interpreter it ran in; `ended` is
    "returned R", "exit N" or "raised X". The built-in mains (`protoprimer_harness._mains`) fill in more: `behaviour`,
    `kernel_path` (kernel.get_proto_kernel_abs_path), `config` (kernel.get_config) or `config_error`,
    `args` (vars of kernel.parse_args) or `args_error`, `installed_kernel` (the `__file__` of the installed
    kernel module the process can import, or None), `proto_kernel_file` (the `__file__` of what
    `import proto_kernel` gave the client code).
    """

    spec: str
    argv: List[str]
    env: Dict[str, str]
    executable: str = ""
    ended: str = ""
    behaviour: Optional[str] = None
    kernel_path: Optional[str] = None
    config: Optional[Dict[str, Any]] = None
    config_error: Optional[str] = None
    args: Optional[Dict[str, Any]] = None
    args_error: Optional[str] = None
    installed_kernel: Optional[str] = None
    proto_kernel_file: Optional[str] = None


def display_path(path: str, root: str) -> str:
    """`path` relative to `root` when under it (a trailing "/" kept), else absolute."""
    trailing = "/" if path.endswith("/") and path != "/" else ""
    normal = os.path.normpath(path)
    if normal == root:
        return "." + trailing
    if normal.startswith(root.rstrip("/") + "/"):
        return os.path.relpath(normal, root) + trailing
    return normal + trailing


def world_path(path: str, root: str) -> str:
    """The absolute path of `path` given relative to `root` or absolute."""
    return os.path.normpath(os.path.join(root, path))


def _as_list(values: Union[str, Iterable[str], None]) -> List[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return list(values)


def _tail(title: str, text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return "--- %s: (empty) ---" % title
    shown = lines[-TAIL_LINES:]
    skipped = len(lines) - len(shown)
    if skipped:
        header = "--- %s (last %d of %d lines) ---" % (title, len(shown), len(lines))
    else:
        header = "--- %s ---" % title
    return "\n".join([header] + shown)


def output_tails(stderr: str, stdout: str) -> str:
    """The last lines of stderr, then of stdout, each under a `--- stderr ---` / `--- stdout ---` header."""
    return "%s\n%s" % (_tail("stderr", stderr), _tail("stdout", stdout))


class ExpectationFailure(AssertionError):
    """An expectation on a run did not hold.

    `headline` says what was expected and what happened (one line), `details` shows where they differ (a
    diff, a list of problems; may be empty), `tails` is the end of the run's output (`output_tails`; may
    be empty). The message is the three, one after the other, so a failed `assert_*` reads in full where
    pytest shows it; a report of several failures takes `explanation` (headline and details) of each and
    shows the output once.
    """

    def __init__(self, headline: str, details: str = "", tails: str = ""):
        self.headline = headline
        self.details = details
        self.tails = tails
        super().__init__("\n".join(part for part in (headline, details, tails) if part))

    @property
    def explanation(self) -> str:
        """The headline and the details, without the output tails."""
        return "\n".join(part for part in (self.headline, self.details) if part)


def _found(entry: Optional[Entry]) -> str:
    return "nothing" if entry is None else "a " + entry.kind


def unified_diff(expected: Sequence[str], actual: Sequence[str], what: str) -> str:
    lines = difflib.unified_diff(
        list(expected), list(actual), "expected %s" % what, "actual %s" % what, lineterm="", n=3
    )
    return "\n".join(lines)


def _name_matches(pattern: str, names: Iterable[str]) -> List[str]:
    if pattern.endswith("*"):
        return sorted(n for n in names if n.startswith(pattern[:-1]))
    return [pattern] if pattern in names else []


def _env_problems(actual: Dict[str, str], has: Sequence[str], lacks: Sequence[str],
                  exact: Optional[Dict[str, str]]) -> List[str]:
    problems = []
    for pattern in _as_list(has):
        if not _name_matches(pattern, actual):
            problems.append("env: expected %s, it is not there" % (
                "a variable named %s" % pattern if pattern.endswith("*") else pattern))
    for pattern in _as_list(lacks):
        found = _name_matches(pattern, actual)
        if found:
            problems.append("env: expected no %s, found %s" % (pattern, ", ".join(
                "%s=%r" % (name, actual[name]) for name in found)))
    for name, value in (exact or {}).items():
        if actual.get(name) != value:
            problems.append("env: expected %s=%r, got %s" % (
                name, value, "%r" % actual[name] if name in actual else "nothing"))
    return problems


def _command_lines(command: CommandRecord) -> List[str]:
    """The lines a command pattern is matched against: the abbreviated line and the full one."""
    full = command.full_line
    return [command.line] if command.line == full else [command.line, full]


def quote_key(key: str) -> str:
    """A key as TOML writes it in a dotted path: bare when it can be, else quoted (`a`, `"a b"`)."""
    if re.match(r"^[A-Za-z0-9_-]+$", key):
        return key
    return json.dumps(key)


def short_repr(value: Any) -> str:
    """`repr(value)`, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# (type, its TOML name, its JSON name), bool before int (a bool is an int)
_TYPE_NAMES = ((bool, "boolean", "boolean"), (int, "integer", "number"), (float, "float", "number"),
               (str, "string", "string"), (list, "array", "array"), (dict, "table", "object"))


def type_name(value: Any, toml: bool = False) -> str:
    """The name of a parsed value's type for messages: JSON's ("number", "object", "null"), or TOML's
    ("integer", "table", ...) with `toml`."""
    if value is None and not toml:
        return "null"
    for cls, toml_name, json_name in _TYPE_NAMES:
        if isinstance(value, cls):
            return toml_name if toml else json_name
    return "date/time" if toml else type(value).__name__


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def subset_differences(expected: Any, actual: Any, where: str = "") -> List[str]:
    """Where `actual` fails to contain `expected`, one line each: dicts recursively by key (named by their
    dotted path), anything else by equality (booleans never equal numbers). Empty when it contains it."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return ["%s: expected an object, got %s %s" % (where or "(top)", type_name(actual), short_repr(actual))]
        found: List[str] = []
        for key, value in expected.items():
            path = "%s.%s" % (where, quote_key(str(key))) if where else quote_key(str(key))
            if key not in actual:
                found.append("%s: missing (expected %s)" % (path, _json(value)))
            else:
                found.extend(subset_differences(value, actual[key], path))
        return found
    if expected == actual and isinstance(expected, bool) == isinstance(actual, bool):
        return []
    return ["%s: expected %s, got %s" % (where or "(top)", _json(expected), _json(actual))]


@dataclass
class Outcome:
    """The result of one `WorldSession.run`: exit code, process chain, commands, file changes, output.

    `files` is the final state of the fake filesystem (absolute paths), so file assertions work after
    the session has ended. `killed`: a fault killed the process (exit 137). `concurrent_runs`: the runs of
    simulated concurrent processes that finished while this run waited for a lock (protoprimer_harness._session_state).
    `faults`: the fault points that fired (`FaultHit`). `fs_ops`: every call of the filesystem port that
    changes files, by every process of the chain, in order (`FsOpRecord`).
    """

    root: str
    exit_code: int = 0
    processes: List[ProcessRecord] = field(default_factory=list)
    commands: List[CommandRecord] = field(default_factory=list)
    main_calls: List[MainCall] = field(default_factory=list)
    created: List[str] = field(default_factory=list)
    modified: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    crashed: bool = False
    killed: bool = False
    concurrent_runs: List["Outcome"] = field(default_factory=list)
    faults: List[Any] = field(default_factory=list)
    fs_ops: List[FsOpRecord] = field(default_factory=list)
    files: Snapshot = field(default_factory=dict, repr=False)

    # --- views ---------------------------------------------------------------------------------------

    def chain(self) -> List[str]:
        """["<interpreter> (<stride>)", ...], one per simulated process."""
        return ["%s (%s)" % (p.interpreter, p.stride) for p in self.processes]

    def command_lines(self) -> List[str]:
        return [c.line or c.full_line for c in self.commands]

    def fs_op_lines(self) -> List[str]:
        """"write_text /repo/constraints.txt", ... one per recorded filesystem operation (`fs_ops`)."""
        return [record.line for record in self.fs_ops]

    @property
    def shell(self) -> Optional[ShellRecord]:
        """The shell the chain ended in, or None."""
        if self.processes and self.processes[-1].kind == "shell":
            return self.processes[-1].shell
        return None

    @property
    def main_call(self) -> Optional[MainCall]:
        """The last client main called, or None."""
        return self.main_calls[-1] if self.main_calls else None

    def leaked_variables(self, prefix: str = "PROTOPRIMER_") -> List[str]:
        """Where a variable named `prefix`... reached something that is not the kernel: a command it ran (an
        installer, a probe), client code (`main_calls`), the shell the chain ended in; concurrent runs
        included. One line per place, naming the variables; a command run with the inherited environment
        counts when a process of the chain had such variables. The kernel's own restarts are not places."""
        def names(env: Optional[Dict[str, str]]) -> List[str]:
            return sorted(name for name in (env or {}) if name.startswith(prefix))

        inherited = sorted(set(name for process in self.processes for name in names(process.env)))
        leaks = []
        for command in self.commands:
            found = names(command.env) if command.env is not None else inherited
            if found:
                leaks.append("command %s got %s" % (command.line or command.full_line, ", ".join(found)))
        for call in self.main_calls:
            if names(call.env):
                leaks.append("client main %s got %s" % (call.spec, ", ".join(names(call.env))))
        if self.shell is not None and names(self.shell.env):
            leaks.append("shell %s got %s" % (" ".join(self.shell.argv), ", ".join(names(self.shell.env))))
        for run in self.concurrent_runs:
            leaks.extend("(a concurrent run) " + leak for leak in run.leaked_variables(prefix))
        return leaks

    def assert_no_leaked_variables(self, prefix: str = "PROTOPRIMER_") -> "Outcome":
        leaks = self.leaked_variables(prefix)
        if leaks:
            self.fail("%s variables reached what is not the kernel" % prefix, "\n".join(leaks))
        return self

    def written(self) -> List[str]:
        """Every path created, modified or deleted, sorted."""
        return sorted(set(self.created) | set(self.modified) | set(self.deleted))

    def summary(self) -> str:
        lines = ["exit %d%s%s" % (self.exit_code, " (crashed)" if self.crashed else "",
                                  " (killed)" if self.killed else "")]
        lines += ["process: " + entry for entry in self.chain()]
        lines += ["command: " + line for line in self.command_lines()]
        lines += ["fault: " + hit.describe() for hit in self.faults]
        lines += ["main: %s (%s)" % (call.spec, call.ended) for call in self.main_calls]
        lines += ["concurrent run: " + run.summary().replace("\n", "\n  ") for run in self.concurrent_runs]
        lines += ["created: " + p for p in self.created]
        lines += ["modified: " + p for p in self.modified]
        lines += ["deleted: " + p for p in self.deleted]
        return "\n".join(lines)

    # --- failure reporting ---------------------------------------------------------------------------

    def fail(self, headline: str, details: str = "") -> None:
        """Raise the ExpectationFailure every helper raises: headline, details, then the output tails."""
        raise ExpectationFailure(headline, details, output_tails(self.stderr, self.stdout))

    def _fail_lists(self, what: str, expected: Sequence[str], actual: Sequence[str]) -> None:
        self.fail("%s differ" % what, unified_diff(expected, actual, what))

    # --- exit and output -----------------------------------------------------------------------------

    def assert_exit(self, code: int) -> "Outcome":
        if self.exit_code != code:
            self.fail("expected exit %d, got %d%s%s" % (code, self.exit_code, " (crashed)" if self.crashed else "",
                                                        " (killed)" if self.killed else ""))
        return self

    def assert_killed(self, killed: bool = True) -> "Outcome":
        if self.killed != killed:
            where = [c.line for c in self.commands if c.killed]
            self.fail("expected the run %sto be killed by a fault, but it was%s%s" % (
                "" if killed else "not ", "" if self.killed else " not",
                (" (at %s)" % where[-1]) if where else ""))
        return self

    # --- client code and shells ----------------------------------------------------------------------

    def assert_main(self, called: Optional[bool] = None, argv: Optional[Sequence[str]] = None,
                    env_has: Sequence[str] = (), env_lacks: Sequence[str] = (), env: Optional[Dict[str, str]] = None,
                    interpreter: Optional[str] = None, kernel_path: Optional[str] = None,
                    config_subset: Optional[Dict[str, Any]] = None, args_subset: Optional[Dict[str, Any]] = None,
                    ended: Optional[str] = None, proto_kernel_file: Optional[str] = None) -> "Outcome":
        """Expectations on the last client main call. `env_has`/`env_lacks` are names; a trailing "*" is a
        prefix ("PROTOPRIMER_*": some / no variable starts with PROTOPRIMER_). `env`: exact values."""
        call = self.main_call
        if called is not None and (call is not None) != called:
            self.fail("expected %s, but %s" % (
                "a client main to be called" if called else "no client main to be called",
                "none was" if call is None else "%s was (%s)" % (call.spec, call.ended)))
        if call is None:
            if any(x is not None for x in (argv, env, interpreter, kernel_path, config_subset, args_subset, ended,
                                           proto_kernel_file)) \
                    or env_has or env_lacks:
                self.fail("expected a client main call to check, but no client main was called")
            return self
        problems = []
        if argv is not None and list(argv) != call.argv:
            problems.append("argv: expected %r, got %r" % (list(argv), call.argv))
        problems += _env_problems(call.env, env_has, env_lacks, env)
        if interpreter is not None and self._normal_interpreter(interpreter) != call.executable:
            problems.append("interpreter: expected %s, got %s" % (self._normal_interpreter(interpreter),
                                                                 call.executable))
        if kernel_path is not None and world_path(kernel_path, self.root) != call.kernel_path:
            problems.append("kernel_path: expected %s, got %s" % (world_path(kernel_path, self.root),
                                                                 call.kernel_path))
        if proto_kernel_file is not None and world_path(proto_kernel_file, self.root) != call.proto_kernel_file:
            problems.append("proto_kernel_file: expected %s, got %s" % (
                world_path(proto_kernel_file, self.root),
                call.proto_kernel_file or "nothing recorded (the main is not the built-in 'import_proto_kernel')"))
        # what the built-in mains "report" and "extend" record, checked like stdout_json_subset
        recorded_by = (("config", config_subset, call.config, call.config_error, "report"),
                       ("args", args_subset, call.args, call.args_error, "extend"))
        for what, subset, recorded, error, builtin in recorded_by:
            if subset is None:
                continue
            if recorded is None:
                reason = error or "the main is not the built-in '%s'" % builtin
                problems.append("%s: none recorded (%s)" % (what, reason))
            else:
                problems += ["%s: %s" % (what, d) for d in subset_differences(subset, recorded)]
        if ended is not None and ended != call.ended:
            problems.append("ended: expected %r, got %r" % (ended, call.ended))
        if problems:
            self.fail("client main %s differs from the expectations:" % call.spec,
                      "\n".join("  - " + p for p in problems))
        return self

    def assert_shell(self, argv: Optional[Sequence[str]] = None, env_has: Sequence[str] = (),
                     env_lacks: Sequence[str] = (), env: Optional[Dict[str, str]] = None,
                     rc_contains: Sequence[str] = (), ran: Optional[bool] = None) -> "Outcome":
        """Expectations on the shell the chain ended in (see `assert_main` for the env checks)."""
        shell = self.shell
        if ran is not None and (shell is not None) != ran:
            self.fail("expected %s, but %s" % ("the chain to end in a shell" if ran else "no shell",
                                               "it did not" if shell is None else "it ended in %s" % shell.path))
        if shell is None:
            if argv is not None or env_has or env_lacks or env is not None or rc_contains:
                self.fail("expected the chain to end in a shell, but it ended in %s" % (
                    self.chain()[-1] if self.processes else "no process"))
            return self
        problems = []
        if argv is not None and list(argv) != shell.argv:
            problems.append("argv: expected %r, got %r" % (list(argv), shell.argv))
        problems += _env_problems(shell.env, env_has, env_lacks, env)
        for part in _as_list(rc_contains):
            if shell.rc_text is None:
                problems.append("rc file %s: missing (expected it to contain %r)" % (shell.rc_file, part))
            elif part not in shell.rc_text:
                problems.append("rc file %s does not contain %r" % (shell.rc_file, part))
        if problems:
            self.fail("shell %s differs from the expectations:" % shell.path, "\n".join("  - " + p for p in problems))
        return self

    def _assert_text(self, stream: str, text: str, equals, contains, not_contains=(), counts=None,
                     max_counts=None) -> None:
        if equals is not None and text != equals:
            self.fail(
                "%s differs" % stream,
                unified_diff(equals.splitlines(), text.splitlines(), stream),
            )
        missing = [part for part in _as_list(contains) if part not in text]
        if missing:
            self.fail("%s does not contain: %s" % (stream, ", ".join(repr(part) for part in missing)))
        present = [part for part in _as_list(not_contains) if part in text]
        if present:
            self.fail("%s contains (but must not): %s" % (stream, ", ".join(repr(part) for part in present)))
        wrong = [
            "%r: expected %d, got %d" % (part, times, text.count(part))
            for part, times in (counts or {}).items()
            if text.count(part) != times
        ]
        if wrong:
            self.fail("%s counts differ: %s" % (stream, "; ".join(wrong)))
        too_many = [
            "%r: expected at most %d, got %d" % (part, times, text.count(part))
            for part, times in (max_counts or {}).items()
            if text.count(part) > times
        ]
        if too_many:
            self.fail("%s has too many: %s" % (stream, "; ".join(too_many)))

    def assert_stdout(self, *, equals: Optional[str] = None, contains=(), not_contains=(),
                      counts: Optional[Dict[str, int]] = None, max_counts: Optional[Dict[str, int]] = None) -> "Outcome":
        """`counts`: substring -> exactly that many times; `max_counts`: substring -> at most that many."""
        self._assert_text("stdout", self.stdout, equals, contains, not_contains, counts, max_counts)
        return self

    def assert_stderr(self, *, equals: Optional[str] = None, contains=(), not_contains=(),
                      counts: Optional[Dict[str, int]] = None, max_counts: Optional[Dict[str, int]] = None) -> "Outcome":
        """As assert_stdout, for stderr."""
        self._assert_text("stderr", self.stderr, equals, contains, not_contains, counts, max_counts)
        return self

    def stdout_json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as error:
            self.fail("stdout is not JSON: %s" % error)

    def assert_stdout_json(self, expected) -> "Outcome":
        actual = self.stdout_json()
        if actual != expected:
            self._fail_lists(
                "stdout JSON",
                json.dumps(expected, indent=2, sort_keys=True).splitlines(),
                json.dumps(actual, indent=2, sort_keys=True).splitlines(),
            )
        return self

    # --- processes and commands ----------------------------------------------------------------------

    def _normal_interpreter(self, name: str) -> str:
        if "/" not in name:
            return "/usr/bin/" + name
        return world_path(name, self.root)

    def assert_chain(self, expected: Sequence[str]) -> "Outcome":
        """Each entry is "<interpreter> (<stride>)" or "<interpreter>" (then only the interpreter is
        compared). A bare name means /usr/bin/<name>; a relative path is relative to the root."""
        expected_shown, actual_shown = [], []
        for index, entry in enumerate(expected):
            interpreter, has_stride, rest = entry.partition(" (")
            interpreter = self._normal_interpreter(interpreter.strip())
            expected_shown.append("%s (%s" % (interpreter, rest) if has_stride else interpreter)
            if index < len(self.processes):
                process = self.processes[index]
                actual_shown.append(
                    "%s (%s)" % (process.interpreter, process.stride) if has_stride else process.interpreter
                )
        actual_shown += self.chain()[len(expected):]
        if expected_shown != actual_shown:
            self._fail_lists("process chains", expected_shown, actual_shown)
        return self

    def assert_commands(self, expected: Sequence[str]) -> "Outcome":
        """Compare shlex-joined argv of every `run` call; an entry may use the abbreviated or full form."""
        actual = self.command_lines()
        shown = [
            self.commands[i].line if i < len(self.commands) and entry == self.commands[i].full_line else entry
            for i, entry in enumerate(expected)
        ]
        if shown != actual:
            self._fail_lists("commands", shown, actual)
        return self

    def assert_command_env(self, pattern: str, env_has: Sequence[str] = (), env_lacks: Sequence[str] = (),
                           env: Optional[Dict[str, str]] = None) -> "Outcome":
        """Every command whose line matches `pattern` (as a fault's `command`: a substring of the line, or a
        glob over the whole line when it has * or ?; the abbreviated or the full line) ran with an
        environment that passes the checks of `assert_main`; at least one command must match."""
        from ._session_state import line_matches

        matched = [c for c in self.commands if line_matches(pattern, _command_lines(c))]
        if not matched:
            self.fail("no command matches %r; the commands:" % pattern,
                      "\n".join("  " + line for line in self.command_lines()) or "  (none)")
        problems = []
        for command in matched:
            problems += ["%s: %s" % (command.line, p)
                         for p in _env_problems(command.env or {}, env_has, env_lacks, env)]
        if problems:
            self.fail("the environment of the commands matching %r differs from the expectations:" % pattern,
                      "\n".join("  - " + p for p in problems))
        return self

    # --- files ---------------------------------------------------------------------------------------

    def _display_set(self, paths: Iterable[str]) -> List[str]:
        return sorted(display_path(world_path(p, self.root) + ("/" if p.endswith("/") else ""), self.root)
                      for p in paths)

    def assert_unchanged(self, paths: Optional[Iterable[str]] = None) -> "Outcome":
        """Nothing was created, modified or deleted (with `paths`: nothing at or under those paths)."""
        written = self.written()
        if paths is not None:
            prefixes = [world_path(p, self.root) for p in _as_list(paths)]
            written = [
                w for w in written
                if any(
                    world_path(w, self.root) == prefix or world_path(w, self.root).startswith(prefix + "/")
                    for prefix in prefixes
                )
            ]
        if written:
            where = "" if paths is None else " under %s" % ", ".join(_as_list(paths))
            self.fail("expected no changes%s, got:" % where, "\n".join("  " + w for w in written))
        return self

    def assert_written(self, paths: Iterable[str]) -> "Outcome":
        """Exactly these paths were created, modified or deleted."""
        expected = self._display_set(_as_list(paths))
        if expected != self.written():
            self._fail_lists("written paths", expected, self.written())
        return self

    def _entry(self, path: str, follow: bool = True) -> Optional[Entry]:
        absolute = world_path(path, self.root)
        for _ in range(40):
            entry = self.files.get(absolute)
            if entry is None or entry.kind != "symlink" or not follow:
                return entry
            absolute = os.path.normpath(os.path.join(os.path.dirname(absolute), entry.target or ""))
        return None

    def file_text(self, path: str) -> str:
        entry = self._entry(path)
        if entry is None or entry.kind != "file":
            self.fail("expected a file at %s, found %s" % (path, _found(entry)))
        return entry.text()

    def assert_file(self, path: str, text: Optional[str] = None, contains=None) -> "Outcome":
        actual = self.file_text(path)
        if text is not None and actual != text:
            self.fail("file %s differs" % path, unified_diff(text.splitlines(), actual.splitlines(), path))
        missing = [part for part in _as_list(contains) if part not in actual]
        if missing:
            self.fail("file %s does not contain: %s" % (path, ", ".join(repr(part) for part in missing)),
                      "\n".join(("--- file %s ---\n" % path + actual).splitlines()[: TAIL_LINES + 1]))
        return self

    def assert_symlink(self, path: str, target: str) -> "Outcome":
        entry = self._entry(path, follow=False)
        if entry is None or entry.kind != "symlink":
            self.fail("expected a symlink at %s, found %s" % (path, _found(entry)))
        if entry.target != target:
            self.fail("symlink %s: expected target %r, got %r" % (path, target, entry.target))
        return self

    def assert_absent(self, path: str) -> "Outcome":
        entry = self._entry(path, follow=False)
        if entry is not None:
            self.fail("expected nothing at %s, found a %s" % (path, entry.kind))
        return self
