"""The meta runtime's native API (protoprimer.meta), in simulation: a boot_env main adds client states to
the run's graph and reaches a target (docs/meta-runtime.md).

Client code is Python, so these scenarios are Python: each world is the "min" layout (an entry script
`./prime` calling boot_env("client.main:main")) whose main is written here against `protoprimer.meta`,
taking the simulated process's host as the harness passes it.
"""

import pytest

from meta_worlds import run, world_with
from protoprimer.meta import States
from protoprimer_harness import World


def hello_states():
    """The five-line client state of docs/meta-runtime.md, plus a target name for it."""
    states = States()

    @states.state(parents=["state_boot_completed", "state_local_venv_dir_abs_path_inited"])
    def hello_printed(ctx, p):
        ctx.host.env.write_stdout("Hello from %s\n" % p["state_local_venv_dir_abs_path_inited"])

    states.target("hello", "hello_printed")
    return states


def test_a_client_state_runs_after_the_proto_chain_in_the_venv():
    # given
    states = hello_states()
    world = world_with(lambda host: states.run("hello", host=host))
    # when
    outcome = run(world)
    # then
    outcome.assert_exit(0).assert_stdout(equals="Hello from /repo/venv\n")
    assert outcome.main_calls[0].executable == "/repo/venv/bin/python"


def test_the_client_state_value_is_cached_for_the_process():
    # given
    calls = []
    states = States()

    @states.state(parents=["state_boot_completed"])
    def counted(ctx, p):
        calls.append(1)
        return 0

    @states.state(parents=["counted"])
    def twice(ctx, p):
        return p["counted"] + p["counted"]

    def main(host):
        code = states.run("twice", host=host)
        return code

    # when
    outcome = run(world_with(main))
    # then
    outcome.assert_exit(0)
    assert calls == [1]


def test_a_target_on_the_command_line_that_only_the_meta_runtime_knows_is_carried_through_the_restarts():
    # given: the main's own default target is another one
    states = hello_states()
    said = []

    @states.state(parents=["state_boot_completed"])
    def other(ctx, p):
        said.append("other")

    world = world_with(lambda host: states.run("other", host=host))
    # when: a cold boot (three processes) with the target of the meta runtime
    outcome = run(world, "./prime --target hello")
    # then
    outcome.assert_exit(0).assert_stdout(equals="Hello from /repo/venv\n")
    assert said == []
    assert [process.argv[-2:] for process in outcome.processes] == [["--target", "hello"]] * len(outcome.processes)
    assert outcome.processes[-1].interpreter == "/repo/venv/bin/python"


def test_a_state_name_works_as_a_target_too():
    states = hello_states()
    outcome = run(world_with(lambda host: states.run(host=host)), "./prime -t hello_printed")
    outcome.assert_exit(0).assert_stdout(equals="Hello from /repo/venv\n")


def test_an_unknown_target_is_a_usage_error_listing_the_known_ones_the_clients_included():
    states = hello_states()
    outcome = run(world_with(lambda host: states.run(host=host)), "./prime --target nope")
    outcome.assert_exit(2).assert_stderr(contains="--target nope: no target or state of that name (targets: boot, "
                                                  "config, venv; the client's: hello)")


def test_an_unknown_target_without_a_client_main_is_refused_before_the_boot():
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")
    world.add_entry_script("prime", "boot_env", None, "proto_kernel.py")
    outcome = run(world, "./prime --target nope")
    outcome.assert_exit(2).assert_stderr(contains="--target nope: no target or state of that name (targets: boot, config, venv)")
    assert not outcome.commands, "nothing is built for a target nobody knows"


def test_a_target_the_main_never_takes_is_an_error_naming_the_main():
    outcome = run(world_with(lambda host: 0), "./prime --target hello")
    outcome.assert_exit(2).assert_stderr(contains="--target hello: the client main client.main:main ran no meta "
                                                  "runtime to take it")


def test_a_kernel_target_stops_the_proto_runtime_there_without_client_code():
    states = hello_states()
    outcome = run(world_with(lambda host: states.run("hello", host=host)), "./prime --target config")
    outcome.assert_exit(0).assert_stdout(equals="")
    assert outcome.main_calls == []


def test_a_failing_client_state_is_one_message_naming_it_and_exit_11_and_the_venv_stays():
    # given
    states = States()

    @states.state(parents=["state_boot_completed"])
    def broken(ctx, p):
        raise RuntimeError("the hook server is down")

    world = world_with(lambda host: states.run("broken", host=host))
    # when
    with world.activate() as session:
        first = session.run("./prime")
        stamp = session.read_text("/repo/venv/protoprimer.stamp")
        verbose = session.run("./prime -v")
        stamp_after = session.read_text("/repo/venv/protoprimer.stamp")
    # then
    first.assert_exit(11).assert_stderr(contains="ERROR state broken failed: RuntimeError: the hook server is down")
    assert "Traceback" not in first.stderr
    verbose.assert_exit(11).assert_stderr(contains="Traceback")
    assert stamp == stamp_after


def test_replacing_a_kernel_state_can_reuse_the_old_implementation():
    # given: a client wraps the venv directory the kernel derives
    states = States()

    @states.state("state_local_log_dir_abs_path_inited", parents=[], replace=True)
    def logs_elsewhere(ctx, p):
        return p.previous() + ".client"

    @states.state(parents=["state_local_log_dir_abs_path_inited"])
    def show(ctx, p):
        ctx.host.env.write_stdout(p["state_local_log_dir_abs_path_inited"] + "\n")

    outcome = run(world_with(lambda host: states.run("show", host=host)))
    outcome.assert_exit(0).assert_stdout(equals="/repo/log.client\n")


