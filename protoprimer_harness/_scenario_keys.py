"""Scenario keys declared once: a `Key` says how one key's value is read, what it means and (in `[then]`)
how it is checked; a `KeyTable` is the ordered keys of one section.

The tables themselves live with their section: `_scenario_load.TOP_KEYS`, `_scenario_given.GIVEN_KEYS` and
`WHEN_KEYS`, `_scenario_then.THEN_KEYS`. From a table come:

- the loader: `KeyTable.parse` rejects unknown keys (naming the known ones, in table order) and reads each
  key the file has, in table order, with its `parse` function;
- the checks (`[then]` only): `_scenario_run.check_expectations` checks each key the file states with its
  `check` function, in table order;
- the format documentation: `KeyTable.markdown()` is the key table of docs/scenarios.md for the section
  (tests/harness/test_scenario_keys.py fails, printing the table to paste, when the two differ).

This module knows no section: it imports nothing of the harness.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

__all__ = ["Key", "KeyTable", "whole", "unless_empty"]

# (reader, the raw TOML value, the key's dotted path) -> the value in the model. A parse function reports
# a problem with `reader.fail(key, message)` / `reader.type_error(...)` (protoprimer_harness._scenario_reader).
Parse = Callable[[Any, Any, str], Any]
# (outcome, a parsed value, or one part of it) -> None; raises an AssertionError (an `ExpectationFailure`,
# as every Outcome.assert_* does) when the expectation does not hold.
Check = Callable[[Any, Any], None]
# (the key's dotted path, the parsed value) -> the expectations it holds, each (dotted path, part): each
# part is checked on its own and counts as one expectation in the report.
Split = Callable[[str, Any], List[Tuple[str, Any]]]


def whole(key: str, value: Any) -> List[Tuple[str, Any]]:
    """The value is one expectation (the default)."""
    return [(key, value)]


def unless_empty(key: str, value: Any) -> List[Tuple[str, Any]]:
    """The value is one expectation, or none when it is empty (`stderr_contains = []` checks nothing)."""
    return [(key, value)] if value else []


@dataclass(frozen=True)
class Key:
    """One key of a section. `parse` reads its value (see `Parse`); `doc` is its row in the section's table
    of docs/scenarios.md (markdown); `shown` is how that table names it when not by `name` (a sub-table:
    "[given.files]"). In `[then]`, `check` checks the value against an outcome and `split` says how many
    expectations the value holds (`whole`: one)."""

    name: str
    parse: Parse
    doc: str
    check: Optional[Check] = None
    split: Split = whole
    shown: Optional[str] = None

    def markdown_row(self) -> str:
        """The key's row of the docs table; the doc's line breaks and indentation read as single spaces."""
        return "| `%s` | %s |" % (self.shown or self.name, " ".join(self.doc.split()))


class KeyTable:
    """The keys of one section (`where`: its dotted path, "" for the top level), in order: the order
    they are listed in messages and docs, read and checked in. `header` is the docs table's header."""

    def __init__(self, where: str, keys: Sequence[Key], header: Tuple[str, str] = ("key", "meaning")):
        self.where = where
        self.keys: Tuple[Key, ...] = tuple(keys)
        self.header = header
        self._by_name: Dict[str, Key] = {key.name: key for key in self.keys}
        if len(self._by_name) != len(self.keys):
            raise ValueError("a key is declared twice in [%s]" % where)

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Key:
        return self._by_name[name]

    def parse(self, reader: Any, data: Dict[str, Any], where: Optional[str] = None) -> Dict[str, Any]:
        """Reject the keys of `data` the table does not have, then read each key `data` has, in table order:
        name -> parsed value. `where` is the dotted path of `data` when not the table's own
        ("given.before[0]")."""
        where = self.where if where is None else where
        reader.check_keys(data, self.names, where)
        return {key.name: key.parse(reader, data[key.name], "%s.%s" % (where, key.name) if where else key.name)
                for key in self.keys if key.name in data}

    def markdown(self) -> str:
        """The section's key table as docs/scenarios.md shows it."""
        lines = ["| %s | %s |" % self.header, "| --- | --- |"]
        lines.extend(key.markdown_row() for key in self.keys)
        return "\n".join(lines)
