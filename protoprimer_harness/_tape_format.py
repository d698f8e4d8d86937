"""The tape file format: port traffic of one real process, as versioned, human-readable TOML.

A tape is written by `protoprimer_harness.tape` (recording) and read back by it (replay); this module is the format
only: the data (`Tape`, steps as plain dicts), path placeholders, the redaction of environment values,
the canonical form of a port call, and a small TOML writer (the standard library reads TOML but does not
write it). See docs/tapes.md for the format with an example.

Invariants:
- `load_tape(dump_tape(tape)) == tape` for every tape this module can write (tests keep it so);
- a tape holds no machine-specific path: every occurrence of the recording's repo root, temp dir, HOME and
  interpreter is a placeholder (`{root}`, `{tmp}`, `{home}`, `{python}`, `{python_prefix}`), and
  `[placeholders]` says how they nest, so a replay maps them onto a fake tree of the same shape;
- no environment value is stored unless its name is allow-listed (`ENV_ALLOWED`).
"""

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ._scenario_toml import toml_module

FORMAT_VERSION = 1
TAPE_SUFFIX = ".tape.toml"
REDACTED = "<redacted>"
CALLABLE = "<callable>"
FAKE_BASE = "/tape"

# Variables whose values a tape keeps; every other value is stored as REDACTED.
ENV_ALLOWED = frozenset({"PATH", "HOME", "LANG", "SHELL", "NO_COLOR", "VIRTUAL_ENV", "PYTHONPATH"})
ENV_ALLOWED_PREFIXES = ("PROTOPRIMER_",)

# The placeholder names, in the order they are defined (a later one may be defined inside an earlier one).
PLACEHOLDER_NAMES = ("tmp", "root", "home", "python_prefix", "python")

# The facts of a process (env port properties, and cwd): stored once in [process], never as steps.
PROCESS_FACTS = ("argv", "cwd", "entry", "kernel_path", "executable", "prefix", "base_prefix", "version",
                 "isolated", "pid")
ENV_FACTS = frozenset({"argv", "cwd", "executable", "prefix", "base_prefix", "version", "kernel_path", "pid",
                       "isolated"})

# (port, op) -> index of the argument that is an environment mapping (redacted like os.environ).
ENV_MAPPING_ARGS = {("proc", "run"): 1, ("proc", "replace"): 1}


class TapeFormatError(ValueError):
    """A tape file cannot be read: not TOML, not a tape, or a format this harness does not know. The
    message names the file and what is wrong; an old format says how to re-record."""


# region: placeholders


_NAME_CHARS = r"A-Za-z0-9_.\-"
_WORD_CHARS = r"A-Za-z0-9_\-"


class Placeholders:
    """Concrete paths <-> `{name}` placeholders.

    `concrete` maps each name to its paths (the first is the one `expand` writes; more are aliases, such
    as the real path of a temp dir reached through a symlink). `normalise` replaces a concrete path only
    where it is a whole path or a path prefix (followed by "/" or a character that cannot be part of a
    file name), longest first, so `/tmp/x/repo` becomes `{root}`, not `{tmp}/repo`.
    """

    def __init__(self, concrete: Dict[str, List[str]]):
        self.concrete = {name: [p for p in paths if p] for name, paths in concrete.items() if paths}
        pairs = sorted(((path, name) for name, paths in self.concrete.items() for path in paths),
                       key=lambda pair: -len(pair[0]))
        self._by_path = dict(pairs)
        self._regex = None
        if pairs:
            alternatives = "|".join(re.escape(path) for path, _ in pairs)
            # not inside a longer name: no name character before; none after, nor "." and a name character
            # ("repo.bak" is another file, "in /x/repo." ends a sentence)
            self._regex = re.compile(r"(?<![%s])(?:%s)(?![%s]|\.[%s])" % (_NAME_CHARS, alternatives, _WORD_CHARS,
                                                                          _WORD_CHARS))
        self._tokens = [("{%s}" % name, paths[0]) for name, paths in self.concrete.items()]

    def normalise(self, value: Any) -> Any:
        """`value` (strings at any depth of lists/dicts) with concrete paths replaced by placeholders."""
        return _map_strings(value, self.normalise_text)

    def normalise_text(self, text: str) -> str:
        if self._regex is None or "/" not in text:
            return text
        return self._regex.sub(lambda m: "{%s}" % self._by_path[m.group(0)], text)

    def expand(self, value: Any) -> Any:
        """`value` with placeholders replaced by the first concrete path of their name."""
        return _map_strings(value, self.expand_text)

    def expand_text(self, text: str) -> str:
        if "{" not in text:
            return text
        for token, path in self._tokens:
            text = text.replace(token, path)
        return text

    def literal_tokens(self, text: str) -> List[str]:
        """The placeholder tokens that occur literally in a concrete text (they could not be told apart
        from placeholders in a tape)."""
        return [token for token, _ in self._tokens if token in text]


