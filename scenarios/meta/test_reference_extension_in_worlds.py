"""The reference's extension API (protoprimer 0.13: ContextBuilder, register_factory, run_process, the state
node forms), in simulation. The client code is written as the reference's own examples are (its "hello
world" `cmd_boot_env_example`, its repo's `cmd_prime_env` registering metaprimer's pre-commit state), with
one change the simulation needs: `build_context(host=host)` takes the simulated process's host (unchanged
client code runs against real processes in tests/integration/test_meta_runtime.py).
"""

import enum
import os

import pytest

from meta_worlds import FakePreCommit, add_pre_commit_to_venv, reference_main, run, world_with
from protoprimer import reference_api as ref


# --- the reference's "hello world" (its cmd_boot_env_example), class attributes + @trivial_factory ----


@ref.trivial_factory
class Bootstrapper_state_hello_world_printed(ref.AbstractCachingStateNode[int]):
    _parent_states = staticmethod(lambda: [ref.TargetState.target_proto_bootstrap_completed.value.name])
    _state_name = staticmethod(lambda: CustomEnvState.state_hello_world_printed.name)

    def _eval_state_once(self) -> ref.ValueType:
        self.env_ctx.run.host.env.write_stdout("Hello, world!\n")
        return 0


class CustomEnvState(enum.Enum):
    state_hello_world_printed = Bootstrapper_state_hello_world_printed


def hello_main(host):
    env_ctx = (
        ref.ContextBuilder()
        .entry_func(ref._kernel.EntryFunc.func_boot_env)
        .forced_final_state(CustomEnvState.state_hello_world_printed.name)
        .build_context(host=host)
    )
    env_ctx.register_factory(Bootstrapper_state_hello_world_printed._state_name(), Bootstrapper_state_hello_world_printed)
    ref.run_process(env_ctx)


def test_the_references_hello_world_runs_after_the_bootstrap():
    outcome = run(world_with(hello_main))
    outcome.assert_exit(0).assert_stdout(equals="Hello, world!\n")
    assert outcome.main_calls[0].ended == "exit 0"


def test_the_hello_world_target_is_reachable_by_its_state_name_and_a_kernel_target_stops_before_it():
    by_name = run(world_with(hello_main), "./prime --target state_hello_world_printed")
    kernel = run(world_with(hello_main), "./prime --target venv")
    by_name.assert_exit(0).assert_stdout(equals="Hello, world!\n")
    kernel.assert_exit(0).assert_stdout(equals="")


def test_a_final_state_returning_an_int_is_the_exit_code():
    @ref.trivial_factory
    class Three(ref.AbstractCachingStateNode[int]):
        _state_name = staticmethod(lambda: "state_three")

        def _eval_state_once(self):
            return 3

    run(world_with(reference_main("state_three", Three))).assert_exit(3)


# --- register_factory: new, clash, replace and use the old ---------------------------------------


def test_register_factory_returns_none_for_a_new_name_and_a_clash_is_the_references_assertion():
    seen = []

    def main(host):
        env_ctx = ref.ContextBuilder().entry_func("boot_env").build_context(host=host)
        seen.append(env_ctx.register_factory("state_hello_world_printed", Bootstrapper_state_hello_world_printed))
        try:
            env_ctx.register_factory("state_hello_world_printed", Bootstrapper_state_hello_world_printed)
        except AssertionError as error:
            seen.append(str(error))
        return 0

    run(world_with(main)).assert_exit(0)
    assert seen == [None, "[NodeFactory] for [state_hello_world_printed] is already registered."]


def test_replace_existing_replaces_a_kernel_state_and_the_returned_factory_computes_the_old_one():
    def main(host):
        env_ctx = ref.ContextBuilder().entry_func("boot_env").forced_final_state("state_shown").build_context(host=host)
        old = {}

        @ref.trivial_factory
        class LogDirElsewhere(ref.AbstractCachingStateNode[str]):
            _state_name = staticmethod(lambda: "state_local_log_dir_abs_path_inited")

            def _eval_state_once(self):
                return old["factory"].create_state_node().eval_own_state() + ".replaced"

        @ref.trivial_factory
        class Shown(ref.AbstractCachingStateNode[int]):
            _state_name = staticmethod(lambda: "state_shown")
            _parent_states = staticmethod(lambda: [ref.EnvState.state_local_log_dir_abs_path_inited.name])

            def _eval_state_once(self):
                log_dir = self.eval_parent_state(ref.EnvState.state_local_log_dir_abs_path_inited.name)
                self.env_ctx.run.host.env.write_stdout(log_dir + "\n")
                return 0

        old["factory"] = env_ctx.register_factory("state_local_log_dir_abs_path_inited", LogDirElsewhere, replace_existing=True)
        env_ctx.register_factory("state_shown", Shown)
        ref.run_process(env_ctx)

    outcome = run(world_with(main))
    outcome.assert_exit(0).assert_stdout(equals="/repo/log.replaced\n")


# --- the other node forms 0.13 documents ---------------------------------------------------------


def test_a_node_given_parent_states_and_state_name_in_its_constructor():
    class Greeting(ref.AbstractCachingStateNode[int]):
        def __init__(self, env_ctx):
            super().__init__(env_ctx, parent_states=["state_command_executed"], state_name="state_greeted")

        def create_state_node(self):
            return self

        def _eval_state_once(self):
            self.env_ctx.run.host.env.write_stdout("greeted\n")
            return 0

    run(world_with(reference_main("state_greeted", Greeting))).assert_exit(0).assert_stdout(equals="greeted\n")


