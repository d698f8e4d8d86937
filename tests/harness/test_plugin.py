"""The pytest plugin as a user meets it: scenario files collected, run and reported; markers; fixtures.

Most tests build a small project with pytester and run pytest in it (in-process); the guards the
fixtures wrap are also tested as the plain context managers they are. The plugin is loaded the way users
get it, through the `pytest11` entry point of the installed distribution (or with
`-p protoprimer_harness.plugin` where the distribution is not installed).

The scenarios here do not need the kernel to work: they run commands that fail the way a shell does
(a missing program, a script whose shebang interpreter is absent: exit 127). Only the tests of the
examples region run the kernel (its `eval`).
"""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from plugin_loading import PLUGIN_ARGS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "scenarios" / "examples"




MISSING_PROGRAM = """
format = 1
title = "a program that does not exist cannot run"
[when]
run = "./no_such_program --flag"
[then]
exit = 127
stderr_contains = ["No such file or directory"]
unchanged = true
"""

BAD_INTERPRETER = """
format = 1
title = "a script whose shebang interpreter is absent exits 127"
[given.files]
"tool.py" = { text = "#!/opt/python9/bin/python9\\nprint('hi')\\n", executable = true }
[when]
run = "./tool.py"
[then]
exit = 127
stderr_contains = ["bad interpreter"]
"""


@pytest.fixture
def project(pytester):
    """A pytester project whose rootdir is its own directory, with helpers to add scenario files."""
    pytester.makeini("[pytest]\n")

    def add(rel_path, text):
        path = pytester.path / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    pytester.add = add
    return pytester


def run_pytest(pytester, *args):
    return pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", *args)


# region: collection and naming


def test_passing_scenario_is_collected_and_named_after_its_file(project):
    project.add("scenarios/shell/missing_program.toml", MISSING_PROGRAM)

    collected = run_pytest(project, "--collect-only", "-q")
    result = run_pytest(project, "-v")

    collected.stdout.fnmatch_lines(["scenarios/shell/missing_program.toml::missing_program"])
    result.stdout.fnmatch_lines(["scenarios/shell/missing_program.toml::missing_program PASSED*"])
    result.assert_outcomes(passed=1)


def test_one_scenario_file_can_be_run_alone(project):
    project.add("scenarios/a.toml", MISSING_PROGRAM)
    project.add("scenarios/b.toml", BAD_INTERPRETER)

    result = run_pytest(project, "scenarios/b.toml", "-v")

    result.stdout.fnmatch_lines(["scenarios/b.toml::b PASSED*"])
    result.assert_outcomes(passed=1)


def test_only_toml_files_under_the_scenario_dirs_are_collected(project):
    project.add("scenarios/a.toml", MISSING_PROGRAM)
    project.add("other/b.toml", "not a scenario at all = [")
    project.add("pyproject.toml", "[tool.other]\nx = 1\n")

    result = run_pytest(project, "--collect-only", "-q", ".")

    result.stdout.fnmatch_lines(["scenarios/a.toml::a", "1 test collected*"])


def test_scenario_dirs_come_from_the_ini_option(project):
    project.makeini("[pytest]\nprotoprimer_scenario_dirs =\n    tests/scenarios\n")
    project.add("scenarios/ignored.toml", "broken = [")
    project.add("tests/scenarios/kept.toml", MISSING_PROGRAM)

    result = run_pytest(project, "--collect-only", "-q", ".")

    result.stdout.fnmatch_lines(["tests/scenarios/kept.toml::kept", "1 test collected*"])


# endregion: collection and naming

# region: failures


def test_wrong_exit_code_fails_with_expected_and_actual_and_the_stderr_tail(project):
    project.add("scenarios/wrong_exit.toml", MISSING_PROGRAM.replace("exit = 127", "exit = 0"))

    result = run_pytest(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ wrong_exit: a program that does not exist cannot run _*",
            "scenarios/wrong_exit.toml: 1 of 3 expectations failed",
            "  title: a program that does not exist cannot run",
            "  run:   ./no_such_program --flag",
            "[[]then.exit[]]",
            "  expected exit 0, got 127",
            "--- stderr ---",
            "*no_such_program*No such file or directory*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "protoprimer_harness/scenario.py" not in result.stdout.str()


def test_every_failed_expectation_is_reported_not_only_the_first(project):
    project.add(
        "scenarios/two_wrong.toml",
        MISSING_PROGRAM.replace("exit = 127", "exit = 1").replace('["No such file or directory"]', '["nope"]'),
    )

    result = run_pytest(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenarios/two_wrong.toml: 2 of 3 expectations failed",
            "[[]then.exit[]]",
            "  expected exit 1, got 127",
            "[[]then.stderr_contains[]]",
            "  stderr does not contain: 'nope'",
        ]
    )


