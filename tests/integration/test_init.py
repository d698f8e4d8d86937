"""`protoprimer init` as a user runs it: the console script of the session's wheel installed (not
editable) into a venv of its own, in an empty git repo; then the repo's `./prime`, cold and warm, with
the machine's env (offline pip from the session's wheelhouse). Each layout boots with nothing but what
init wrote, the warm run builds nothing, and `git status` shows only files to commit."""

import os
import shutil
import subprocess

import pytest

from client_repos import ClientRepo
from test_packaging import describe, run, session_wheel

pytestmark = pytest.mark.integration

KERNEL_COPY = {"instant": "proto_kernel.py", "min": "proto_kernel.py", "max": "cmd/proto_code/proto_kernel.py"}
# what init writes, then what the first ./prime adds for committing (the pins file, in the env dir)
TO_COMMIT = {
    "instant": ["proto_kernel.py", "prime", ".python-version", "pyproject.toml", ".gitignore", "constraints.txt"],
    "min": ["proto_kernel.py", "proto_kernel.json", "prime", ".python-version", "pyproject.toml", ".gitignore",
            "constraints.txt"],
    "max": ["cmd/proto_code/proto_kernel.py", "cmd/proto_code/proto_kernel.json", "gconf/proto_kernel.json",
            "dst/default_env/proto_kernel.json", "prime", ".python-version", "pyproject.toml", ".gitignore",
            "dst/default_env/constraints.txt"],
}


@pytest.fixture(scope="module")
def protoprimer_script(real_machine, tmp_path_factory):
    """The `protoprimer` console script of a venv of the primary interpreter with the session wheel
    pip-installed (no extras: init needs none), offline from the wheelhouse."""
    machine = real_machine
    root = tmp_path_factory.mktemp("init-tool")
    venv = str(root / "venv")
    env = machine.env()
    made = run([machine.python(machine.primary), "-m", "venv", venv], root, env)
    assert made.returncode == 0, "cannot make a venv:\n%s" % describe(made)
    install = run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", session_wheel(machine)], root, env)
    assert install.returncode == 0, "pip install <wheel> failed offline from the wheelhouse:\n%s" % describe(install)
    return os.path.join(venv, "bin", "protoprimer")


def _git(root, *argv):
    result = subprocess.run(["git"] + list(argv), cwd=str(root), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, "git %s:\n%s%s" % (" ".join(argv), result.stdout, result.stderr)
    return result.stdout


def _stamp_file_state(repo):
    view = repo.venv()
    return (view.stamp(), os.stat(view.stamp_file).st_mtime_ns, view.installed())


@pytest.mark.parametrize("layout", ["instant", "min", "max"])
def test_init_then_prime_boots_and_a_second_prime_builds_nothing(layout, real_machine, protoprimer_script, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH")
    root = tmp_path / "hello-repo"
    root.mkdir()
    _git(root, "init", "-q")

    init = run([protoprimer_script, "init", "--layout", layout], root, real_machine.env())
    assert init.returncode == 0, describe(init)
    assert "next: ./prime" in init.stdout, describe(init)
    repo = ClientRepo(root, KERNEL_COPY[layout], real_machine)
    copy_before = repo.read(KERNEL_COPY[layout])
    assert copy_before == real_machine.kernel.generated_copy_text(real_machine.kernel_text)

    cold = repo.prime().assert_ok()
    assert repo.venv().stamp() is not None, cold.describe()
    built = _stamp_file_state(repo)

    warm = repo.prime().assert_ok()
    assert _stamp_file_state(repo) == built, "the warm ./prime rebuilt or reinstalled:\n%s" % warm.describe()
    assert repo.read(KERNEL_COPY[layout]) == copy_before
    if layout == "max":
        assert os.readlink(repo.path("lconf")) == os.path.join("dst", "default_env")
    # the start_app example runs the new project's function in the venv
    app = repo.run(["./cmd/app"]).assert_ok()
    assert app.stdout.startswith("hello from %s " % os.path.realpath(repo.venv().dir)), app.describe()

    untracked = _git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    examples = ["hello_repo/__init__.py", "hello_repo/app.py", "cmd/app"]  # the package is named after the dir
    assert sorted(line[3:] for line in untracked) == sorted(TO_COMMIT[layout] + examples), "\n".join(untracked)
    assert all(line.startswith("?? ") for line in untracked)

    again = run([protoprimer_script, "init", "--layout", layout], root, real_machine.env())
    assert again.returncode == 0 and "nothing to do" in again.stdout, describe(again)
