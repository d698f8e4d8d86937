"""Tapes: recording, strict replay, its failure reports, modes, redaction and placeholders, the format.

Most tests record a small stand-in program (a kernel-shaped namespace whose `main(host)` makes a few port
calls) for real in tmp_path, then replay it, or replay it with a program that behaves differently. The
committed tapes themselves are replayed by the plugin (scenarios/tapes/*.tape.toml); the tests at the end
check that each built-in recipe has its tape and that the tape was recorded from the recipe as it is now.
"""

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from plugin_loading import PLUGIN_ARGS

from protoprimer_harness.tape import (MODE_ENV_VAR, TAPE_MODES, TapeMismatch, TapeMissing, TapeModeError, TapeOutcomeMismatch,
                          TapeUnconsumed, TapeUnsupported, call_sequence, drift_report, record_tape, replay_tape,
                          resolve_tape_mode)
from protoprimer_harness._tape_format import (REDACTED, Tape, TapeFormatError, dump_tape, load_tape, parse_tape,
                                 placeholder_definitions, fake_placeholders)
from protoprimer_harness._tape_modes import RECORD_COMMAND, RECORD_HINT
from protoprimer_harness.tape_recipes import BUILTIN_RECIPES, builtin_recipe
from protoprimer import primer_kernel

REPO_ROOT = Path(__file__).resolve().parents[2]
TAPES_DIR = REPO_ROOT / "scenarios" / "tapes"


def stand_in_kernel(program):
    """A kernel-shaped namespace: the real Host, RunResult and adapter classes (the canonical form of a
    call follows the adapters' signatures), and a `main(host)` that exits with what `program(host)` returns."""

    def main(host=None):
        raise SystemExit(program(host))

    return types.SimpleNamespace(
        Host=primer_kernel.Host, RunResult=primer_kernel.RunResult, RealFileSystem=primer_kernel.RealFileSystem,
        RealProcesses=primer_kernel.RealProcesses, RealEnvironment=primer_kernel.RealEnvironment,
        __version__="stand-in", main=main,
    )


def files_program(read="notes.txt", check_op="exists", stop_early=False, code=0):
    """Checks a marker, writes it, checks it again (same call, another answer), reads a missing file."""

    def program(host):
        root = host.env.cwd()
        marker = os.path.join(root, "marker.txt")
        check = getattr(host.fs, check_op)
        first = check(marker)
        host.fs.write_text(marker, "hello\n")
        second = check(marker)
        if stop_early:
            return code
        try:
            host.fs.read_text(os.path.join(root, read))
        except FileNotFoundError as e:
            host.env.write_stderr("missing: %s\n" % e.filename)
        token = host.env.get("SECRET_TOKEN")
        host.env.write_stdout("%s %s secret-set=%s path=%s\n" % (first, second, token is not None, host.env.get("PATH")))
        return code

    return program


@pytest.fixture
def recording_tree(tmp_path):
    """A recording place: tmp_path/repo (the repo), tmp_path/home, tmp_path/bin on PATH."""
    for name in ("repo", "home", "bin"):
        (tmp_path / name).mkdir()
    env = {
        "PATH": str(tmp_path / "bin"),
        "HOME": str(tmp_path / "home"),
        "SECRET_TOKEN": "s3cr3t-value",
        "PROTOPRIMER_STDERR_LOG_LEVEL": "INFO",
    }
    return types.SimpleNamespace(tmp=tmp_path, repo=str(tmp_path / "repo"), env=env,
                                 tape=str(tmp_path / "files.tape.toml"))


def record(recording_tree, program, **kwargs):
    return record_tape(recording_tree.tape, recording_tree.repo, ["./prime", "eval"], recording_tree.env,
                       kernel=stand_in_kernel(program), python=sys.executable, **kwargs)


# region: replay


def test_a_recording_replays_with_the_same_results_and_output(recording_tree):
    tape, recorded = record(recording_tree, files_program())
    run = replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program()))
    assert recorded.exit_code == run.exit_code == 0
    assert run.steps == len(tape.steps)
    assert run.stdout == "False True secret-set=True path=/tape/tmp/bin\n"
    assert run.stderr == "missing: /tape/tmp/repo/notes.txt\n"  # the exception came back with its filename


