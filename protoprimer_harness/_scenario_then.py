"""The `[then]` section: one `Key` per expectation in `THEN_KEYS` (how it is read, how it is checked,
what it means), the parse and check functions behind them, and `Then`, what a file states.

A check function gets the run's `Outcome` and the parsed value and raises an `AssertionError` when the
expectation does not hold: most call one `Outcome.assert_*` helper, which raises an
`ExpectationFailure` (headline, details, output tails); a check of its own raises one too.
protoprimer_harness._scenario_run checks every key a file states, in table order, and reports all
failures at once. Adding a key is one entry in THEN_KEYS plus its check function (docs/scenarios.md,
"For harness contributors: adding a key").
"""

import json
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple, Union

from .outcome import ExpectationFailure, quote_key, subset_differences
from ._scenario_keys import Key, KeyTable, Parse, unless_empty
from ._scenario_model import FileExpectation
from ._scenario_reader import Reader

__all__ = ["THEN_KEYS", "Then", "read_then"]

FILE_KEYS = ("text", "contains", "symlink", "absent", "exists")


def _strings(r: Reader, value: Any, key: str) -> Tuple[str, ...]:
    return tuple(r.strings(value, key))


def _names(r: Reader, value: Any, key: str) -> Tuple[str, ...]:
    return tuple(r.some_strings(value, key))


# The keys of [then.command_env."PATTERN"], [then.main] and [then.shell]: keyword arguments of
# Outcome.assert_command_env, assert_main and assert_shell (a key not given keeps the argument's default).
ENV_ARGUMENTS: Dict[str, Parse] = {"env_has": _names, "env_lacks": _names, "env": Reader.string_table}
MAIN_ARGUMENTS: Dict[str, Parse] = {
    "called": Reader.boolean, "argv": _strings, **ENV_ARGUMENTS, "interpreter": Reader.string,
    "kernel_path": Reader.string, "config_subset": Reader.json_table, "args_subset": Reader.json_table,
    "ended": Reader.string, "proto_kernel_file": Reader.string,
}
SHELL_ARGUMENTS: Dict[str, Parse] = {"ran": Reader.boolean, "argv": _strings, **ENV_ARGUMENTS, "rc_contains": _names}


# region: parse functions, (reader, value, dotted key) -> value


def parse_json(r: Reader, value: Any, key: str) -> Any:
    """Any TOML value, `{root}` expanded in its strings."""
    return r.expand_any(value)


def parse_counts(r: Reader, value: Any, key: str) -> Dict[str, int]:
    """A table `"substring" = n` (n >= 0), `{root}` expanded in the substrings."""
    counts: Dict[str, int] = {}
    for text, times in r.table(value, key).items():
        item_key = "%s.%s" % (key, quote_key(text))
        times = r.integer(times, item_key)
        if times < 0:
            r.fail(item_key, "%s must be 0 or more, got %d" % (item_key, times))
        counts[r.expand(text)] = times
    return counts


def parse_unchanged(r: Reader, value: Any, key: str) -> Union[bool, List[str]]:
    if value is True:
        return True
    if not isinstance(value, list):
        r.type_error(key, "true (nothing changed) or an array of paths that must not change", value)
    return r.world_paths(value, key)


def _no_expectations(r: Reader, key: str, known) -> None:
    r.fail(key, "[%s] has no expectations (add at least one of: %s)" % (key, ", ".join(known)))


def parse_arguments(r: Reader, value: Any, key: str, arguments: Dict[str, Parse]) -> SimpleNamespace:
    """A sub-table whose keys are keyword arguments of an Outcome assertion: the ones it states, parsed,
    as attributes (`vars()` of it are the keyword arguments)."""
    table = r.entry_table(value, key, tuple(arguments), ())
    if not table:
        _no_expectations(r, key, tuple(arguments))
    return SimpleNamespace(**{name: parse(r, table[name], "%s.%s" % (key, name))
                              for name, parse in arguments.items() if name in table})


