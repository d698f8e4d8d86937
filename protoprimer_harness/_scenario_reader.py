"""Reading the values of one scenario file: `Reader`, the checks every key's parse function is built from.

A parse function (see protoprimer_harness._scenario_keys) gets the reader, the raw TOML value and the key's
dotted path; it reads the value with the reader's typed getters (`string`, `integer`, `strings`,
`string_table`, `entry_table`, ...) and reports anything else with `fail`. Every problem is a
`ScenarioError` whose message starts with the file's name and names the key by its dotted path
(`then.files."x.txt".text`), with what would be valid.

The reader also expands the `{root}` placeholder (`expand`): `root` is the world's repo root, set when
`[given] root` is read (before any other key of the file that may use it).
"""

import difflib
import os
import shlex
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple, Union

from .outcome import quote_key, short_repr, type_name
from ._scenario_model import DEFAULT_ROOT, ScenarioError

__all__ = ["Reader"]


class Reader:
    """Reads the values of one file (`path`, named `file_name` in messages); every error names the dotted
    key and the file."""

    def __init__(self, path: str, file_name: str):
        self.path = path
        self.file_name = file_name
        self.root = DEFAULT_ROOT

    # -- errors

    def fail(self, key: Optional[str], message: str) -> NoReturn:
        raise ScenarioError(self.file_name, message, key=key)

    def check_keys(self, table: Dict[str, Any], known: Sequence[str], where: str) -> None:
        """Reject keys not in `known`; `where` is the dotted path of the table ('' for the top)."""
        for key in table:
            if key in known:
                continue
            dotted = "%s.%s" % (where, quote_key(key)) if where else quote_key(key)
            close = difflib.get_close_matches(key, known, n=1)
            hint = "did you mean '%s'? " % close[0] if close else ""
            place = "in [%s]" % where if where else "at the top level"
            self.fail(
                dotted,
                "unknown key '%s' (%sknown keys %s: %s)" % (dotted, hint, place, ", ".join(known)),
            )

    def type_error(self, key: str, expected: str, value: Any, hint: str = "") -> NoReturn:
        self.fail(
            key,
            "%s must be %s, got %s %s%s" % (key, expected, type_name(value, toml=True), short_repr(value), hint),
        )

    # -- typed values

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

    def some_strings(self, value: Any, key: str) -> List[str]:
        """An array of strings, or a single string as an array of one."""
        return self.strings(value, key, allow_single=True)

    def string_table(self, value: Any, key: str) -> Dict[str, str]:
        table = self.table(value, key)
        return {
            self.expand(name): self.string(
                item,
                "%s.%s" % (key, quote_key(name)),
                hint=" (TOML values here are text: quote them)" if not isinstance(item, (dict, list)) else "",
            )
            for name, item in table.items()
        }

    def json_table(self, value: Any, key: str) -> Dict[str, Any]:
        """A table of any values, `{root}` expanded in its keys and strings."""
        return self.expand_any(self.table(value, key))

    def array(self, value: Any, key: str) -> List[Any]:
        """An array of tables (`[[key]]` sections)."""
        if not isinstance(value, list):
            self.type_error(key, "an array of tables (write [[%s]] sections)" % key, value)
        return value

    def entry_table(self, value: Any, key: str, known: Sequence[str], required: Sequence[str]) -> Dict[str, Any]:
        """A table with the keys `known`, of which `required` must be there."""
        if not isinstance(value, dict):
            self.type_error(key, "a table", value)
        self.check_keys(value, known, key)
        for name in required:
            if name not in value:
                self.fail("%s.%s" % (key, name), "missing key '%s.%s'" % (key, name))
        return value

    def env_names(self, table: Dict[str, Any], name: str, key: str) -> Tuple[str, ...]:
        """`table[name]`: variable names (a string or an array of strings), () when absent."""
        if name not in table:
            return ()
        return tuple(self.strings(table[name], "%s.%s" % (key, name), allow_single=True))

    def command(self, value: Any, key: str) -> Union[str, Tuple[str, ...]]:
        """A command: a line split like a shell would (kept as the string), or an argv array (a tuple)."""
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

    # -- the {root} placeholder and world paths

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

    def world_paths(self, value: Any, key: str) -> List[str]:
        return [self.world_path(p) for p in self.strings(value, key)]