def placeholder_definitions(real: Dict[str, str]) -> Dict[str, str]:
    """How the placeholders nest, for [placeholders]: `{tmp}/repo` when a path is inside another one
    (the nearest), else a fake base `/tape/<name>`. A replay builds its fake tree from these, so paths
    computed from others (dirname, join, relpath) normalise the same way in the replay as in the recording."""
    definitions = {}
    for name in PLACEHOLDER_NAMES:
        path = real.get(name)
        if not path:
            continue
        parents = [(len(real[other]), other) for other in PLACEHOLDER_NAMES
                   if other != name and real.get(other) and _is_inside(path, real[other])
                   and real[other] != path and other in definitions]
        if parents:
            _, parent = max(parents)
            definitions[name] = "{%s}/%s" % (parent, os.path.relpath(path, real[parent]))
        else:
            definitions[name] = "%s/%s" % (FAKE_BASE, name)
    return definitions


def fake_placeholders(definitions: Dict[str, str]) -> Placeholders:
    """The replay's fake paths for the tape's [placeholders] definitions."""
    resolved: Dict[str, str] = {}
    for name, definition in definitions.items():
        text = definition
        for other, path in resolved.items():
            text = text.replace("{%s}" % other, path)
        if "{" in text:
            raise TapeFormatError("[placeholders] %s = %r refers to a placeholder defined after it or not at all"
                                  % (name, definition))
        resolved[name] = text
    return Placeholders(dict((name, [path]) for name, path in resolved.items()))