def test_expected_file_that_is_missing_fails_naming_the_file(project):
    project.add(
        "scenarios/missing_file.toml",
        MISSING_PROGRAM + '[then.files]\n"dst/out.txt" = { contains = "hello" }\n',
    )

    result = run_pytest(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['[[]then.files."dst/out.txt"[]]', "  expected a file at dst/out.txt, found nothing"])


def test_failing_before_run_names_the_command(project):
    project.add(
        "scenarios/before_fails.toml",
        MISSING_PROGRAM.replace("[when]", '[given]\nbefore = ["./setup.sh first"]\n[when]'),
    )

    result = run_pytest(project)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenarios/before_fails.toml: before run given.before[[]0[]] `./setup.sh first` exited 127, expected 0*",
            "--- stderr ---",
            "bash: ./setup.sh: No such file or directory",
        ]
    )


def test_scenario_the_harness_cannot_simulate_fails_with_the_harness_message(project):
    project.add(
        "scenarios/shell_script.toml",
        """
        format = 1
        title = "a shell script is not something the harness simulates"
        [given.files]
        "tool.sh" = { text = "echo hi\\n", executable = true }
        [when]
        run = "./tool.sh"
        [then]
        exit = 0
        """,
    )
    project.add(
        "scenarios/remove_nothing.toml",
        MISSING_PROGRAM.replace("[when]", '[given]\nremove = ["not/there.txt"]\n[when]'),
    )

    result = run_pytest(project)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "scenarios/remove_nothing.toml: the harness cannot run this scenario: HarnessError: "
            "World.remove('/repo/not/there.txt'): nothing is there",
            "scenarios/shell_script.toml: the harness cannot run this scenario: UnknownCommandError: *./tool.sh*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_typo_in_a_key_is_a_collection_error_naming_file_and_key(project):
    project.add("scenarios/conf/typo.toml", MISSING_PROGRAM.replace("exit = 127", "exitt = 127"))

    result = run_pytest(project)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting scenarios/conf/typo.toml*",
            "scenarios/conf/typo.toml: unknown key 'then.exitt' (did you mean 'exit'? known keys in [[]then[]]: *",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_toml_syntax_error_is_a_collection_error_with_line_and_column(project):
    project.add("scenarios/syntax.toml", "format = 1\ntitle = 'x'\n[when]\nrun = ./prime\n")

    result = run_pytest(project)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["scenarios/syntax.toml: TOML syntax error at line 4, column 7: *"])


# endregion: failures

# region: markers


def test_markers_are_registered_so_strict_markers_passes(project):
    project.add("scenarios/marked.toml", 'markers = ["conf", "slow_boot"]\n' + MISSING_PROGRAM)
    project.makepyfile(
        test_python="""
        import pytest

        @pytest.mark.integration
        def test_marked():
            pass
        """
    )

    result = run_pytest(project, "--strict-markers", "-m", "scenario and conf and slow_boot", ".")
    markers = run_pytest(project, "--markers")

    result.assert_outcomes(passed=1, deselected=1)
    markers.stdout.fnmatch_lines(["@pytest.mark.scenario:*", "@pytest.mark.integration:*"])


# endregion: markers

# region: fixtures


def test_world_fixture_builds_worlds_and_closes_sessions_left_open(project):
    project.makepyfile(
        test_uses_world_fixture="""
        import os

        def test_world(world):
            w = world().add_file("hello.txt", "hi\\n")
            session = w.activate()  # never left by the test: the fixture closes it
            outcome = session.run("./no_such_program")
            outcome.assert_exit(127)
            assert session.read_text("hello.txt") == "hi\\n"

        def test_real_filesystem_is_back():
            assert not os.path.exists("/repo/hello.txt")
        """
    )

    result = run_pytest(project)

    result.assert_outcomes(passed=2)