def test_repeated_identical_calls_replay_in_order(recording_tree):
    tape, _ = record(recording_tree, files_program())
    checks = [step for step in tape.steps if step["op"] == "exists"]
    assert [step["args"] for step in checks] == [["{root}/marker.txt"]] * 2
    assert [step.get("result") for step in checks] == [False, True]
    run = replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program()))
    assert run.stdout.startswith("False True ")


def test_a_call_with_other_args_shows_the_nearest_steps_and_an_args_diff(recording_tree):
    record(recording_tree, files_program())
    with pytest.raises(TapeMismatch) as caught:
        replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program(read="other.txt")))
    message = str(caught.value)
    assert recording_tree.tape in message and "(mode replay)" in message
    assert 'the call:    fs.read_text("{root}/other.txt")' in message
    assert "what differed: args (arg 0 differs)" in message
    assert "the nearest recorded steps:" in message
    assert '[args differ; the next step]' in message
    assert '-arg 0: "{root}/notes.txt"' in message and '+arg 0: "{root}/other.txt"' in message
    assert "--protoprimer-tape-mode=rewrite" in message
    assert caught.value.call == ("fs", "read_text", ["{root}/other.txt"])


def test_a_call_of_another_op_says_the_op_differed(recording_tree):
    record(recording_tree, files_program())
    with pytest.raises(TapeMismatch) as caught:
        replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program(check_op="is_file")))
    message = str(caught.value)
    assert "call #0 of the replay" in message
    assert "what differed: op (op is_file, recorded exists)" in message
    assert "args diff:" not in message


def test_a_call_past_the_end_of_the_tape_says_so(recording_tree):
    tape, _ = record(recording_tree, files_program())
    tape.steps = tape.steps[:2]
    tape.outcome = {"exit_code": 0}
    with pytest.raises(TapeMismatch) as caught:
        replay_tape("short.tape.toml", tape=tape, kernel=stand_in_kernel(files_program()))
    assert "the tape has no step #2: it ends after 2 steps" in str(caught.value)


def test_unconsumed_steps_fail_at_the_end_listing_them(recording_tree):
    tape, _ = record(recording_tree, files_program())
    with pytest.raises(TapeUnconsumed) as caught:
        replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program(stop_early=True)))
    message = str(caught.value)
    assert "the process ended (exit 0) after step #2" in message
    assert "more steps that the replay never made" in message
    assert 'fs.read_text("{root}/notes.txt")' in message
    assert caught.value.steps == list(range(3, len(tape.steps)))


def test_another_exit_code_with_the_same_calls_fails(recording_tree):
    record(recording_tree, files_program())
    with pytest.raises(TapeOutcomeMismatch) as caught:
        replay_tape(recording_tree.tape, kernel=stand_in_kernel(files_program(code=3)))
    assert "the replay ended with exit 3 and the recording with exit 0" in str(caught.value)


def test_a_missing_tape_is_an_error_that_says_how_to_record_it(tmp_path):
    with pytest.raises(TapeMissing) as caught:
        replay_tape(str(tmp_path / "nope.tape.toml"))
    message = str(caught.value)
    assert "no such tape (mode replay never records)" in message
    assert "python -m protoprimer_harness.tape record-all" in message and "--protoprimer-tape-mode" in message


def test_commands_are_recorded_with_their_output_and_not_run_again(recording_tree):
    probe = os.path.join(recording_tree.repo, "probe-ran")

    def program(host):  # like the kernel, it takes every path from the host
        code = "open(%r, 'w').close(); print('hi')" % os.path.join(host.env.cwd(), "probe-ran")
        result = host.proc.run([host.env.executable, "-c", code], env={})
        host.env.write_stdout("%d %s" % (result.returncode, result.stdout))
        return 0

    tape, _ = record(recording_tree, program)
    assert tape.steps[0]["result"] == {"returncode": 0, "stdout": "hi\n", "stderr": ""}
    os.remove(probe)
    run = replay_tape(recording_tree.tape, kernel=stand_in_kernel(program))
    assert run.stdout == "0 hi\n" and not os.path.exists(probe)


