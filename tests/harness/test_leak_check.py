"""The kernel's promise that none of its PROTOPRIMER_* variables reach tools, client code or shells is checked
at every run of the real kernel (`WorldSession.run`), so the whole scenario library asserts it; these tests
show the check finds a leak where it is, and what it reports."""

import pytest

from protoprimer_harness import World
from protoprimer_harness.outcome import CommandRecord, ExpectationFailure, MainCall, Outcome, ProcessRecord


def chain_process(env):
    return ProcessRecord(interpreter="/usr/bin/python3", stride="stride_py_unknown", argv=["./prime"], env=env, code="kernel",
                         cwd="/repo")


def test_a_variable_in_a_commands_env_a_mains_env_or_an_inherited_env_is_named():
    outcome = Outcome(root="/repo", processes=[chain_process({"PROTOPRIMER_PY_EXEC": "stride_py_venv"})], commands=[
        CommandRecord(argv=["pip", "install"], returncode=0, env={"PROTOPRIMER_START_ID": "x", "PATH": "/bin"}, line="pip install"),
        CommandRecord(argv=["pip", "freeze"], returncode=0, env=None, line="pip freeze"),
        CommandRecord(argv=["probe"], returncode=0, env={"PATH": "/bin"}, line="probe"),
    ], main_calls=[MainCall("client.main:main", ["./prime"], {"PROTOPRIMER_ENV_DIR": "link:/repo/dst"})])
    assert outcome.leaked_variables() == [
        "command pip install got PROTOPRIMER_START_ID",
        "command pip freeze got PROTOPRIMER_PY_EXEC",
        "client main client.main:main got PROTOPRIMER_ENV_DIR",
    ]
    with pytest.raises(ExpectationFailure, match="PROTOPRIMER_ variables reached what is not the kernel"):
        outcome.assert_no_leaked_variables()


def test_a_clean_run_of_the_real_kernel_passes_the_check_that_every_run_makes():
    world = World().apply_layout("max").add_interpreter("python3", "3.11.7").add_main("client.main:main", "report")
    with world.activate() as session:
        outcome = session.run("./prime -c 'echo hi'", env={"SHELL": "/bin/bash"})
    outcome.assert_exit(0)
    assert outcome.leaked_variables() == []
    assert any(name.startswith("PROTOPRIMER_") for name in outcome.processes[-2].env)  # the chain itself has them