def test_world_fixture_is_the_world_class_and_also_closes_worlds_made_without_it(project):
    project.makepyfile(
        test_plain_worlds="""
        import os
        from protoprimer_harness import World

        def test_plain(world):
            made = world(root="/home/me/repo")
            assert world is World and type(made) is World
            assert "activate" not in vars(made)  # nothing rebound on the instance: a plain World
            World().add_file("direct.txt", "x").activate()  # made without the fixture, left active

        def test_real_filesystem_is_back():
            assert not os.path.exists("/repo/direct.txt")
        """
    )

    result = run_pytest(project)

    result.assert_outcomes(passed=2)


def test_run_scenario_file_fixture_returns_the_outcome(project):
    project.add("scenarios/a.toml", BAD_INTERPRETER)
    project.makepyfile(
        test_uses_run_scenario_file="""
        def test_run(run_scenario_file):
            outcome = run_scenario_file("scenarios/a.toml")
            assert outcome.exit_code == 127
        """
    )

    result = run_pytest(project, "test_uses_run_scenario_file.py")

    result.assert_outcomes(passed=1)


def test_fixtures_and_scenarios_say_what_to_install_without_the_harness_extra(project):
    project.makeconftest(
        """
        import sys
        sys.modules["pyfakefs"] = None  # as if pyfakefs were not installed
        """
    )
    project.add("scenarios/a.toml", MISSING_PROGRAM)
    project.makepyfile(
        test_uses_world_fixture="""
        def test_world(world):
            pass
        """
    )

    result = run_pytest(project, ".")

    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_world*",
            "the `world` fixture needs the protoprimer harness, but pyfakefs is not installed: "
            "pip install 'protoprimer[harness]'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*_ a: a program that does not exist cannot run _*",
            "running a scenario needs the protoprimer harness, but pyfakefs is not installed: "
            "pip install 'protoprimer[harness]'",
        ]
    )
    assert "During handling" not in result.stdout.str()


# endregion: fixtures

# region: guards


GUARDED_TESTS = """
import os
import pytest

@pytest.fixture(autouse=True)
def _guards(protoprimer_env_guard, protoprimer_cwd_guard, protoprimer_fs_guard):
    yield

def test_leaks_an_env_var():
    os.environ["PROTOPRIMER_LEAKED"] = "1"

def test_changes_cwd():
    os.chdir("/")

def test_writes_a_file_in_rootdir(request):
    with open(os.path.join(str(request.config.rootpath), "stray.txt"), "w") as f:
        f.write("x")

def test_clean(monkeypatch, tmp_path):
    monkeypatch.setenv("PROTOPRIMER_FINE", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fine.txt").write_text("x")
"""


def test_guards_fail_tests_that_leak_env_cwd_or_files(pytester):
    # the project is a subdirectory: pytester's subprocess mode writes its output files in pytester.path
    project_dir = pytester.mkdir("project")
    (project_dir / "pytest.ini").write_text("[pytest]\n")
    (project_dir / "test_uses_guards.py").write_text(GUARDED_TESTS)

    result = run_pytest(pytester, "project")

    result.assert_outcomes(passed=4, errors=3)
    output = result.stdout.str()
    assert "ERROR at teardown of test_leaks_an_env_var" in output
    assert "added    PROTOPRIMER_LEAKED='1'" in output
    assert "ERROR at teardown of test_changes_cwd" in output
    assert "the test left the working directory changed" in output
    assert "ERROR at teardown of test_writes_a_file_in_rootdir" in output
    assert "created  stray.txt" in output
    # the guards restore what they can, so the leak does not reach later tests
    assert "PROTOPRIMER_LEAKED" not in os.environ


def test_guards_are_context_managers_without_pytest(tmp_path, monkeypatch):
    from protoprimer_harness.guards import CwdGuard, EnvGuard, FsGuard, GuardViolation

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kept.txt").write_text("x")
    # when
    with pytest.raises(GuardViolation) as raised:
        with EnvGuard(), CwdGuard(), FsGuard(tmp_path):
            os.environ["PROTOPRIMER_GUARDED"] = "1"
            (tmp_path / "new.txt").write_text("x")
            (tmp_path / "kept.txt").unlink()
    # then: the first guard to find a change reports it (FsGuard: the innermost)
    assert str(raised.value).splitlines() == [
        "the test changed files under %s:" % tmp_path,
        "  deleted  kept.txt",
        "  created  new.txt",
    ]
    assert "PROTOPRIMER_GUARDED" not in os.environ  # EnvGuard restored it, then let the violation through