def test_replace_is_the_last_step_and_ends_the_recording(recording_tree):
    def program(host):
        host.fs.exists(host.env.cwd())
        host.proc.replace([os.path.join(host.env.cwd(), "venv/bin/python"), "-I", "./prime"], {"PATH": "/bin"})
        raise AssertionError("replace returned")

    tape, recorded = record(recording_tree, program)
    assert tape.steps[-1]["op"] == "replace" and tape.outcome["replaced"] is True
    assert recorded.ended == "replaced"
    run = replay_tape(recording_tree.tape, kernel=stand_in_kernel(program))
    assert run.exit_code is None and run.replaced_argv == ["/tape/tmp/repo/venv/bin/python", "-I", "./prime"]


def test_client_code_in_process_cannot_be_recorded(recording_tree):
    def program(host):
        host.proc.call_main("client.main", "main")
        return 0

    with pytest.raises(TapeUnsupported) as caught:
        record(recording_tree, program)
    assert "proc.call_main" in str(caught.value)


# endregion: replay

# region: modes


def test_the_default_mode_is_replay():
    assert resolve_tape_mode(None, {}) == "replay"


def test_the_option_wins_over_the_variable():
    assert resolve_tape_mode("rewrite", {MODE_ENV_VAR: "replay"}) == "rewrite"
    assert resolve_tape_mode(None, {MODE_ENV_VAR: "rewrite"}) == "rewrite"


@pytest.mark.parametrize("option, environ, source", [
    ("rewite", {}, "the --protoprimer-tape-mode option is 'rewite'"),
    (None, {MODE_ENV_VAR: "record"}, "$PROTOPRIMER_TAPE_MODE is 'record'"),
])
def test_a_misspelled_mode_is_an_error_listing_the_valid_ones(option, environ, source):
    with pytest.raises(TapeModeError) as caught:
        resolve_tape_mode(option, environ)
    message = str(caught.value)
    assert source in message
    for mode in TAPE_MODES:
        assert "%s: %s" % (mode, TAPE_MODES[mode]) in message


# endregion: modes

# region: the format


def test_values_are_redacted_unless_allow_listed_and_paths_are_placeholders(recording_tree):
    tape, _ = record(recording_tree, files_program())
    text = Path(recording_tree.tape).read_text()
    assert "s3cr3t" not in text and str(recording_tree.tmp) not in text
    env = tape.process["env"]
    assert env["SECRET_TOKEN"] == REDACTED
    assert env["PATH"] == "{tmp}/bin" and env["HOME"] == "{home}" and env["PROTOPRIMER_STDERR_LOG_LEVEL"] == "INFO"
    gets = dict((step["args"][0], step.get("result")) for step in tape.steps if step["op"] == "get")
    assert gets == {"SECRET_TOKEN": REDACTED, "PATH": "{tmp}/bin"}
    assert tape.placeholders["root"] == "{tmp}/repo" and tape.placeholders["home"] == "{tmp}/home"
    assert tape.process["kernel_path"] == "{root}/proto_kernel.py"


def test_placeholders_replace_whole_path_components_only():
    definitions = placeholder_definitions({"tmp": "/t/x", "root": "/t/x/repo", "python_prefix": "/opt/py",
                                           "python": "/opt/py/bin/python3.11"})
    assert definitions == {"tmp": "/tape/tmp", "root": "{tmp}/repo", "python_prefix": "/tape/python_prefix",
                           "python": "{python_prefix}/bin/python3.11"}
    fake = fake_placeholders(definitions)
    assert fake.normalise("/tape/tmp/repo/a:/tape/tmp/repository:/tape/tmp") == "{root}/a:{tmp}/repository:{tmp}"
    assert fake.normalise("/tape/python_prefix/bin/python3.11.bak file:///tape/tmp/repo") == (
        "{python_prefix}/bin/python3.11.bak file://{root}")
    assert fake.normalise("see /tape/tmp/repo. or /tape/tmp/repo.bak") == "see {root}. or {tmp}/repo.bak"
    assert fake.normalise("/tape/tmp/repo.bak /tape/python_prefix/bin/python3.11.7") == (
        "{tmp}/repo.bak {python_prefix}/bin/python3.11.7")
    assert fake.expand("{python} {root}") == "/tape/python_prefix/bin/python3.11 /tape/tmp/repo"


def test_a_tape_written_then_read_back_equals_itself(recording_tree):
    tape, _ = record(recording_tree, files_program())
    assert parse_tape(dump_tape(tape)) == tape
    assert load_tape(recording_tree.tape) == tape