def test_a_name_clash_without_replace_is_an_error_naming_both():
    first, second = States(), States()

    @first.state(parents=[])
    def shared(ctx, p):
        return 1

    @second.state("shared", parents=[])
    def shared_again(ctx, p):
        return 2

    def main(host):
        first.run(host=host)
        return second.run(host=host)

    outcome = run(world_with(main))
    outcome.assert_exit(2).assert_stderr(contains="state shared is declared by ")
    assert "<locals>.shared and by test_native_states." in outcome.stderr
    assert "<locals>.shared_again:" in outcome.stderr


def test_a_clash_with_a_kernel_state_names_the_kernel():
    states = States()
    states.add("state_boot_completed", [], lambda ctx, p: 0)
    outcome = run(world_with(lambda host: states.run(host=host)))
    outcome.assert_exit(2).assert_stderr(contains="state state_boot_completed is declared by the kernel and by")


def test_client_options_are_accepted_by_every_runtime_and_parsed_by_the_meta_runtime():
    # given
    states = States().option("--fix", action="store_true").option("--level", default="1")
    seen = []

    @states.state(parents=["state_client_args_parsed"])
    def report(ctx, p):
        args = p["state_client_args_parsed"]
        seen.append((args.fix, args.level, args.stderr_log_level_verbose))

    world = world_with(lambda host: states.run("report", host=host))
    # when: a cold boot, the client's options among the kernel's
    outcome = run(world, "./prime --fix -v --level=3")
    # then
    outcome.assert_exit(0)
    assert seen == [(True, "3", 1)]


def test_an_option_nobody_knows_is_a_usage_error_after_the_main_parses():
    states = States().option("--fix", action="store_true")
    outcome = run(world_with(lambda host: states.run(host=host)), "./prime --fxi")
    outcome.assert_exit(2).assert_stderr(contains="unrecognized arguments: --fxi")


def test_an_option_for_a_main_without_the_meta_runtime_is_an_error_naming_the_main():
    outcome = run(world_with(lambda host: 0), "./prime --fix")
    outcome.assert_exit(2).assert_stderr(contains="--fix: the client main client.main:main ran no meta runtime to take "
                                                  "these arguments")


def test_unknown_options_are_still_refused_at_once_by_eval():
    outcome = run(world_with(lambda host: 0), "./prime eval --fix")
    outcome.assert_exit(2).assert_stderr(contains="unrecognized arguments: --fix")


@pytest.mark.parametrize("command", ["./prime -c 'echo hi'", "./prime --target hello -c 'echo hi'"])
def test_the_command_runs_after_the_client_states(command):
    states = hello_states()
    world = world_with(lambda host: states.run("hello", host=host))
    outcome = run(world, command)
    outcome.assert_exit(0).assert_stdout(equals="Hello from /repo/venv\n")
    assert outcome.shell.argv[1:] == ["-c", "echo hi"]


def test_a_meta_target_is_carried_through_the_handover_to_the_installed_kernel():
    # given: protoprimer installed in the venv, so the copy hands the run over to the installed kernel
    states = hello_states()
    world = world_with(lambda host: states.run(host=host))
    world.add_file("pyproject.toml", '[project]\nname = "client"\nversion = "0.0.0"\ndependencies = ["protoprimer"]\n')
    # when
    with world.activate() as session:
        cold = session.run("./prime -v --target hello")
        warm = session.run("./prime -t hello")
    # then: the installed kernel took the run over (it refreshed the copy from itself) and reached the target
    cold.assert_exit(0).assert_stdout(contains="Hello from /repo/venv\n")  # after pip's output (-v streams it)
    cold.assert_stderr(contains="refreshed the kernel copy /repo/proto_kernel.py from "
                                "/repo/venv/lib/python3.11/site-packages/protoprimer/primer_kernel.py")
    assert [process.stride for process in cold.processes] == ["stride_py_unknown", "stride_deps_updated"]
    warm.assert_exit(0).assert_stdout(equals="Hello from /repo/venv\n")


def test_the_meta_runtime_takes_the_proto_runtimes_values_instead_of_deciding_again():
    states = hello_states()
    outcome = run(world_with(lambda host: states.run("hello", host=host)), "./prime -v")
    outcome.assert_exit(0)
    # the env is decided once, by the first process: the second takes it from the chain, the meta runtime from
    # the proto runtime's values
    assert len(outcome.processes) == 2
    assert outcome.stderr.count("no env: no --env") == 1, outcome.stderr


def test_a_replacement_after_the_meta_runtime_has_taken_the_values_is_refused():
    first, late = hello_states(), States()

    @late.state("state_local_log_dir_abs_path_inited", replace=True)
    def too_late(ctx, p):
        return "/elsewhere"

    def main(host):
        first.run("hello", host=host)
        return late.run(host=host)

    outcome = run(world_with(main))
    outcome.assert_exit(2).assert_stderr(contains="state state_local_log_dir_abs_path_inited was already computed in this "
                                                  "run: register its replacement before the meta runtime first runs")


def test_a_client_state_waiting_for_the_command_state_is_told_to_wait_for_the_boot():
    states = States()
    states.add("early", ["state_command_executed"], lambda ctx, p: 0)
    outcome = run(world_with(lambda host: states.run("early", host=host)))
    outcome.assert_exit(2).assert_stderr(contains="state early waits for state_command_executed, which is where the "
                                                  "client's main runs: wait for state_boot_completed")
