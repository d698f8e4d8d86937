"""Loading a scenario file: `load_scenario` (a path) and `parse_scenario` (parsed TOML) validate
everything before anything runs and return a `Scenario`, or raise a `ScenarioError` naming the file, the
key and what would be valid.

This module reads the top level (`format`, `title`, `markers`: `TOP_KEYS`) and hands each section to its
reader: `[given]` and `[when]` to protoprimer_harness._scenario_given, `[then]` to
protoprimer_harness._scenario_then. `[given]` is read first, whatever the order in the file: its `root` is
the `{root}` every other string expands.

Format versions: `SUPPORTED_FORMATS` are read. A future format 2 keeps a reader for 1 (or, if 1 is ever
dropped, `RETIRED_FORMATS` maps it to a migration hint); a newer format than this harness reads asks for
an upgrade.
"""

import os
import re
from typing import Any, Dict, List, Optional

from ._scenario_given import read_given, read_when
from ._scenario_keys import Key, KeyTable
from ._scenario_model import Scenario, ScenarioError
from ._scenario_reader import Reader
from ._scenario_then import THEN_KEYS, read_then
from ._scenario_toml import toml_module

__all__ = ["SUPPORTED_FORMATS", "TOP_KEYS", "default_file_name", "load_scenario", "parse_scenario"]

SUPPORTED_FORMATS = (1,)
RETIRED_FORMATS: Dict[int, str] = {}
SECTIONS = ("given", "when", "then")

_MARKER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOML_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def parse_format(r: Reader, value: Any, key: str) -> int:
    supported = ", ".join(str(f) for f in SUPPORTED_FORMATS)
    value = r.integer(value, key)
    if value in SUPPORTED_FORMATS:
        return value
    if value in RETIRED_FORMATS:
        r.fail(key, "format %d is no longer read (supported formats: %s); %s"
               % (value, supported, RETIRED_FORMATS[value]))
    if value > max(SUPPORTED_FORMATS):
        r.fail(key, "format %d is newer than this harness reads (supported formats: %s); "
                    "upgrade the harness: pip install -U 'protoprimer[harness]'" % (value, supported))
    r.fail(key, "unsupported format %d (supported formats: %s)" % (value, supported))


def parse_title(r: Reader, value: Any, key: str) -> str:
    title = r.string(value, key)
    if not title.strip():
        r.fail(key, "title must not be empty")
    return title


def parse_markers(r: Reader, value: Any, key: str) -> List[str]:
    markers = r.strings(value, key)
    for i, marker in enumerate(markers):
        if not _MARKER_RE.match(marker):
            r.fail("%s[%d]" % (key, i),
                   "%s[%d] %r is not a marker name (letters, digits and _, e.g. \"conf\")" % (key, i, marker))
    return markers


TOP_KEYS = KeyTable("", [
    Key("format", parse_format, doc="the format version, an integer. This harness reads format `1`."),
    Key("title", parse_title, doc="""
        one line saying what the scenario shows (shown in failures and `pytest -v --collect-only` reports)."""),
    Key("markers", parse_markers, doc="""
        optional array of extra pytest marker names, e.g. `["conf", "restart"]`. Every scenario also gets the
        `scenario` marker."""),
])


def default_file_name(path: str) -> str:
    """How a scenario file is named in messages by default: relative to the cwd when under it."""
    path = os.fspath(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(os.pardir) else rel


def load_scenario(path, file_name: Optional[str] = None) -> Scenario:
    """Read and validate the scenario file at `path`. `file_name` is how messages name the file
    (default: the path relative to the cwd). Raises ScenarioError for anything malformed."""
    path = os.fspath(path)
    if file_name is None:
        file_name = default_file_name(path)
    return parse_scenario(_read_toml(path, file_name), path=path, file_name=file_name)


def parse_scenario(data: Dict[str, Any], path: str = "<scenario>.toml", file_name: Optional[str] = None) -> Scenario:
    """Validate already-parsed TOML data (a dict) into a Scenario. See `load_scenario`."""
    if file_name is None:
        file_name = path
    r = Reader(path, file_name)
    r.check_keys(data, TOP_KEYS.names + SECTIONS, "")
    if "format" not in data:
        supported = ", ".join(str(f) for f in SUPPORTED_FORMATS)
        r.fail("format", "missing key 'format' (write `format = %d` first; supported formats: %s)"
               % (SUPPORTED_FORMATS[-1], supported))
    file_format = parse_format(r, data["format"], "format")
    given = read_given(r, r.table(data.get("given", {}), "given"))  # first: it sets {root}
    if "title" not in data:
        r.fail("title", "missing key 'title' (one line saying what the scenario shows)")
    title = parse_title(r, data["title"], "title")
    markers = parse_markers(r, data.get("markers", []), "markers")
    if "when" not in data:
        r.fail("when", "missing table [when] (it needs at least: run = \"./prime ...\")")
    when = read_when(r, r.table(data["when"], "when"))
    if "then" not in data:
        r.fail("then", "missing table [then] (it needs at least one expectation: %s)" % ", ".join(THEN_KEYS.names))
    then = read_then(r, r.table(data["then"], "then"))
    return Scenario(path=path, file_name=file_name, format=file_format, title=title, markers=markers,
                    given=given, when=when, then=then)


def _read_toml(path: str, file_name: str) -> Dict[str, Any]:
    tomllib = toml_module("scenario files")
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
        raise ScenarioError(file_name, _syntax_error(str(e), text)) from None


def _syntax_error(message: str, text: str) -> str:
    """tomllib's message with its position shown under the line it points at."""
    match = _TOML_POSITION_RE.search(message)
    if not match:
        return "TOML syntax error: %s" % message
    line_no, column = int(match.group(1)), int(match.group(2))
    lines = text.splitlines()
    shown = ""
    if 1 <= line_no <= len(lines):
        shown = "\n    %s\n    %s^" % (lines[line_no - 1], " " * max(column - 1, 0))
    return "TOML syntax error at line %d, column %d: %s%s" % (line_no, column, message[: match.start()], shown)