def test_awkward_values_survive_the_round_trip():
    texts = ['quote " and """ triple', 'ends with a quote"', 'ends with two""', "back\\slash\\", "tab\tcr\r\x1b[0m\x7f",
             "lines\nwith \"\"\"\" quotes\"\n", "unicode \u00e9\u2713", "{root}/x", ""]
    tape = Tape(
        title="awkward",
        process={"argv": ["a"], "pid": 1, "version": [3, 11, 7], "isolated": False, "entry": ["boot_env", "m:f"]},
        steps=[{"port": "fs", "op": "write_text", "args": [t, t * 3, None], "result": {"k": [None, 1.5, True]}}
               for t in texts] + [{"port": "env", "op": "now", "args": [], "result": 1795413136.626377},
                                  {"port": "env", "op": "recall", "args": ["knobs", {}], "result": {}}],
        outcome={"exit_code": 0, "stdout": "\n".join(texts)},
        placeholders={"tmp": "/tape/tmp"},
        recipe={"name": "x", "files": {"a/b.json": '{\n  "x": 1\n}\n'}, "env": {}},
    )
    assert parse_tape(dump_tape(tape)) == tape


@pytest.mark.parametrize("text, expected", [
    ("title = 'x'\n", "not a tape: it has no `format` key"),
    ("format = 2\ntitle = 'x'\n", "tape format 2, but this harness reads format 1: update the harness"),
    ("format = 0\ntitle = 'x'\n", "re-record it"),
    ("format = 1\ntitle = 'x'\n", "`process` must be a table"),
    ("format = 1\n[[step\n", "not valid TOML"),
])
def test_files_that_are_not_tapes_of_this_format_are_named(text, expected):
    with pytest.raises(TapeFormatError) as caught:
        parse_tape(text, "some.tape.toml")
    assert str(caught.value).startswith("some.tape.toml: ") and expected in str(caught.value)


# endregion: the format

# region: drift


def test_drift_ignores_what_varies_between_real_runs_and_shows_the_rest():
    committed = load_tape(str(TAPES_DIR / "cold_boot.tape.toml"))
    fresh = load_tape(str(TAPES_DIR / "cold_boot.tape.toml"))
    pid = committed.process["pid"]
    fresh.process["pid"] = pid + 1
    for step in fresh.steps:  # another run: another pid, other times, other results
        text = json.dumps(step["args"]).replace(str(pid), str(pid + 1))
        text = re.sub(r"\d{8}T\d{6}Z", "19991231T235959Z", text)
        text = re.sub(r"\d\d:\d\d:\d\d\.\d\d\dZ", "23:59:59.999Z", text)
        step["args"] = json.loads(text)
        step.pop("result", None)
    assert drift_report(committed, fresh, "cold_boot") is None
    install = next(step for step in fresh.steps if step["op"] == "run" and "install" in step["args"][0])
    install["args"][0].remove("--no-input")
    report = drift_report(committed, fresh, "cold_boot")
    assert report.startswith("tape cold_boot drifted: a real run today makes other calls than the tape")
    assert '--no-input' in report and "\n-proc.run" in report and "\n+proc.run" in report
    assert "--only cold_boot" in report


def test_the_call_sequence_masks_pids_times_and_signatures():
    tape = load_tape(str(TAPES_DIR / "cold_boot.tape.toml"))
    lines = "\n".join(call_sequence(tape))
    assert str(tape.process["pid"]) not in lines
    assert "built_by={time}.{pid}" in lines and "venv_python_sig={signature}" in lines
    assert "python_version={py}" in lines


# endregion: drift

# region: the committed tapes


@pytest.mark.parametrize("name", sorted(BUILTIN_RECIPES))
def test_each_builtin_recipe_has_its_tape_recorded_from_it(name):
    path = TAPES_DIR / (name + ".tape.toml")
    assert path.is_file(), "no tape %s: record it with `venv/bin/python -m protoprimer_harness.tape record-all " \
                           "scenarios/tapes --only %s`" % (path, name)
    assert load_tape(str(path)).recipe == builtin_recipe(name), (
        "the recipe %s changed since its tape was recorded: re-record it with `venv/bin/python -m protoprimer_harness.tape "
        "record-all scenarios/tapes --only %s`" % (name, name))