def parse_command_env(r: Reader, value: Any, key: str) -> List[SimpleNamespace]:
    """One namespace per pattern: `pattern` and the arguments of Outcome.assert_command_env."""
    patterns = r.table(value, key)
    if not patterns:
        r.fail(key, "[%s] is empty (write [%s.\"PATTERN\"] tables: a substring or glob of the command lines)"
               % (key, key))
    expectations = []
    for name, item in patterns.items():
        item_key = "%s.%s" % (key, quote_key(name))
        expectation = parse_arguments(r, item, item_key, ENV_ARGUMENTS)
        expectation.pattern = r.expand(name)
        if not expectation.pattern:
            r.fail(item_key, "%s: the command pattern must not be empty" % item_key)
        expectations.append(expectation)
    return expectations


def parse_file(r: Reader, name: str, value: Any, key: str) -> FileExpectation:
    form = (
        "a table: { text = \"...\" }, { contains = \"...\" }, { symlink = \"target\" }, "
        "{ absent = true } or { exists = true }"
    )
    if not isinstance(value, dict):
        r.type_error(key, form, value)
    r.check_keys(value, FILE_KEYS, key)
    if not value:
        r.fail(key, "%s is empty (write %s)" % (key, form))
    path = r.world_path(r.expand(name))
    text = r.string(value["text"], key + ".text") if "text" in value else None
    contains = tuple(r.strings(value["contains"], key + ".contains", True)) if "contains" in value else ()
    symlink = r.string(value["symlink"], key + ".symlink") if "symlink" in value else None
    absent = r.boolean(value.get("absent", False), key + ".absent")
    exists = r.boolean(value.get("exists", False), key + ".exists")
    if "absent" in value and not absent:
        r.fail(key + ".absent", "%s.absent = false says nothing: write { exists = true }" % key)
    if "exists" in value and not exists:
        r.fail(key + ".exists", "%s.exists = false says nothing: write { absent = true }" % key)
    if absent and len(value) > 1:
        others = ", ".join(k for k in value if k != "absent")
        r.fail(key, "%s: absent = true cannot be combined with %s" % (key, others))
    if symlink is not None and (text is not None or contains):
        r.fail(key, "%s: symlink cannot be combined with text or contains" % key)
    return FileExpectation(path=path, text=text, contains=contains, symlink=symlink, absent=absent, exists=exists)


def parse_files(r: Reader, value: Any, key: str) -> List[FileExpectation]:
    return [parse_file(r, name, item, "%s.%s" % (key, quote_key(name))) for name, item in r.table(value, key).items()]


def parse_main(r: Reader, value: Any, key: str) -> SimpleNamespace:
    return parse_arguments(r, value, key, MAIN_ARGUMENTS)


def parse_shell(r: Reader, value: Any, key: str) -> SimpleNamespace:
    return parse_arguments(r, value, key, SHELL_ARGUMENTS)


# endregion: parse functions

# region: check functions, (outcome, value) -> None, raising an AssertionError on a miss


def check_stdout_json_subset(outcome, expected: Dict[str, Any]) -> None:
    try:
        actual = json.loads(outcome.stdout)
    except ValueError as e:
        raise ExpectationFailure("stdout is not JSON: %s" % e) from None
    differences = subset_differences(expected, actual)
    if differences:
        raise ExpectationFailure("stdout JSON does not contain the expected keys/values:",
                                 "\n".join("  - " + d for d in differences))


def check_unchanged(outcome, paths: Union[bool, List[str]]) -> None:
    if paths is True:
        outcome.assert_unchanged()
    else:
        outcome.assert_unchanged(list(paths))


def check_arguments(assertion: str):
    """The check of a sub-table read by `parse_arguments`: `outcome.<assertion>(**its arguments)`."""

    def check(outcome, arguments: SimpleNamespace) -> None:
        getattr(outcome, assertion)(**vars(arguments))

    return check


def split_command_env(key: str, expectations: List[SimpleNamespace]) -> List[Tuple[str, Any]]:
    """One expectation per pattern, under `then.command_env."PATTERN"`."""
    return [("%s.%s" % (key, quote_key(e.pattern)), e) for e in expectations]


