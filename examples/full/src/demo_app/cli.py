"""The start_app main of cmd/hello: an app that runs in the venv (its argv passes through unparsed)."""
import sys

import proto_kernel


def main():
    env = proto_kernel.get_config()["state_selected_env_dir_rel_path_inited"]
    print("hello from %s (%s)" % (env, " ".join(sys.argv[1:]) or "no arguments"))
    return 0
