"""The scenario key tables: each key declared once drives the loader, the checks and docs/scenarios.md."""

import re
import textwrap
from dataclasses import fields
from pathlib import Path

import pytest

from protoprimer_harness import _scenario_given, _scenario_then
from protoprimer_harness._session_state import FaultSpec, LockSpec
from protoprimer_harness.outcome import ExpectationFailure
from protoprimer_harness.scenario import ScenarioError, check_expectations, parse_scenario
from protoprimer_harness._scenario_given import GIVEN_KEYS, WHEN_KEYS
from protoprimer_harness._scenario_keys import Key, KeyTable
from protoprimer_harness._scenario_load import TOP_KEYS
from protoprimer_harness._scenario_model import Given
from protoprimer_harness._scenario_reader import Reader
from protoprimer_harness._scenario_then import THEN_KEYS
from protoprimer_harness._scenario_toml import HarnessMissing, toml_module
from protoprimer_harness._entries import FileEntry
from protoprimer_harness.world import Interpreter, PackageSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS_DIR = REPO_ROOT / "protoprimer_harness"


def scenario(text):
    return parse_scenario(toml_module().loads(textwrap.dedent(text)), path="s.toml")


# region: the tables and the docs


@pytest.mark.parametrize("table", [TOP_KEYS, GIVEN_KEYS, WHEN_KEYS, THEN_KEYS], ids=lambda t: t.where or "top")
def test_each_key_table_of_the_docs_is_the_one_its_key_table_renders(table):
    docs = (REPO_ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")

    assert table.markdown() in docs, (
        "docs/scenarios.md does not show the keys of [%s] as declared; paste this table there:\n\n%s"
        % (table.where, table.markdown())
    )


def test_every_then_key_has_a_check_and_every_given_key_a_field():
    assert [key.name for key in THEN_KEYS if key.check is None] == []
    assert GIVEN_KEYS.names == tuple(f.name for f in fields(Given))


def test_the_keys_of_the_world_spec_tables_are_the_fields_of_the_spec_types():
    assert _scenario_given.FAULT_KEYS == tuple(f.name for f in fields(FaultSpec))
    assert _scenario_given.PACKAGE_KEYS == tuple(f.name for f in fields(PackageSpec))
    assert _scenario_given.LOCK_KEYS == tuple(f.name for f in fields(LockSpec))
    assert _scenario_given.INTERPRETER_KEYS == tuple(f.name for f in fields(Interpreter))


def test_a_key_declared_twice_is_refused():
    with pytest.raises(ValueError, match=r"declared twice in \[then\]"):
        KeyTable("then", [THEN_KEYS["exit"], THEN_KEYS["exit"]])


# endregion: the tables and the docs

# region: the loader builds the world's own spec types


def test_given_is_read_into_the_world_spec_types():
    loaded = scenario(
        """
        format = 1
        title = "spec types"
        [given]
        interpreters = ["python3 = 3.11.7"]
        [given.files]
        "a.txt" = "a"
        [[given.faults]]
        command = "pip install"
        exit = 1
        [[given.packages]]
        name = "requests"
        version = "2.31.0"
        [[given.locks]]
        path = "tmp/venv.lock"
        [when]
        run = "./prime"
        [then]
        exit = 0
        """
    )
    given = loaded.given

    assert given.interpreters == [Interpreter("python3", "3.11.7")]
    assert given.files == {"a.txt": FileEntry("a")}
    assert given.faults == [FaultSpec("pip install", exit=1)]
    assert given.packages == [PackageSpec("requests", "2.31.0")]
    assert given.locks == [LockSpec("tmp/venv.lock")]


# endregion: the loader builds the world's own spec types

# region: adding a [then] key (the example of docs/scenarios.md)


def check_stdout_lines(outcome, expected):
    lines = len(outcome.stdout.splitlines())
    if lines != expected:
        raise ExpectationFailure("expected %d lines on stdout, got %d" % (expected, lines))


class Printed:
    stdout = "one\ntwo\n"
    stderr = ""


def test_a_new_then_key_is_one_table_entry_plus_its_check_function(monkeypatch):
    # given: the entry docs/scenarios.md shows
    extended = KeyTable("then", header=THEN_KEYS.header, keys=list(THEN_KEYS) + [
        Key("stdout_lines", Reader.integer, check=check_stdout_lines,
            doc="stdout has exactly this many lines."),
    ])
    monkeypatch.setattr(_scenario_then, "THEN_KEYS", extended)
    text = """
        format = 1
        title = "counts lines"
        [when]
        run = "./prime"
        [then]
        stdout_lines = %s
        """
    # when
    loaded = scenario(text % "3")
    with pytest.raises(AssertionError) as failed:
        check_expectations(loaded, Printed())
    with pytest.raises(ScenarioError) as malformed:
        scenario(text % '"3"')
    # then
    assert loaded.then.stdout_lines == 3
    assert "1 of 1 expectations failed" in str(failed.value)
    assert "[then.stdout_lines]\n  expected 3 lines on stdout, got 2\n" in str(failed.value)
    assert str(malformed.value) == "s.toml: then.stdout_lines must be an integer, got string '3'"
    assert "| `stdout_lines` | stdout has exactly this many lines. |" in extended.markdown()
    check_expectations(scenario(text % "2"), Printed())


def test_then_reads_stated_keys_and_refuses_unknown_names():
    loaded = scenario('format = 1\ntitle = "t"\n[when]\nrun = "./prime"\n[then]\nexit = 3\n')

    assert loaded.then.exit == 3 and loaded.then.stdout is None
    assert loaded.then.values == {"exit": 3}
    with pytest.raises(AttributeError, match="'exitt' is not a \\[then\\] key"):
        loaded.then.exitt


# endregion: adding a [then] key

# region: one TOML shim

# Modules that import a TOML parser besides the shim, and why.
OTHER_IMPORTERS = {
    "plugin.py": "checks that tomli is installed, with pyfakefs, before a scenario runs (one message for both)",
}


def test_only_the_shim_imports_a_toml_parser():
    importers = {
        str(path.relative_to(HARNESS_DIR))
        for path in HARNESS_DIR.rglob("*.py")
        if re.search(r"^\s*import (tomllib|tomli)\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    }

    assert importers - set(OTHER_IMPORTERS) == {"_scenario_toml.py"}


def test_without_a_toml_parser_the_shim_names_the_install_command(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tomllib", None)
    monkeypatch.setitem(__import__("sys").modules, "tomli", None)

    with pytest.raises(HarnessMissing) as missing:
        toml_module("tapes")

    assert str(missing.value) == (
        "reading tapes needs tomli before Python 3.11: pip install 'protoprimer[harness]'"
    )


# endregion: one TOML shim