def split_files(key: str, expectations: List[FileExpectation]) -> List[Tuple[str, FileExpectation]]:
    """One expectation per path and per thing said of it (`text`, each `contains`, ...), each a
    FileExpectation saying only that, under `then.files."PATH"`."""
    parts = []
    for e in expectations:
        path_key = "%s.%s" % (key, quote_key(e.path))
        if e.absent:
            parts.append((path_key, FileExpectation(e.path, absent=True)))
            continue
        if e.symlink is not None:
            parts.append((path_key, FileExpectation(e.path, symlink=e.symlink)))
        if e.text is not None:
            parts.append((path_key, FileExpectation(e.path, text=e.text)))
        parts.extend((path_key, FileExpectation(e.path, contains=(part,))) for part in e.contains)
        if e.exists and e.symlink is None and e.text is None and not e.contains:
            parts.append((path_key, FileExpectation(e.path, exists=True)))
    return parts


def check_file(outcome, expectation: FileExpectation) -> None:
    """One part made by `split_files`."""
    if expectation.absent:
        outcome.assert_absent(expectation.path)
    elif expectation.symlink is not None:
        outcome.assert_symlink(expectation.path, expectation.symlink)
    elif expectation.text is not None:
        outcome.assert_file(expectation.path, text=expectation.text)
    elif expectation.contains:
        outcome.assert_file(expectation.path, contains=expectation.contains)
    else:
        outcome.assert_file(expectation.path)


# endregion: check functions

# region: the table