def test_the_tapes_cover_the_required_runs():
    tapes = dict((path.name[: -len(".tape.toml")], load_tape(str(path))) for path in TAPES_DIR.glob("*.tape.toml"))
    assert len(tapes) >= 8
    ended = dict((name, "replaced" if t.outcome.get("replaced") else t.outcome["exit_code"]) for name, t in tapes.items())
    assert ended["cold_boot"] == ended["warm_boot"] == ended["start_app"] == "replaced"
    assert ended["usage_error"] == 2 and ended["malformed_config"] == 3 and ended["start_app_missing_venv"] == 7
    runs = [" ".join(step["args"][0]) for step in tapes["cold_boot"].steps if step["op"] == "run"]
    assert any(" -m venv " in run for run in runs) and any(" -m pip install " in run for run in runs)
    assert not [step for step in tapes["warm_boot"].steps if step["op"] in ("run", "try_lock")]
    assert tapes["cold_boot"].steps[-1]["op"] == "replace"


def test_the_command_line_runs_as_python_m_protoprimer_harness_tape():
    # when
    listed = subprocess.run([sys.executable, "-m", "protoprimer_harness.tape", "list"], cwd=str(REPO_ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    replayed = subprocess.run([sys.executable, "-m", "protoprimer_harness.tape", "replay",
                               str(TAPES_DIR / "usage_error.tape.toml")], cwd=str(REPO_ROOT),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    # then
    assert (listed.returncode, listed.stderr) == (0, "")
    assert sorted(line.split()[0] for line in listed.stdout.splitlines()) == sorted(BUILTIN_RECIPES)
    assert (replayed.returncode, replayed.stderr) == (0, "")
    assert replayed.stdout.startswith("ok   %s: " % (TAPES_DIR / "usage_error.tape.toml"))


def test_every_hint_names_the_command_that_runs():
    # the command the hints print is the one the test above runs
    assert RECORD_COMMAND == "venv/bin/python -m protoprimer_harness.tape"
    assert RECORD_COMMAND in RECORD_HINT
    assert "Re-record: %s record-all" % RECORD_COMMAND in dump_tape(Tape(title="t", process={}, steps=[], outcome={},
                                                                         placeholders={}))


# endregion: the committed tapes

# region: the plugin


def _plugin_args():
    return tuple(PLUGIN_ARGS)


@pytest.fixture
def tape_project(pytester):
    pytester.makeini("[pytest]\n")
    (pytester.path / "scenarios" / "tapes").mkdir(parents=True)
    source = (TAPES_DIR / "usage_error.tape.toml").read_text()
    (pytester.path / "scenarios" / "tapes" / "usage_error.tape.toml").write_text(source)
    return pytester


def test_the_plugin_collects_tapes_named_after_the_file_and_replays_them(tape_project):
    result = tape_project.runpytest(*_plugin_args(), "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*scenarios/tapes/usage_error.tape.toml::usage_error PASSED*"])


def test_the_plugin_rejects_a_misspelled_mode_listing_the_valid_ones(tape_project):
    result = tape_project.runpytest(*_plugin_args(), "--protoprimer-tape-mode=rewite", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'rewite', which is not a tape mode. Valid modes: replay: *; rewrite: *"])


def test_a_tape_that_does_not_match_fails_with_its_report(tape_project):
    path = tape_project.path / "scenarios" / "tapes" / "usage_error.tape.toml"
    path.write_text(path.read_text().replace('args = ["PROTOPRIMER_START_ID"]', 'args = ["NO_SUCH_VAR"]', 1))
    bad = tape_project.path / "scenarios" / "tapes" / "broken.tape.toml"
    bad.write_text("format = 9\ntitle = 'x'\n")
    result = tape_project.runpytest(*_plugin_args(), "-p", "no:cacheprovider", "--continue-on-collection-errors")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*broken.tape.toml: tape format 9, but this harness reads format 1: update the harness*",
        "scenarios/tapes/usage_error.tape.toml (mode replay): call #* of the replay does not match the tape.",
        "*what differed: args (arg 0 differs)*",
    ])
    assert "Traceback" not in result.stdout.str()


# endregion: the plugin
