"""The examples, copied as they are committed, boot for real: the instant layout, and the full layout's
./prime (with its boot_env extension) and cmd/hello (its start_app app)."""
import json
import os
import pathlib
import shutil

import pytest

from client_repos import ClientRepo

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
GENERATED = shutil.ignore_patterns("venv", "venv.*", "lconf", "log", "tmp", "cache", "__pycache__", "*.egg-info")


def copy_example(machine, tmp_path, name, kernel_rel):
    if (3, 11) not in machine.interpreters:
        pytest.skip("the examples require Python 3.11, which this machine lacks")
    shutil.copytree(str(EXAMPLES / name), str(tmp_path / name), symlinks=True, ignore=GENERATED)
    return ClientRepo(tmp_path / name, kernel_rel, machine)


def test_the_full_example_boots_and_its_extension_and_app_run(real_machine, tmp_path):
    repo = copy_example(real_machine, tmp_path, "full", "cmd/proto_code/proto_kernel.py")

    boot = repo.prime().assert_ok()
    report = json.loads(boot.stdout.strip().splitlines()[-1])
    assert report == {
        "sub_command": "boot",
        "env": "dst/dev",
        "venv": repo.path("venv"),
        "kernel": repo.path("cmd/proto_code/proto_kernel.py"),
    }
    assert os.readlink(repo.path("lconf")) == "dst/dev"

    hello = repo.run(["./cmd/hello", "world"]).assert_ok()
    assert hello.stdout.strip() == "hello from dst/dev (world)"


def test_the_instant_example_boots_with_no_config_at_all(real_machine, tmp_path):
    repo = copy_example(real_machine, tmp_path, "instant", "proto_kernel.py")

    repo.run(["./proto_kernel.py", "-q"]).assert_ok()

    assert repo.venv().stamp is not None
    assert not os.path.exists(repo.path("lconf"))
