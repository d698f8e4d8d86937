"""The environment port (`host.env`): the kernel's RealEnvironment (this test process, with CONTRACT_VAR
set, argv ["contract-test"] and cwd the backend's root) against the harness's FakeEnvironment of a process
opened with the same facts."""

import sys

import pytest

from protoprimer import primer_kernel as kernel


def test_get_and_variables(backend):
    env = backend.host.env
    assert (env.get("CONTRACT_VAR"), env.get("CONTRACT_MISSING"), env.get("CONTRACT_MISSING", "d")) == (
        "contract value", None, "d")
    variables = env.variables()
    assert variables["CONTRACT_VAR"] == "contract value"
    variables["CONTRACT_VAR"] = "changed"  # a copy
    variables["CONTRACT_NEW"] = "x"
    assert (env.get("CONTRACT_VAR"), env.get("CONTRACT_NEW")) == ("contract value", None)


def test_unset_removes_a_variable_for_whoever_reads_later(backend):
    env = backend.host.env
    env.unset("CONTRACT_VAR")
    env.unset("CONTRACT_NEVER_SET")  # no error
    assert (env.get("CONTRACT_VAR"), "CONTRACT_VAR" in env.variables()) == (None, False)


def test_remember_and_recall(backend):
    env = backend.host.env
    assert env.recall("contract_key") is None
    assert env.recall("contract_key", "default") == "default"
    env.remember("contract_key", "value")
    env.remember("contract_other", ("a", 1))
    assert (env.recall("contract_key"), env.recall("contract_other", "default")) == ("value", ("a", 1))
    env.remember("contract_key", "second")
    assert env.recall("contract_key") == "second"


def test_recall_of_a_value_remembered_as_none_gives_the_default(backend):
    env = backend.host.env
    env.remember("contract_none", None)
    assert env.recall("contract_none", "default") == "default"


def test_argv_is_a_copy_of_the_process_argv(backend):
    env = backend.host.env
    argv = env.argv
    assert argv == ["contract-test"]
    argv.append("more")
    assert env.argv == ["contract-test"]


def test_cwd(backend):
    assert backend.norm(backend.host.env.cwd()) == "<ROOT>"


def test_interpreter_facts_are_the_running_interpreters(backend):
    env = backend.host.env
    assert (env.executable, env.prefix, env.base_prefix, env.version) == (
        sys.executable, sys.prefix, sys.base_prefix, tuple(sys.version_info[:3]))


def test_interpreter_facts_agree_with_the_probe_of_the_executable(backend):
    env = backend.host.env
    result = backend.host.proc.run([env.executable, "-E", "-s", "-c", kernel.PYTHON_PROBE_CODE])
    version = "%d.%d.%d" % env.version
    assert result.stdout.splitlines() == [version, env.executable, env.prefix, env.base_prefix]
    assert isinstance(env.version, tuple) and len(env.version) == 3


def test_isolated_is_false_for_a_process_started_without_dash_i(backend):
    if backend.name == "real" and sys.flags.isolated:
        pytest.skip("this test process runs isolated (-I, as under ./cmd/test): it cannot show the other case")
    assert backend.host.env.isolated is False


def test_pid_is_a_live_process(backend):
    env = backend.host.env
    assert isinstance(env.pid, int) and backend.host.proc.is_alive(env.pid)


def test_now_and_sleep(backend):
    env = backend.host.env
    before = env.now()
    env.sleep(0.01)
    after = env.now()
    assert isinstance(before, float) and after >= before + 0.009


def test_write_stdout_and_stderr_reach_the_process_streams(backend):
    env = backend.host.env
    backend.output()
    env.write_stdout("out line\n")
    env.write_stderr("err line\n")
    env.write_stdout("no newline")
    assert backend.output() == ("out line\nno newline", "err line\n")


def test_stderr_is_not_a_terminal_here(backend):
    assert backend.host.env.stderr_is_tty() is False


def test_terminal_width_default_without_a_terminal(backend, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert backend.host.env.terminal_width() == 80


@pytest.mark.parametrize("columns", ["40", "123"])
def test_terminal_width_follows_columns(backend, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)  # the real process's variable
    if backend.name == "fake":
        backend.world.env["COLUMNS"] = columns  # the simulated process's variable (before it starts)
    assert backend.host.env.terminal_width() == int(columns)