def test_a_guard_restores_and_lets_the_blocks_own_exception_through(tmp_path, monkeypatch):
    from protoprimer_harness.guards import CwdGuard, EnvGuard

    monkeypatch.chdir(tmp_path)
    before = os.getcwd()
    # when
    with pytest.raises(KeyError):
        with EnvGuard(), CwdGuard():
            os.environ["PROTOPRIMER_GUARDED"] = "1"
            os.chdir("/")
            raise KeyError("the block's own error")
    # then
    assert "PROTOPRIMER_GUARDED" not in os.environ
    assert os.getcwd() == before


def test_guard_reports_say_what_changed_and_what_was_restored():
    from protoprimer_harness.guards import EnvGuard

    environ = {"KEPT": "1", "CHANGED": "a", "REMOVED": "x", "PYTEST_CURRENT_TEST": "t setup"}
    guard = EnvGuard(hint="use monkeypatch.setenv/delenv", environ=environ).start()
    environ.update(CHANGED="b", ADDED="2", PYTEST_CURRENT_TEST="t call")
    del environ["REMOVED"]
    # when
    report = guard.finish()
    # then
    assert report.splitlines() == [
        "the test left os.environ changed (restored now; use monkeypatch.setenv/delenv):",
        "  added    ADDED='2'",
        "  changed  CHANGED: 'a' -> 'b'",
        "  removed  REMOVED (was 'x')",
    ]
    assert environ == {"KEPT": "1", "CHANGED": "a", "REMOVED": "x", "PYTEST_CURRENT_TEST": "t call"}
    assert guard.start().finish() == ""


def test_session_guard_closes_the_sessions_started_inside_it_only():
    from protoprimer_harness import HarnessError, World
    from protoprimer_harness.guards import GuardViolation, SessionGuard

    # a session active before the guard started is not the guard's
    with World().activate() as earlier:
        with SessionGuard(fail=True):
            pass
        assert earlier.exists(".")
    # when
    with pytest.raises(GuardViolation, match="left 1 world session active"):
        with SessionGuard(fail=True):
            left = World().add_file("left.txt", "x").activate()
    # then
    with pytest.raises(HarnessError, match="not active"):
        left.read_text("left.txt")
    assert not os.path.exists("/repo/left.txt")


# endregion: guards

# region: examples and docs (these need the kernel's `eval`)


def _example_files():
    return sorted(EXAMPLES_DIR.glob("*.toml"))


def test_example_scenarios_pass(pytester):
    pytester.makeini("[pytest]\n")
    for example in _example_files():
        target = pytester.path / "scenarios" / "examples" / example.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")

    result = run_pytest(pytester, "-v")

    assert _example_files(), "no example scenarios in %s" % EXAMPLES_DIR
    result.assert_outcomes(passed=len(_example_files()))


def test_complete_example_of_the_docs_is_an_example_scenario():
    from protoprimer_harness._scenario_toml import toml_module

    tomllib = toml_module()

    docs = (REPO_ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    named = block.splitlines()[0].lstrip("# ").strip()

    assert named == "scenarios/examples/lconf_selects_env.toml"
    assert tomllib.loads(block) == tomllib.loads((REPO_ROOT / named).read_text(encoding="utf-8"))


# endregion: examples and docs

# region: loading the plugin


def test_loading_the_plugin_imports_neither_pyfakefs_nor_a_toml_parser_nor_the_harness_core(pytester):
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys, pytest, protoprimer_harness.plugin; "
        "print(sorted(m for m in ('pyfakefs', 'tomllib', 'tomli') if m in sys.modules)); "
        "print(sorted(m for m in sys.modules if m.startswith('protoprimer_harness')))",
    )

    assert result.ret == 0, result.stderr.str()
    assert result.stdout.lines == [
        "[]",
        "['protoprimer_harness', 'protoprimer_harness.guards', 'protoprimer_harness.plugin']",
    ]


def test_a_plain_pytest_run_works_with_the_plugin_and_without_the_harness_extra(project):
    project.makeconftest(
        """
        import sys
        sys.modules["pyfakefs"] = None  # as if pyfakefs were not installed
        """
    )
    project.makepyfile(test_plain="def test_plain():\n    assert True\n")

    result = run_pytest(project)

    result.assert_outcomes(passed=1)


# endregion: loading the plugin
