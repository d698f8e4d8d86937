"""The same `eval` case, run for real (the kernel file as a subprocess on a real temporary repo) and in the
harness (the same files copied into a world): the outputs must match once the repo root is normalised."""
import json
import os
import subprocess
import sys

import pytest

from protoprimer_harness.world import World
from protoprimer import primer_kernel as kernel

KERNEL_SOURCE = open(kernel.__file__, encoding="utf-8").read()
VERSION = "%d.%d.%d" % sys.version_info[:3]
REQUIRED = "%d.%d" % sys.version_info[:2]
WORLD_ROOT = "/repo"


def write_repo(root):
    """A max-style repo: kernel copy in cmd/proto_code, primer, global and two local configs, ./prime."""
    files = {
        "cmd/proto_code/proto_kernel.py": KERNEL_SOURCE,
        "cmd/proto_code/proto_kernel.json": json.dumps({"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"}),
        "gconf/proto_kernel.json": json.dumps(
            {
                "local_conf_symlink_rel_path": "lconf",
                "default_env_dir_rel_path": "dst/default_env",
                "required_python_version": REQUIRED,
                "project_descriptors": [{"build_root_dir_rel_path": ".", "install_extras": ["test"]}],
                "misspelled_field": True,
            }
        ),
        "dst/default_env/proto_kernel.json": json.dumps({"local_venv_dir_rel_path": "venv.default"}),
        "dst/other_env/proto_kernel.json": json.dumps({"local_log_dir_rel_path": "logs.other"}),
        "pyproject.toml": '[project]\nname = "client"\nversion = "0"\n',  # eval checks the projects too
        "prime": kernel.render_entry_script("boot_env", "cmd/proto_code/proto_kernel.py", "client.main:main"),
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    os.chmod(os.path.join(root, "prime"), 0o755)
    os.chmod(os.path.join(root, "cmd/proto_code/proto_kernel.py"), 0o755)


@pytest.fixture
def machine(tmp_path):
    """A real repo and a bin dir whose only python is a link to this machine's base interpreter."""
    repo = tmp_path / "repo"
    bin_dir = tmp_path / "bin"
    repo.mkdir()
    bin_dir.mkdir()
    write_repo(str(repo))
    python = bin_dir / ("python" + REQUIRED)
    python.symlink_to(os.path.realpath(sys.executable))
    return str(repo), str(bin_dir), str(python)


def run_real(repo, bin_dir, python, argv):
    env = {"PATH": bin_dir, "HOME": os.path.dirname(repo), "LANG": "C.UTF-8"}
    result = subprocess.run([python] + argv, cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout.replace(repo, "{root}"), result.stderr.replace(repo, "{root}")


def run_in_harness(repo, bin_dir, python, argv):
    world = World(root=WORLD_ROOT).copy_real_dir(repo, WORLD_ROOT)
    real = os.path.realpath(python)  # the same machine: bin/pythonX.Y is a link to the real interpreter
    world.add_interpreter(real, VERSION)
    world.add_symlink(python, real)
    world.path = [bin_dir]
    world.env = {"PATH": bin_dir, "HOME": "/", "LANG": "C.UTF-8"}
    with world.activate() as session:
        outcome = session.run([python] + argv)
    return (
        outcome.exit_code,
        outcome.stdout.replace(WORLD_ROOT, "{root}"),
        outcome.stderr.replace(WORLD_ROOT, "{root}"),
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["prime", "eval"],
        ["prime", "eval", "--json"],
        ["prime", "eval", "--json", "--env", "dst/other_env"],
        ["cmd/proto_code/proto_kernel.py", "eval", "-q"],
        ["prime", "eval", "--env", "dst/missing"],
    ],
    ids=["five-documents", "json", "other-env", "run-main-quiet", "bad-env"],
)
def test_eval_output_of_the_real_kernel_matches_the_harness(machine, argv):
    real = run_real(*machine, argv)
    simulated = run_in_harness(*machine, argv)
    assert real[0] == simulated[0], (real, simulated)
    assert real[1] == simulated[1]
    assert real[2] == simulated[2]


def test_the_smoke_case_really_exercises_the_config(machine):
    """Guard against a vacuous comparison: the real run did read every leap and warned as expected."""
    code, stdout, stderr = run_real(*machine, ["prime", "eval", "--json"])
    assert code == 0, stderr
    derived = json.loads(stdout)["leap_derived"]
    assert derived["state_local_venv_dir_abs_path_inited"] == "{root}/venv.default"
    assert derived["state_selected_python_file_abs_path_inited"] == os.path.realpath(machine[2])
    assert derived["state_project_descriptors_inited"][0]["install_extras"] == ["test"]
    assert "unknown field misspelled_field is ignored" in stderr
    assert not os.path.lexists(os.path.join(machine[0], "lconf")), "eval must not create the lconf link"
