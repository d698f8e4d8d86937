"""What the meta runtime's scenario files share: the world they run in (the "min" layout, whose `./prime`
calls boot_env("client.main:main"), with that main written in the test), and a fake `pre-commit`."""

import os

from protoprimer import reference_api as ref
from protoprimer_harness import World
from protoprimer_harness.tools.base import ToolResult

MAIN = "client.main:main"


def world_with(main):
    return World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main(MAIN, main)


def run(world, command="./prime"):
    with world.activate() as session:
        return session.run(command)


def reference_main(state_name, factory_class):
    """A boot_env main in the reference's form: a context forced to `state_name`, the factory registered,
    run_process (with the simulated host, the one change the simulation needs)."""

    def main(host):
        env_ctx = ref.ContextBuilder().entry_func("boot_env").forced_final_state(state_name).build_context(host=host)
        env_ctx.register_factory(state_name, factory_class)
        ref.run_process(env_ctx)

    return main


class FakePreCommit:
    """`<venv>/bin/pre-commit install --hook-type TYPE --config FILE`: writes the git hook of that type (a
    missing config is refused, as a tool that reads it would)."""

    name = "pre-commit"
    usage = "<venv>/bin/pre-commit install --hook-type TYPE --config FILE"

    def accepts(self, call):
        return os.path.basename(call.argv[0]) == "pre-commit"

    def run(self, call):
        argv = call.argv[1:]
        if len(argv) != 5 or argv[0] != "install" or argv[1] != "--hook-type" or argv[3] != "--config":
            return ToolResult(2, "", "unsupported: %s\n" % argv)
        if not os.path.isfile(argv[4]):
            return ToolResult(1, "", "InvalidConfigError: %s is not a file\n" % argv[4])
        os.makedirs(os.path.join(call.cwd, ".git", "hooks"), exist_ok=True)
        with open(os.path.join(call.cwd, ".git", "hooks", argv[2]), "w") as hook:
            hook.write("#!/bin/sh\n# pre-commit, config %s\n" % argv[4])
        return ToolResult(0, "pre-commit installed at .git/hooks/%s\n" % argv[2])


def add_pre_commit_to_venv(session):
    """Boot to the venv, then put pre-commit in it, as a project's dependency would."""
    session.run("./prime --target venv").assert_exit(0)
    session.write_text("/repo/venv/bin/pre-commit", "#!/bin/sh\n", executable=True)
