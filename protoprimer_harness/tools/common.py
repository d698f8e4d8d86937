"""Helpers the fake tools share, and a tool of your own may use (a public module): option parsing in the
style of each tool, the refusal that names what is simulated (`unsupported`), steps that a fault can cut
(`perform`)."""

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from ..errors import ProcessKilled
from .base import ToolRefusal


@dataclass
class Options:
    counts: Dict[str, int] = field(default_factory=dict)
    flags: Dict[str, bool] = field(default_factory=dict)
    values: Dict[str, List[str]] = field(default_factory=dict)
    positionals: List[str] = field(default_factory=list)

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)

    def flag(self, name: str) -> bool:
        return self.flags.get(name, False)

    def value(self, name: str) -> Optional[str]:
        values = self.values.get(name)
        return values[-1] if values else None

    def all(self, name: str) -> List[str]:
        return list(self.values.get(name, []))


@dataclass
class OptionTable:
    """Which options a (sub)command takes: `counts` (-q, -v; repeatable, "-qq" combines), `flags`, `values`
    (take an argument, "--opt X" or "--opt=X"). Each maps the option as typed to a name."""

    counts: Dict[str, str] = field(default_factory=dict)
    flags: Dict[str, str] = field(default_factory=dict)
    values: Dict[str, str] = field(default_factory=dict)

    def known(self) -> List[str]:
        return sorted(set(self.counts) | set(self.flags) | set(self.values))


class BadOption(Exception):
    """An option the table does not know (`option`), or a value option without its value (`missing`)."""

    def __init__(self, option: str, missing: bool = False):
        super().__init__(option)
        self.option = option
        self.missing = missing


def parse_options(args: Sequence[str], table: OptionTable) -> Options:
    """Split `args` by `table`; raises BadOption. "--" ends the options."""
    parsed = Options()
    index = 0
    args = list(args)
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            parsed.positionals.extend(args[index:])
            break
        if not arg.startswith("-") or arg == "-":
            parsed.positionals.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        if name in table.values:
            if eq:
                value = inline
            elif index < len(args):
                value = args[index]
                index += 1
            else:
                raise BadOption(name, missing=True)
            parsed.values.setdefault(table.values[name], []).append(value)
            continue
        if eq:
            raise BadOption(arg)
        if arg in table.counts:
            key = table.counts[arg]
            parsed.counts[key] = parsed.counts.get(key, 0) + 1
            continue
        if arg in table.flags:
            parsed.flags[table.flags[arg]] = True
            continue
        letters = arg[1:]
        if not arg.startswith("--") and len(letters) > 1 and all("-" + letter in table.counts for letter in letters):
            for letter in letters:
                key = table.counts["-" + letter]
                parsed.counts[key] = parsed.counts.get(key, 0) + 1
            continue
        if not arg.startswith("--") and "-" + letters[0] in table.values:
            parsed.values.setdefault(table.values["-" + letters[0]], []).append(letters[1:])
            continue
        raise BadOption(arg)
    return parsed


def unsupported(what: str, command: str, simulated: Iterable[str], kind: str = "options") -> ToolRefusal:
    """The harness does not model `what` ("the option --target") of `command` ("pip install"): the
    refusal a handler's `run` raises, naming what it does simulate."""
    return ToolRefusal("%s of `%s` is not simulated (the %s it simulates: %s)"
                       % (what, command, kind, " ".join(simulated)))


def perform(call, steps: Sequence[Callable[[], None]], what: str) -> None:
    """Run the effect `steps` in order; when a fault kills the process "during" the command, only the first
    half of them happen (at least none, at most all but one) and the process dies there."""
    if getattr(call, "die_during", False):
        for step in steps[: len(steps) // 2]:
            step()
        raise ProcessKilled("during %s" % what)
    for step in steps:
        step()


def plural(count: int, word: str) -> str:
    return "%d %s%s" % (count, word, "" if count == 1 else "s")