THEN_KEYS = KeyTable("then", header=("key", "passes when"), keys=[
    Key("exit", Reader.integer, check=lambda outcome, code: outcome.assert_exit(code),
        doc="the exit code of the run is this integer."),
    Key("stdout", Reader.string, check=lambda outcome, text: outcome.assert_stdout(equals=text),
        doc="stdout is exactly this text (a diff is shown otherwise)."),
    Key("stdout_contains", Reader.some_strings, split=unless_empty,
        check=lambda outcome, parts: outcome.assert_stdout(contains=tuple(parts)),
        doc="stdout contains each of these strings (a single string is accepted too)."),
    Key("stdout_json", parse_json, check=lambda outcome, value: outcome.assert_stdout_json(value),
        doc="stdout parsed as JSON equals this value (a table or an array)."),
    Key("stdout_json_subset", Reader.json_table, check=check_stdout_json_subset, doc="""
        stdout parsed as JSON contains every key/value of this table, recursively for tables; other values
        (arrays too) must be equal. `true` never matches `1`."""),
    Key("stderr", Reader.string, check=lambda outcome, text: outcome.assert_stderr(equals=text),
        doc='stderr is exactly this text (`stderr = ""`: nothing on stderr).'),
    Key("stderr_contains", Reader.some_strings, split=unless_empty,
        check=lambda outcome, parts: outcome.assert_stderr(contains=tuple(parts)),
        doc="stderr contains each of these strings (a single string is accepted too)."),
    Key("stderr_not_contains", Reader.some_strings, split=unless_empty,
        check=lambda outcome, parts: outcome.assert_stderr(not_contains=tuple(parts)),
        doc='stderr contains none of these strings (`["Traceback"]` is a good default).'),
    Key("stderr_counts", parse_counts, split=unless_empty,
        check=lambda outcome, counts: outcome.assert_stderr(counts=dict(counts)),
        doc='table `"substring" = n`: stderr contains that substring exactly `n` times.'),
    Key("stderr_max_counts", parse_counts, split=unless_empty,
        check=lambda outcome, counts: outcome.assert_stderr(max_counts=dict(counts)), doc="""
        table `"substring" = n`: stderr contains that substring at most `n` times ("may say it, but once at
        most")."""),
    Key("unchanged", parse_unchanged, check=check_unchanged, doc="""
        `true`: nothing was created, modified or deleted. Or an array of paths: nothing at or under these
        paths changed (`["venv/", "constraints.txt"]`)."""),
    Key("written", Reader.world_paths, check=lambda outcome, paths: outcome.assert_written(list(paths)), doc="""
        exactly these paths were created, modified or deleted (cannot be combined with `unchanged = true`)."""),
    Key("chain", Reader.strings, check=lambda outcome, chain: outcome.assert_chain(list(chain)), doc="""
        the simulated processes, in order, as `"<interpreter> (<stride>)"`, e.g. `["/usr/bin/python3
        (stride_py_unknown)", "/repo/venv/bin/python (stride_py_venv)"]`. An entry without `(...)` compares
        only the interpreter; a bare name means `/usr/bin/<name>`. `[]`: no process at all (an entry
        script's shell front ended the run itself)."""),
    Key("commands", Reader.strings, check=lambda outcome, lines: outcome.assert_commands(list(lines)), doc="""
        every command the kernel ran (`host.proc.run`), each as its shell-quoted argv line; `[]` means none.
        The probe code shows as `PYTHON_PROBE_CODE`."""),
    Key("command_env", parse_command_env, check=check_arguments("assert_command_env"), split=split_command_env,
        shown='[then.command_env."PATTERN"]', doc="""
        the environment every command matching PATTERN ran with: `env_has`, `env_lacks`, `env` (as in
        `[then.main]`). PATTERN matches a command line as a fault's `command` does: a substring, or a glob
        over the whole line when it has `*` or `?` (`"* -c PYTHON_PROBE_CODE"`: every probe). At least one
        command must match."""),
    Key("files", parse_files, check=check_file, split=split_files, shown="[then.files]", doc="""
        per path, one table: `{ text = "..." }` (the file has exactly this text), `{ contains = "..." }` (or
        an array of strings), `{ symlink = "target" }` (a symlink with exactly this target text), `{ absent =
        true }` (nothing there), `{ exists = true }` (a file is there). `text` and `contains` may be combined."""),
    Key("killed", Reader.boolean, check=lambda outcome, killed: outcome.assert_killed(killed),
        doc="`true`: a fault killed the process (the run exited 137); `false`: it was not killed."),
    Key("main", parse_main, check=check_arguments("assert_main"), shown="[then.main]", doc="""
        expectations on the last client main called (see below): `called`, `argv`, `env_has`, `env_lacks`,
        `env`, `interpreter`, `kernel_path`, `config_subset`, `args_subset`, `ended`, `proto_kernel_file`."""),
    Key("shell", parse_shell, check=check_arguments("assert_shell"), shown="[then.shell]", doc="""
        expectations on the shell the chain ended in: `ran`, `argv`, `env_has`, `env_lacks`, `env`,
        `rc_contains`."""),
])

# endregion: the table


class Then:
    """`[then]`: the expectations a file states. `values` maps each key the file has to its parsed value,
    in the order of THEN_KEYS (the order they are checked in). `then.exit` reads one key: its value, or
    None when the file does not state it."""

    def __init__(self, values: Dict[str, Any]):
        self.values = dict(values)

    def __getattr__(self, name: str) -> Any:
        if name in THEN_KEYS:
            return self.__dict__.get("values", {}).get(name)
        raise AttributeError("%r is not a [then] key (the keys: %s)" % (name, ", ".join(THEN_KEYS.names)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Then) and other.values == self.values

    def __repr__(self) -> str:
        return "Then(%r)" % (self.values,)

    def expectations(self) -> List[Tuple[str, Key, Any]]:
        """Every expectation to check, in order: (dotted key, its Key, the value or part to check)."""
        return [(dotted, key, part) for key in THEN_KEYS if key.name in self.values
                for dotted, part in key.split("then." + key.name, self.values[key.name])]


def read_then(r: Reader, table: Dict[str, Any]) -> Then:
    r.check_keys(table, THEN_KEYS.names, "then")
    if not table:
        _no_expectations(r, "then", THEN_KEYS.names)
    values = THEN_KEYS.parse(r, table)
    if values.get("unchanged") is True and "written" in values:
        r.fail("then.written", "then.unchanged = true and then.written contradict each other: keep one")
    return Then(values)