def test_a_node_factory_choosing_a_node_class_and_a_node_setting_its_parents_in_init():
    @ref.conditional_factory
    class Dynamic(ref.AbstractCachingStateNode[int]):
        _state_name = staticmethod(lambda: "state_dynamic")

        def __init__(self, env_ctx):
            parents = [ref.EnvState.state_ref_root_dir_abs_path_inited.name]
            self._parent_states = lambda: parents
            super().__init__(env_ctx=env_ctx)

        def _eval_state_once(self):
            root = self.eval_parent_state("state_ref_root_dir_abs_path_inited")
            self.env_ctx.run.host.env.write_stdout("root %s\n" % root)
            return 0

    class Factory_state_dynamic(ref.NodeFactory[int]):
        def create_state_node(self):
            return Dynamic(self.env_ctx)

    run(world_with(reference_main("state_dynamic", Factory_state_dynamic))).assert_exit(0).assert_stdout(equals="root /repo\n")


def test_reading_a_parent_not_declared_is_the_references_assertion_named_as_the_failing_state():
    @ref.trivial_factory
    class Sneaky(ref.AbstractCachingStateNode[int]):
        _state_name = staticmethod(lambda: "state_sneaky")

        def _eval_state_once(self):
            return self.eval_parent_state("state_ref_root_dir_abs_path_inited")

    run(world_with(reference_main("state_sneaky", Sneaky))).assert_exit(11).assert_stderr(
        contains="state state_sneaky failed: AssertionError: parent_state [state_ref_root_dir_abs_path_inited] is not "
                 "parent of [state_sneaky]")


def test_build_context_without_entry_func_is_the_references_assertion():
    with pytest.raises(AssertionError, match="entry_func"):
        ref.ContextBuilder().build_context()


# --- a pre-commit state as metaprimer 0.2.0 writes it, registered as the reference's cmd_prime_env does ----


@ref.trivial_factory
class Bootstrapper_state_pre_commit_configured(ref.AbstractCachingStateNode[int]):
    """metaprimer 0.2.0's state, with its two subprocess calls made through the host's process port."""

    _state_name = staticmethod(lambda: "state_pre_commit_configured")
    _parent_states = staticmethod(lambda: [
        ref.TargetState.target_proto_bootstrap_completed.value.name,
        ref.EnvState.state_global_conf_file_abs_path_inited.name,
        ref.EnvState.state_ref_root_dir_abs_path_inited.name,
    ])

    def _eval_state_once(self):
        root = self.eval_parent_state(ref.EnvState.state_ref_root_dir_abs_path_inited.name)
        proc = self.env_ctx.run.host.proc
        if not os.path.isdir(os.path.join(root, ".git")):
            return 0
        conf = os.path.join(os.path.dirname(self.eval_parent_state(ref.EnvState.state_global_conf_file_abs_path_inited.name)),
                            "pre_commit.yaml")
        result = proc.run([os.path.join(root, "venv", "bin", "pre-commit"), "install", "--hook-type", "pre-commit",
                           "--config", conf], cwd=root)
        if result.returncode != 0:
            raise RuntimeError("pre-commit install failed: %s" % result.stderr.strip())
        return 0


def prime_env_main(host):
    """The reference repo's `cmd_prime_env.custom_main`, as written for 0.13."""
    env_ctx = (
        ref.ContextBuilder()
        .entry_func(ref._kernel.EntryFunc.func_boot_env)
        .forced_final_state(Bootstrapper_state_pre_commit_configured._state_name())
        .build_context(host=host)
    )
    env_ctx.register_factory(Bootstrapper_state_pre_commit_configured._state_name(),
                             Bootstrapper_state_pre_commit_configured, replace_existing=True)
    ref.run_process(env_ctx)


def pre_commit_world():
    world = world_with(prime_env_main).add_tool(FakePreCommit())
    world.add_file(".git/HEAD", "ref: refs/heads/main\n")
    world.add_file("gconf/pre_commit.yaml", "repos: []\n")
    return world


def test_the_pre_commit_state_installs_the_hook_after_the_bootstrap_with_the_repos_config():
    with pre_commit_world().activate() as session:
        add_pre_commit_to_venv(session)
        outcome = session.run("./prime")
        hook = session.read_text("/repo/.git/hooks/pre-commit")
    outcome.assert_exit(0)
    assert "config /repo/gconf/pre_commit.yaml" in hook
    assert [c.argv[1:] for c in outcome.commands if c.argv[0].endswith("pre-commit")] == [
        ["install", "--hook-type", "pre-commit", "--config", "/repo/gconf/pre_commit.yaml"]]


def test_a_failing_pre_commit_install_is_one_message_naming_the_state_and_exit_11():
    world = pre_commit_world()
    with world.activate() as session:
        add_pre_commit_to_venv(session)
        os.remove(session.path("/repo/gconf/pre_commit.yaml"))
        outcome = session.run("./prime")
    outcome.assert_exit(11).assert_stderr(contains="ERROR state state_pre_commit_configured failed: RuntimeError: "
                                                   "pre-commit install failed: InvalidConfigError")
