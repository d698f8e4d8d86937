"""The scenario file loader: what a well-formed file becomes, and what every malformed one says."""

import os
import textwrap

import pytest

from protoprimer_harness.scenario import (
    DEFAULT_ROOT,
    FileExpectation,
    ScenarioError,
    check_expectations,
    load_scenario,
)
from protoprimer_harness.outcome import ExpectationFailure
from protoprimer_harness.world import Interpreter

MINIMAL = """
format = 1
title = "a minimal scenario"
[when]
run = "./proto_kernel.py eval"
[then]
exit = 0
"""


@pytest.fixture
def write_scenario(tmp_path, monkeypatch):
    """Write a scenario file under tmp_path/scenarios/ and return its path; messages name it
    relative to the cwd (tmp_path), e.g. scenarios/x.toml."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()

    def write(text, name="x.toml"):
        path = tmp_path / "scenarios" / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def load_error(write_scenario, text):
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(write_scenario(text))
    return str(excinfo.value)


# region: well-formed files


def test_minimal_scenario_needs_only_format_title_run_and_one_expectation(write_scenario):
    scenario = load_scenario(write_scenario(MINIMAL, name="eval_json.toml"))

    assert scenario.name == "eval_json"
    assert scenario.file_name == "scenarios/eval_json.toml"
    assert scenario.format == 1
    assert scenario.title == "a minimal scenario"
    assert scenario.when.command == "./proto_kernel.py eval"
    assert scenario.then.exit == 0
    assert scenario.given.layout is None
    assert scenario.given.root == DEFAULT_ROOT
    assert scenario.markers == []


def test_full_scenario_is_read_into_the_model(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "everything at once"
            markers = ["conf", "slow_ones"]
            [given]
            layout = "max"
            interpreters = [
                "python3 = 3.11.7",
                "/opt/py312/bin/python3.12 = 3.12.1",
                { path = "/repo/venv/bin/python", version = "3.12.1", venv = true, base = "/opt/py312/bin/python3.12" },
                { path = "/usr/bin/python3.9", version = "3.9.18", broken = true },
            ]
            path = ["/opt/py312/bin", "/usr/bin"]
            env = { PROTOPRIMER_STDERR_LOG_LEVEL = "INFO" }
            cwd = "dst"
            remove = ["dst/default_env/proto_kernel.json"]
            dirs = ["empty"]
            before = ["./prime --env dst/special_env", { run = ["./prime", "eval"], env = { A = "1" }, cwd = "dst" }]
            [given.files]
            "gconf/proto_kernel.json" = '{ "default_env_dir_rel_path": "dst/special_env" }'
            "tool.sh" = { text = "#!/bin/sh\\n", executable = true }
            [given.symlinks]
            "lconf" = "dst/default_env"
            [when]
            run = "./prime eval --json"
            env = { NO_COLOR = "1" }
            [then]
            exit = 0
            stdout = "exact"
            stdout_contains = ["a", "b"]
            stdout_json = { a = 1 }
            stdout_json_subset = { b = { c = "d" } }
            stderr = ""
            stderr_contains = "one string is one item"
            stderr_not_contains = ["Traceback"]
            stderr_counts = { "does not exist" = 1 }
            written = ["lconf"]
            chain = ["/usr/bin/python3 (stride_py_unknown)"]
            commands = []
            [then.files]
            "lconf" = { symlink = "dst/default_env" }
            "x.txt" = { contains = "..." }
            "y.txt" = { text = "all of it" }
            "gone.txt" = { absent = true }
            "there.txt" = { exists = true }
            """
        )
    )
    given, when, then = scenario.given, scenario.when, scenario.then

    assert scenario.markers == ["conf", "slow_ones"]
    assert given.layout == "max"
    assert given.interpreters == [
        Interpreter("python3", "3.11.7"),
        Interpreter("/opt/py312/bin/python3.12", "3.12.1"),
        Interpreter("/repo/venv/bin/python", "3.12.1", venv=True, base="/opt/py312/bin/python3.12"),
        Interpreter("/usr/bin/python3.9", "3.9.18", broken=True),
    ]
    assert given.path == ["/opt/py312/bin", "/usr/bin"]
    assert given.env == {"PROTOPRIMER_STDERR_LOG_LEVEL": "INFO"}
    assert given.cwd == "dst"
    assert given.remove == ["dst/default_env/proto_kernel.json"]
    assert given.dirs == ["empty"]
    assert [b.command for b in given.before] == ["./prime --env dst/special_env", ("./prime", "eval")]
    assert given.before[1].env == {"A": "1"} and given.before[1].cwd == "dst"
    assert given.files["gconf/proto_kernel.json"].text.startswith("{ ")
    assert given.files["tool.sh"].executable is True
    assert given.symlinks == {"lconf": "dst/default_env"}
    assert when.command == "./prime eval --json" and when.env == {"NO_COLOR": "1"}
    assert then.stderr == "" and then.stderr_contains == ["one string is one item"]
    assert then.stdout_json == {"a": 1}
    assert then.stderr_counts == {"does not exist": 1}
    assert then.commands == []
    assert then.files == [
        FileExpectation("lconf", symlink="dst/default_env"),
        FileExpectation("x.txt", contains=("...",)),
        FileExpectation("y.txt", text="all of it"),
        FileExpectation("gone.txt", absent=True),
        FileExpectation("there.txt", exists=True),
    ]


