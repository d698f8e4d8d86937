"""The boot_env main of ./prime: runs in the venv after the bootstrap, and extends it."""
import json

import proto_kernel


def extend():
    """Stay CLI-compatible (the same arguments as the kernel's), read the config in-process, report."""
    args = proto_kernel.parse_args()
    config = proto_kernel.get_config()
    print(json.dumps({
        "sub_command": args.sub_command,
        "env": config["state_selected_env_dir_rel_path_inited"],
        "venv": config["state_local_venv_dir_abs_path_inited"],
        "kernel": proto_kernel.get_proto_kernel_abs_path(),
    }))
    return 0