def _is_inside(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def _map_strings(value: Any, func) -> Any:
    if isinstance(value, str):
        return func(value)
    if isinstance(value, (list, tuple)):
        return [_map_strings(item, func) for item in value]
    if isinstance(value, dict):
        return dict((_map_strings(k, func) if isinstance(k, str) else k, _map_strings(v, func))
                    for k, v in value.items())
    return value


# endregion: placeholders

# region: redaction and canonical calls


def env_name_allowed(name: str) -> bool:
    return name in ENV_ALLOWED or name.startswith(ENV_ALLOWED_PREFIXES)


def redact_env(mapping: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """An environment mapping with the values of names not allow-listed replaced by REDACTED (sorted)."""
    if mapping is None:
        return None
    return dict((name, value if env_name_allowed(name) or value is None else REDACTED)
                for name, value in sorted(mapping.items()))


def redact_call(port: str, op: str, args: List[Any]) -> List[Any]:
    """The canonical args with their environment mapping (if any) redacted."""
    index = ENV_MAPPING_ARGS.get((port, op))
    if index is None or index >= len(args) or not isinstance(args[index], dict):
        return args
    args = list(args)
    args[index] = redact_env(args[index])
    return args


def redact_result(port: str, op: str, args: List[Any], result: Any) -> Any:
    if port != "env":
        return result
    if op == "variables" and isinstance(result, dict):
        return redact_env(result)
    if op == "get" and args and isinstance(result, str) and not env_name_allowed(str(args[0])):
        return REDACTED
    return result


def plain(value: Any) -> Any:
    """A copy of `value` as TOML-able plain data: tuples become lists, callables CALLABLE, and strings with
    what looks secret hidden as the kernel's logs hide it (a URL's password, a secret-looking NAME=value):
    a tape never holds a secret, and a replay compares the calls it sees in the same form."""
    if isinstance(value, str):
        from protoprimer.primer_kernel import redact

        return redact(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if callable(value):
        return CALLABLE
    return repr(value)


def canonical_args(signature, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> List[Any]:
    """The call's arguments in parameter order, defaults applied, trailing ones equal to their default
    dropped: `write_text(p, t)` and `write_text(p, t, mode=None)` are one call."""
    bound = signature.bind(None, *args, **kwargs)
    bound.apply_defaults()
    params = list(signature.parameters.values())[1:]
    values = [plain(bound.arguments[p.name]) for p in params]
    defaults = [plain(p.default) for p in params]
    while values and values[-1] == defaults[len(values) - 1]:
        values.pop()
    return values


def describe_call(port: str, op: str, args: List[Any], width: int = 160) -> str:
    """`fs.read_text("{root}/x")`, shortened to about `width` characters."""
    inner = ", ".join(json.dumps(arg, ensure_ascii=False) for arg in args)
    text = "%s.%s(%s)" % (port, op, inner)
    if len(text) > width:
        text = text[:width - 5] + " ...)"
    return text


def render_args(args: List[Any]) -> List[str]:
    """The args as lines for a diff: one JSON value per arg, dicts one key per line, texts line by line."""
    lines = []
    for index, arg in enumerate(args):
        if isinstance(arg, dict):
            lines.append("arg %d: {" % index)
            lines.extend("    %s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False)) for k, v in arg.items())
            lines.append("}")
        elif isinstance(arg, list) and len(json.dumps(arg)) > 60:
            lines.append("arg %d: [" % index)
            lines.extend("    %s," % json.dumps(item, ensure_ascii=False) for item in arg)
            lines.append("]")
        elif isinstance(arg, str) and "\n" in arg:
            lines.append("arg %d: text of %d lines:" % (index, arg.count("\n") + (0 if arg.endswith("\n") else 1)))
            lines.extend("  | " + line for line in arg.splitlines())
        else:
            lines.append("arg %d: %s" % (index, json.dumps(arg, ensure_ascii=False)))
    return lines


# endregion: redaction and canonical calls

# region: the tape


@dataclass
class Tape:
    """One tape: the facts of the recorded process, its steps in call order, how it ended, and the
    recipe it was made from (None for a tape recorded by hand with `record_tape`)."""

    title: str
    process: Dict[str, Any]
    steps: List[Dict[str, Any]]
    outcome: Dict[str, Any]
    placeholders: Dict[str, str] = field(default_factory=dict)
    recipe: Optional[Dict[str, Any]] = None
    recorded_with: str = ""
    format: int = FORMAT_VERSION


def dump_tape(tape: Tape) -> str:
    """The tape as TOML text."""
    out = [
        "# protoprimer tape: the port traffic of one real process, replayed by the fast tier (docs/tapes.md).",
        "# Made by a recording; do not edit. Re-record: venv/bin/python -m protoprimer_harness.tape record-all scenarios/tapes",
        "format = %d" % tape.format,
        "title = %s" % _toml_string(tape.title),
    ]
    if tape.recorded_with:
        out.append("recorded_with = %s" % _toml_string(tape.recorded_with))
    if tape.recipe is not None:
        _write_table(out, "recipe", tape.recipe)
    _write_table(out, "placeholders", tape.placeholders)
    _write_table(out, "process", tape.process)
    _write_table(out, "outcome", tape.outcome)
    for index, step in enumerate(tape.steps):
        out.append("")
        out.append("[[step]]  # %d" % index)
        rest = {}
        for key, value in step.items():
            if key == "result" and isinstance(value, dict) and value and _is_big(value):
                rest[key] = value
            else:
                out.append("%s = %s" % (_toml_key(key), _toml_value(value, 0, top=True)))
        for key, value in rest.items():
            _write_table(out, "step." + key, value, blank=False)
    return "\n".join(out) + "\n"


def load_tape(path: str) -> Tape:
    """Read a tape file; TapeFormatError names the file and what is wrong."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TapeFormatError("%s: cannot read the tape: %s" % (path, e.strerror or e)) from None
    return parse_tape(data.decode("utf-8"), path)


def parse_tape(text: str, path: str = "<tape>") -> Tape:
    tomllib = toml_module("tapes")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TapeFormatError("%s: not valid TOML: %s" % (path, e)) from None
    version = doc.get("format")
    if version is None:
        raise TapeFormatError("%s: not a tape: it has no `format` key (a tape starts with `format = %d`)"
                              % (path, FORMAT_VERSION))
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise TapeFormatError(
            "%s: tape format %r, but this harness reads format %d: %s" % (
                path, version, FORMAT_VERSION,
                "update the harness" if newer else
                "re-record it (venv/bin/python -m protoprimer_harness.tape record-all <dir>, or pytest "
                "--protoprimer-tape-mode=rewrite)"))
    problems = []
    for key, kind in (("title", str), ("process", dict), ("outcome", dict), ("placeholders", dict)):
        if not isinstance(doc.get(key), kind):
            problems.append("`%s` must be %s" % (key, "a string" if kind is str else "a table"))
    steps = doc.get("step", [])
    if not isinstance(steps, list):
        problems.append("`step` must be an array of tables ([[step]])")
        steps = []
    for index, step in enumerate(steps):
        missing = [key for key in ("port", "op", "args") if key not in step]
        if missing:
            problems.append("step #%d has no %s" % (index, ", ".join(missing)))
        elif step["port"] not in ("fs", "proc", "env"):
            problems.append("step #%d: port %r is not fs, proc or env" % (index, step["port"]))
    if problems:
        raise TapeFormatError("%s: not a valid tape: %s" % (path, "; ".join(problems)))
    return Tape(
        title=doc["title"],
        process=_decode(doc["process"]),
        steps=[_decode(step) for step in steps],
        outcome=_decode(doc["outcome"]),
        placeholders=dict(doc["placeholders"]),
        recipe=_decode(doc["recipe"]) if "recipe" in doc else None,
        recorded_with=doc.get("recorded_with", ""),
        format=version,
    )


def save_tape(tape: Tape, path: str) -> None:
    """Write the tape atomically (a sibling temporary file renamed over `path`), replacing any old one."""
    text = dump_tape(tape)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def tape_name(path: str) -> str:
    """The tape's name: its file name without `.tape.toml`."""
    base = os.path.basename(path)
    return base[: -len(TAPE_SUFFIX)] if base.endswith(TAPE_SUFFIX) else os.path.splitext(base)[0]


# endregion: the tape

# region: TOML writing

# TOML has no null: None is written as this inline table (and read back as None).
_NULL_KEY = "null"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and value.get(_NULL_KEY) is True:
            return None
        return dict((k, _decode(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _write_table(out: List[str], header: str, mapping: Dict[str, Any], blank: bool = True) -> None:
    if blank:
        out.append("")
    out.append("[%s]" % header)
    tables = []
    for key, value in mapping.items():
        if isinstance(value, dict) and value and not (len(value) == 1 and _NULL_KEY in value) and _is_big(value):
            tables.append((key, value))
        else:
            out.append("%s = %s" % (_toml_key(key), _toml_value(value, 0, top=True)))
    for key, value in tables:
        _write_table(out, "%s.%s" % (header, _toml_key(key)), value, blank=False)


def _is_big(mapping: Dict[str, Any]) -> bool:
    """Whether a mapping reads better as a [sub.table] (one key per line) than inline."""
    text = _toml_value(mapping, 0)
    return len(text) > 100 or "\n" in text


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_basic(key)


def _toml_value(value: Any, indent: int, top: bool = False) -> str:
    if value is None:
        return "{ %s = true }" % _NULL_KEY
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        items = [_toml_value(item, indent + 1) for item in value]
        one_line = "[%s]" % ", ".join(items)
        if not items or (len(one_line) <= 100 and "\n" not in one_line):
            return one_line
        pad = "  " * (indent + 1)
        return "[\n%s\n%s]" % ("\n".join("%s%s," % (pad, item) for item in items), "  " * indent)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ %s }" % ", ".join("%s = %s" % (_toml_key(k), _toml_value(v, indent)) for k, v in value.items())
    raise TypeError("cannot write %r to a tape" % (value,))


def _toml_basic(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_string(text: str) -> str:
    """A basic string, or a multi-line basic string for text of several lines."""
    if "\n" not in text.rstrip("\n") or len(text) < 40:
        return _toml_basic(text)
    body = []
    for char in text:
        if char == "\\":
            body.append("\\\\")
        elif char == "\n" or char == "\t":
            body.append(char)
        elif char == '"':
            body.append('"')
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            body.append("\\u%04x" % ord(char))
        else:
            body.append(char)
    escaped = "".join(body)
    # no run of three quotes inside, and none right before the closing delimiter
    escaped = escaped.replace('"""', '""\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return '"""\n%s"""' % escaped


# endregion: TOML writing