def test_root_placeholder_expands_in_given_when_and_then(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "placeholders"
            [given]
            env = { HOME_REPO = "{root}/home" }
            [given.symlinks]
            "{root}/lconf" = "{root}/dst/default_env"
            [when]
            run = "{root}/prime eval"
            [then]
            stdout_contains = ["{root}/dst", "literal {{root}} stays"]
            stdout_json_subset = { "{root}" = { path = "{root}/x" } }
            written = ["{root}/lconf", "/elsewhere/file"]
            [then.files]
            "{root}/x.txt" = { text = "in {root}" }
            """
        )
    )

    assert scenario.given.env == {"HOME_REPO": "/repo/home"}
    assert scenario.given.symlinks == {"/repo/lconf": "/repo/dst/default_env"}
    assert scenario.when.command == "/repo/prime eval"
    assert scenario.then.stdout_contains == ["/repo/dst", "literal {root} stays"]
    assert scenario.then.stdout_json_subset == {"/repo": {"path": "/repo/x"}}
    # paths under the root are compared the way the outcome reports them: relative to the root
    assert scenario.then.written == ["lconf", "/elsewhere/file"]
    assert scenario.then.files == [FileExpectation("x.txt", text="in /repo")]


def test_root_placeholder_follows_given_root(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "another root"
            [given]
            root = "/home/me/repo"
            [when]
            run = "./prime"
            [then]
            stderr_contains = ["{root}/proto_kernel.py"]
            """
        )
    )

    assert scenario.root == "/home/me/repo"
    assert scenario.then.stderr_contains == ["/home/me/repo/proto_kernel.py"]


def test_braces_that_are_not_the_placeholder_are_kept(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "json in expectations"
            [when]
            run = "./prime"
            [then]
            stdout = '{"a": {"b": 1}} {name} {ROOT}'
            """
        )
    )

    assert scenario.then.stdout == '{"a": {"b": 1}} {name} {ROOT}'


def test_given_copy_resolves_real_paths_next_to_the_scenario_file(write_scenario, tmp_path):
    (tmp_path / "real_conf").mkdir()
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "copy a real tree"
            [given.copy]
            "conf" = "../real_conf"
            [when]
            run = "./prime"
            [then]
            exit = 0
            """
        )
    )

    assert scenario.given.copy == {"conf": str(tmp_path / "real_conf")}


