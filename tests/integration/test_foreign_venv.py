"""Starting ./prime from inside a foreign venv made with `virtualenv`: its python runs the first process,
its bin dir is first on PATH, VIRTUAL_ENV and a PYTHONPATH (with a decoy `client` package) are set. The
repo's venv must be made from a base interpreter, and nothing of the foreign venv may reach the installers,
the client's code or the shell."""

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def foreign_env(real_machine, tmp_path):
    pytest.importorskip("virtualenv")
    foreign = str(tmp_path / "foreign")
    made = subprocess.run(
        [sys.executable, "-m", "virtualenv", "--quiet", "--no-seed", "--no-periodic-update",
         "--app-data", str(tmp_path / "virtualenv-app-data"), "-p", real_machine.python(real_machine.primary), foreign],
        capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    decoy = tmp_path / "decoy"
    (decoy / "client").mkdir(parents=True)
    (decoy / "client" / "__init__.py").write_text("")
    (decoy / "client" / "main.py").write_text("def main():\n    print('THE DECOY CLIENT RAN')\n")
    foreign_bin = os.path.join(foreign, "bin")
    env = real_machine.env(
        path=real_machine.path(foreign_bin, real_machine.default_bin),
        VIRTUAL_ENV=foreign,
        VIRTUAL_ENV_PROMPT="(foreign) ",
        PYTHONPATH=str(decoy),
    )
    assert shutil.which("python3", path=env["PATH"]) == os.path.join(foreign_bin, "python3")  # ./prime starts in it
    return foreign, env


def test_boot_from_inside_a_foreign_virtualenv(make_repo, real_machine, foreign_env):
    foreign, env = foreign_env
    foreign_bin = os.path.join(foreign, "bin")
    repo = make_repo()
    venv = repo.venv()

    run = repo.prime(env=env).assert_ok()
    assert run.log_lines("creating the venv %s with " % venv.dir), run.describe()
    stamp = venv.stamp()
    assert not stamp["python"].startswith(foreign + os.sep), stamp  # a base interpreter, not the foreign venv's
    assert os.path.samefile(stamp["python"], real_machine.python(real_machine.primary))
    assert os.path.realpath(venv.cfg()["home"]) != os.path.realpath(foreign_bin)
    assert "THE DECOY CLIENT RAN" not in run.stdout
    report = run.report
    assert report["prefix"] == os.path.realpath(venv.dir)
    assert report["base_prefix"] != os.path.realpath(foreign)
    assert report["virtual_env"] is None
    assert foreign_bin not in report["path"].split(os.pathsep)
    assert report["protoprimer_vars"] == []

    # warm, still from inside the foreign venv: the same interpreter is selected, nothing is installed
    before = (venv.installed(), os.stat(venv.stamp_file).st_mtime_ns)
    run = repo.prime(env=env).assert_ok()
    assert run.log_lines("is up to date: nothing to install") and not run.log_lines("installing"), run.describe()
    assert (venv.installed(), os.stat(venv.stamp_file).st_mtime_ns) == before

    # a command runs with the repo's venv activated, not the foreign one
    run = repo.prime("-c", 'echo "venv=$VIRTUAL_ENV pythonpath=$PYTHONPATH"; command -v python', env=env).assert_ok()
    assert run.stdout.splitlines()[-2:] == [
        "venv=%s pythonpath=" % venv.dir, os.path.join(venv.dir, "bin", "python")
    ], run.describe()
