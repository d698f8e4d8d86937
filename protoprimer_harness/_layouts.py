"""Standard repo layouts: each a function that adds a client repo's files to a `World` (under its root).

- "instant": the kernel copy at the root, `.python-version`, `pyproject.toml`; no JSON config.
- "min": "instant" plus an empty primer config `proto_kernel.json` and the entry script `prime`.
- "max": the kernel copy in `cmd/proto_code/`, primer + global + two local (env) configs, `pyproject.toml`
  and the entry script `prime`.
Layouts add files only; interpreters come from the scenario.
"""

import json
from typing import Any, Callable, Dict

CLIENT_MAIN = "client.main:main"
PYTHON_VERSION_FILE_TEXT = "3.11\n"
PYPROJECT_TEXT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "client"
version = "0.0.0"
requires-python = ">=3.7"
dependencies = []
"""


def json_text(data: Any) -> str:
    """How layouts write JSON: 4-space indent and a final newline."""
    return json.dumps(data, indent=4) + "\n"


def instant_layout(world) -> None:
    world.add_kernel_copy("proto_kernel.py")
    world.add_file(".python-version", PYTHON_VERSION_FILE_TEXT)
    world.add_file("pyproject.toml", PYPROJECT_TEXT)


def min_layout(world) -> None:
    instant_layout(world)
    world.add_file("proto_kernel.json", "{}\n")
    world.add_entry_script("prime", "boot_env", CLIENT_MAIN, "proto_kernel.py")


def max_layout(world) -> None:
    world.add_kernel_copy("cmd/proto_code/proto_kernel.py")
    world.add_file(
        "cmd/proto_code/proto_kernel.json",
        json_text({"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"}),
    )
    world.add_file(
        "gconf/proto_kernel.json",
        json_text(
            {
                "local_conf_symlink_rel_path": "lconf",
                "default_env_dir_rel_path": "dst/default_env",
                "required_python_version": "3.11",
                "venv_driver": "venv_pip",
                "project_descriptors": [{"build_root_dir_rel_path": ".", "install_extras": []}],
            }
        ),
    )
    world.add_file("dst/default_env/proto_kernel.json", json_text({}))
    world.add_file(
        "dst/special_env/proto_kernel.json",
        json_text({"required_python_version": "3.12", "local_venv_dir_rel_path": "venv.special"}),
    )
    world.add_file("pyproject.toml", PYPROJECT_TEXT)
    world.add_entry_script("prime", "boot_env", CLIENT_MAIN, "cmd/proto_code/proto_kernel.py")


LAYOUTS: Dict[str, Callable[[Any], None]] = {
    "instant": instant_layout,
    "min": min_layout,
    "max": max_layout,
}