def test_built_world_holds_what_given_says(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "the world of [given]"
            [given]
            root = "/home/me/repo"
            layout = "instant"
            interpreters = ["python3 = 3.11.7", { path = "{root}/venv/bin/python", version = "3.11.7", venv = true }]
            path = ["/usr/bin"]
            env = { GREETING = "hello" }
            cwd = "sub"
            remove = [".python-version"]
            dirs = ["sub"]
            [given.files]
            "conf/a.json" = "{}"
            "tool.py" = { text = "#!/usr/bin/python3\\n", executable = true }
            [given.symlinks]
            "lconf" = "conf"
            [when]
            run = "./proto_kernel.py eval"
            [then]
            exit = 0
            """
        )
    )

    world = scenario.build_world()
    with world.activate() as session:
        assert session.exists("proto_kernel.py")
        assert not session.exists(".python-version")
        assert session.exists("/usr/bin/python3") and session.exists("/home/me/repo/venv/pyvenv.cfg")
        assert session.read_text("conf/a.json") == "{}"
        assert os.access(session.path("tool.py"), os.X_OK)
        assert session.is_symlink("lconf") and session.read_link("lconf") == "conf"
    assert world.root == "/home/me/repo"
    assert world.path == ["/usr/bin"]
    assert world.env["GREETING"] == "hello"
    assert world.cwd == "/home/me/repo/sub"


# endregion: well-formed files

# region: malformed files


def test_unknown_key_names_the_file_the_dotted_key_and_the_known_keys(write_scenario):
    message = load_error(write_scenario, MINIMAL.replace("exit = 0", "exitt = 0"))

    assert message.startswith("scenarios/x.toml: unknown key 'then.exitt' (did you mean 'exit'? ")
    assert "known keys in [then]: exit, stdout, stdout_contains, stdout_json, stdout_json_subset, stderr," in message


@pytest.mark.parametrize(
    "bad_key, expected",
    [
        ("titel = 'x'", "unknown key 'titel' (did you mean 'title'? known keys at the top level: format,"),
        ("[given]\nlayot = 'max'", "unknown key 'given.layot' (did you mean 'layout'? known keys in [given]:"),
        ("[given]\nbefore = [{ runn = 'x' }]", "unknown key 'given.before[0].runn' (did you mean 'run'?"),
    ],
)
def test_unknown_keys_anywhere_are_named_by_their_dotted_path(write_scenario, bad_key, expected):
    text = MINIMAL.replace("[when]", bad_key + "\n[when]") if bad_key.startswith("titel") else MINIMAL + bad_key

    assert expected in load_error(write_scenario, text)


def test_unknown_key_in_a_file_expectation_is_named_with_the_quoted_path(write_scenario):
    message = load_error(write_scenario, MINIMAL + '[then.files]\n"a b.txt" = { txt = "x" }\n')

    assert "unknown key 'then.files.\"a b.txt\".txt' (did you mean 'text'?" in message
    assert "text, contains, symlink, absent, exists" in message


def test_toml_syntax_error_gives_line_and_column(write_scenario):
    message = load_error(write_scenario, "format = 1\ntitle = 'x'\n[when]\nrun = ./prime\n")

    assert message.startswith("scenarios/x.toml: TOML syntax error at line 4, column 7: ")
    assert "run = ./prime" in message


def test_missing_format_says_which_formats_are_supported(write_scenario):
    message = load_error(write_scenario, MINIMAL.replace("format = 1", ""))

    assert message == (
        "scenarios/x.toml: missing key 'format' (write `format = 1` first; supported formats: 1)"
    )


def test_newer_format_asks_for_an_upgrade(write_scenario):
    message = load_error(write_scenario, MINIMAL.replace("format = 1", "format = 2"))

    assert "format 2 is newer than this harness reads (supported formats: 1)" in message
    assert "pip install -U 'protoprimer[harness]'" in message


def test_format_must_be_an_integer(write_scenario):
    message = load_error(write_scenario, MINIMAL.replace("format = 1", 'format = "1"'))

    assert message == "scenarios/x.toml: format must be an integer, got string '1'"


@pytest.mark.parametrize(
    "line, expected",
    [
        ('exit = "0"', "then.exit must be an integer, got string '0'"),
        ("exit = true", "then.exit must be an integer, got boolean True"),
        ("stdout = 1", "then.stdout must be a string, got integer 1"),
        ('stderr_contains = [1]', "then.stderr_contains[0] must be a string, got integer 1"),
        ('stderr_counts = { x = "1" }', "then.stderr_counts.x must be an integer, got string '1'"),
        ("stderr_counts = { x = -1 }", "then.stderr_counts.x must be 0 or more, got -1"),
        ("unchanged = false", "then.unchanged must be true (nothing changed) or an array of paths"),
        ('files = { "a" = "text" }', 'then.files.a must be a table: { text = "..." }'),
        ('files = { "a" = { absent = true, text = "x" } }', "then.files.a: absent = true cannot be combined with text"),
        ('files = { "a" = {} }', "then.files.a is empty"),
        ("unchanged = true\nwritten = ['a']", "then.unchanged = true and then.written contradict each other"),
    ],
)
def test_wrong_value_types_in_then_are_named(write_scenario, line, expected):
    message = load_error(write_scenario, MINIMAL.replace("exit = 0", line))

    assert message.startswith("scenarios/x.toml: ")
    assert expected in message


@pytest.mark.parametrize(
    "given, expected",
    [
        ("env = { N = 1 }", "given.env.N must be a string, got integer 1 (TOML values here are text: quote them)"),
        ('path = "/usr/bin"', "given.path must be an array of strings, got string '/usr/bin'"),
        ("root = 'repo'", "given.root must be an absolute path, got 'repo'"),
        ('files = { "a" = 1 }', "given.files.a must be a string (the file's text) or a table"),
        ('copy = { "a" = "no/such/dir" }', "given.copy.a: the real path 'no/such/dir' does not exist"),
        ("before = 'x'", "given.before must be an array of commands, got string 'x'"),
        ("before = ['']", "given.before[0] must not be empty"),
    ],
)
def test_wrong_values_in_given_are_named(write_scenario, given, expected):
    message = load_error(write_scenario, MINIMAL + "[given]\n" + given + "\n")

    assert expected in message


def test_unknown_layout_lists_the_valid_ones(write_scenario):
    message = load_error(write_scenario, MINIMAL + "[given]\nlayout = 'mx'\n")

    assert message.startswith("scenarios/x.toml: unknown layout 'mx' in given.layout (did you mean 'max'? ")
    for layout in ("instant", "min", "max"):
        assert layout in message


@pytest.mark.parametrize(
    "interpreter, expected",
    [
        ('"python3 3.11.7"', "malformed interpreter 'python3 3.11.7' in given.interpreters[0] (write \"<path> = <X.Y.Z>\""),
        ('"python3 = 3.11"', "given.interpreters[0]: version '3.11' of python3 must be X.Y.Z, like 3.11.7"),
        ("{ path = 'python3' }", "missing key 'given.interpreters[0].version'"),
        ("{ path = 'p', version = '3.11.7', base = '/b' }", "given.interpreters[0].base names the base of a venv: set given.interpreters[0].venv = true too"),
        ("{ path = 'p', version = '3.11.7', vnev = true }", "unknown key 'given.interpreters[0].vnev' (did you mean 'venv'?"),
        ("3", "given.interpreters[0] must be a string or a table, got integer 3"),
    ],
)
def test_malformed_interpreters_are_explained(write_scenario, interpreter, expected):
    message = load_error(write_scenario, MINIMAL + "[given]\ninterpreters = [%s]\n" % interpreter)

    assert expected in message


def test_missing_when_run_and_then_are_named(write_scenario):
    no_run = load_error(write_scenario, MINIMAL.replace('run = "./proto_kernel.py eval"', "env = {}"))
    no_then = load_error(write_scenario, MINIMAL.replace("[then]\nexit = 0", ""))
    empty_then = load_error(write_scenario, MINIMAL.replace("exit = 0", ""))
    no_title = load_error(write_scenario, MINIMAL.replace('title = "a minimal scenario"', ""))

    assert "missing key 'when.run'" in no_run
    assert "missing table [then] (it needs at least one expectation: exit, stdout," in no_then
    assert "[then] has no expectations (add at least one of: exit, stdout," in empty_then
    assert "missing key 'title'" in no_title


def test_unsplittable_command_is_named(write_scenario):
    message = load_error(write_scenario, MINIMAL.replace('"./proto_kernel.py eval"', "\"./prime 'eval\""))

    assert "when.run cannot be split like a shell command line: No closing quotation" in message


def test_bad_marker_name_is_named(write_scenario):
    message = load_error(write_scenario, 'markers = ["not a name"]\n' + MINIMAL)

    assert "markers[0] 'not a name' is not a marker name" in message


def test_unreadable_file_is_a_scenario_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin.toml").write_bytes(b"title = '\xff'\n")

    with pytest.raises(ScenarioError, match=r"^bin.toml: not UTF-8 text"):
        load_scenario(tmp_path / "bin.toml")
    with pytest.raises(ScenarioError, match=r"^missing.toml: cannot read the file"):
        load_scenario(tmp_path / "missing.toml")


# endregion: malformed files

# region: checking


class FailingOutcome:
    """An outcome stand-in whose assert_* helpers fail with a message naming the call, to show how
    check_expectations reports several failures at once."""

    stdout = '{"a": {"b": 1, "c": true}}'
    stderr = "line 1\nline 2\n"
    created = ["new.txt", "venv/bin/python"]
    modified = []
    deleted = []

    def __getattr__(self, name):
        if not name.startswith("assert_"):
            raise AttributeError(name)

        def fail(*args, **kwargs):
            raise AssertionError("%s%r failed" % (name, args))

        return fail


def test_check_expectations_reports_every_failure_under_its_key(write_scenario):
    scenario = load_scenario(
        write_scenario(
            """
            format = 1
            title = "several things go wrong"
            [when]
            run = "./prime"
            [then]
            exit = 0
            stdout_json_subset = { a = { b = 2, c = 1, d = "x" } }
            unchanged = ["venv/", "constraints.txt"]
            [then.files]
            "x.txt" = { absent = true }
            """
        )
    )

    with pytest.raises(AssertionError) as excinfo:
        check_expectations(scenario, FailingOutcome())
    message = str(excinfo.value)

    assert message.startswith("scenarios/x.toml: 4 of 4 expectations failed\n  title: several things go wrong\n")
    assert "[then.exit]\n  assert_exit(0,) failed" in message
    assert "a.b: expected 2, got 1" in message
    assert "a.c: expected 1, got true" in message
    assert 'a.d: missing (expected "x")' in message
    assert "[then.unchanged]\n  assert_unchanged(['venv/', 'constraints.txt'],) failed" in message
    assert "[then.files.\"x.txt\"]\n  assert_absent('x.txt',) failed" in message
    assert message.endswith("--- stderr ---\nline 1\nline 2\n--- stdout ---\n" + FailingOutcome.stdout)


def test_output_tails_of_each_failure_are_shown_once_at_the_end(write_scenario):
    class TailingOutcome(FailingOutcome):
        """Fails as the Outcome helpers do: headline, details and the output tails, kept apart."""

        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ExpectationFailure("%s failed" % name, "  - why", tails="--- stderr ---\nline 2\n--- stdout ---")

            return fail

    scenario = load_scenario(write_scenario(MINIMAL.replace("exit = 0", "exit = 0\nstdout = 'x'")))

    with pytest.raises(AssertionError) as excinfo:
        check_expectations(scenario, TailingOutcome())
    message = str(excinfo.value)

    assert message.count("--- stderr ---") == 1
    assert "[then.exit]\n  assert_exit failed\n    - why\n\n[then.stdout]\n  assert_stdout failed\n    - why\n" in message


def test_an_expectation_failure_reads_in_full_and_keeps_its_parts():
    failure = ExpectationFailure("expected exit 0, got 2", "details", tails="--- stderr ---\nboom")

    assert str(failure) == "expected exit 0, got 2\ndetails\n--- stderr ---\nboom"
    assert failure.explanation == "expected exit 0, got 2\ndetails"
    assert isinstance(failure, AssertionError)
    assert str(ExpectationFailure("headline only")) == "headline only"


def test_check_expectations_passes_silently_when_all_hold(write_scenario):
    class PassingOutcome(FailingOutcome):
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    scenario = load_scenario(
        write_scenario(MINIMAL.replace("exit = 0", "exit = 0\nstdout_json_subset = { a = { b = 1 } }"))
    )

    check_expectations(scenario, PassingOutcome())


# endregion: checking
