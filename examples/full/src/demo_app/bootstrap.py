"""The boot_env main of ./prime: runs in the venv after the bootstrap and extends it with states of its own
(protoprimer.meta). `./prime` reaches the target `report`; `./prime --target NAME` reaches another one."""
import json

from protoprimer.meta import States

states = States()


@states.state(parents=["state_boot_completed", "state_args_parsed", "state_selected_env_dir_rel_path_inited",
                       "state_local_venv_dir_abs_path_inited", "state_proto_code_file_abs_path_inited"])
def demo_reported(ctx, p):
    """Stay CLI-compatible (the same arguments as the kernel's), read the config, report as one JSON line."""
    ctx.host.env.write_stdout(json.dumps({
        "sub_command": p["state_args_parsed"].sub_command,
        "env": p["state_selected_env_dir_rel_path_inited"],
        "venv": p["state_local_venv_dir_abs_path_inited"],
        "kernel": p["state_proto_code_file_abs_path_inited"],
    }) + "\n")
    return 0


states.target("report", "demo_reported")


def extend(host=None):
    """The main ./prime names. `host` is for the tests, which run it in a simulated world; the real run
    passes nothing."""
    return states.run("report", host=host)
