"""The venv lifecycle on real repos: reset, healing, an interrupted build, concurrent runs, start_app
before any boot. Each test builds its own venv (the tests change it)."""

import os
import re
import shutil
import signal
import time

import pytest

from client_repos import make_relocated_python, version_text, wait_for

pytestmark = pytest.mark.integration


def test_start_app_before_any_boot_says_run_prime_and_writes_nothing(make_repo):
    repo = make_repo()
    listing = lambda: sorted(name for name in os.listdir(repo.root) if name != "__pycache__")  # Python's own cache
    before = listing()
    run = repo.run(["cmd/app"])
    assert run.code == 7, run.describe()
    assert "there is no venv at %s: run ./prime (boot) first to build it" % repo.venv().dir in run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert listing() == before


def test_reset_rebuilds_the_venv_from_scratch_and_runs_the_main(make_repo):
    repo = make_repo()
    repo.prime().assert_ok()
    venv = repo.venv()
    first_stamp = venv.stamp()
    with open(os.path.join(venv.dir, "left-by-the-old-venv"), "w") as f:
        f.write("x")

    run = repo.prime("reset").assert_ok()
    assert run.report["entry"] == "boot_env" and run.report["args"]["sub_command"] == "reset"
    assert run.report["prefix"] == os.path.realpath(venv.dir)
    moved = run.log_lines("moved %s aside to %s" % (venv.dir, repo.path("tmp", "venv.before.")))
    assert len(moved) == 1, run.describe()
    aside = moved[0].split(" aside to ")[1]
    assert os.path.isfile(os.path.join(aside, "left-by-the-old-venv"))
    assert not os.path.exists(os.path.join(venv.dir, "left-by-the-old-venv"))
    assert run.log_lines("removed the pins %s" % repo.path("constraints.txt")), run.describe()
    assert run.log_lines("creating the venv %s" % venv.dir) and run.log_lines("installing the projects"), run.describe()
    stamp = venv.stamp()
    assert stamp["built_by"] != first_stamp["built_by"]
    same = ("driver", "python", "python_version", "kernel", "install_config", "constraints", "project.0")
    assert [stamp[k] for k in same] == [first_stamp[k] for k in same]  # the same inputs, the same pins
    # the rebuilt venv is complete: the next run has nothing to do
    warm = repo.prime().assert_ok()
    assert warm.log_lines("is up to date: nothing to install") and not warm.log_lines("installing"), warm.describe()


def test_a_venv_whose_interpreter_was_deleted_is_rebuilt(make_repo, real_machine, tmp_path):
    """The venv was made from an interpreter installed in a directory of its own, which was then deleted
    (uninstalled); the same version is installed elsewhere. The next run moves the dead venv aside and
    builds a new one from the interpreter that is there now."""
    old_install = str(tmp_path / "old-python")
    old_python = make_relocated_python(real_machine.python(real_machine.primary), old_install)
    if old_python is None:
        pytest.skip("the Python %s here cannot run from a copy of its binary" % version_text(real_machine.primary))
    repo = make_repo()
    venv = repo.venv()
    old_path = real_machine.path(os.path.dirname(old_python))
    repo.prime(env=real_machine.env(path=old_path)).assert_ok()
    assert os.path.realpath(venv.python).startswith(old_install + os.sep), "the venv is not made from the old install"

    shutil.rmtree(old_install)
    assert os.path.lexists(venv.python) and not os.path.exists(venv.python)

    run = repo.prime().assert_ok()
    why = "rebuilding the venv: the python of %s is gone (it was made from " % venv.dir
    assert run.log_lines(why) and "WARNING " + why in run.stderr, run.describe()
    assert run.log_lines("moved %s aside to %s" % (venv.dir, repo.path("tmp", "venv.broken."))), run.describe()
    assert run.log_lines("creating the venv %s with " % venv.dir), run.describe()
    assert os.path.samefile(venv.python, real_machine.python(real_machine.primary))
    assert os.path.samefile(venv.stamp()["python"], real_machine.python(real_machine.primary))
    assert run.report["prefix"] == os.path.realpath(venv.dir)


@pytest.mark.parametrize("phase", ["venv-creation", "install"])
def test_a_first_run_killed_while_building_is_healed_by_the_next_run(make_repo, phase):
    """SIGKILL to the first run's whole process group, in the middle of `python -m venv` (pyvenv.cfg is
    written first, then pip is bootstrapped) or of the install (the empty constraints file is written
    right before the installer starts). The next run takes over the dead run's lock and heals: a venv
    whose creation was cut short has no stamp and is rebuilt; a venv whose install was cut short is
    stamped good-but-pending and gets the install again, in place."""
    repo = make_repo()
    venv = repo.venv()
    cfg = os.path.join(venv.dir, "pyvenv.cfg")
    marker = cfg if phase == "venv-creation" else repo.path("constraints.txt")
    first = repo.start(["./prime"])
    wait_for(lambda: os.path.exists(marker) or first.popen.poll() is not None, 120, "the first run to reach " + phase)
    time.sleep(0.3)
    assert first.popen.poll() is None, "the first run ended before it could be killed:\n%s" % first.finish().describe()
    first.kill()
    killed = first.finish()
    assert killed.code == -signal.SIGKILL, killed.describe()
    assert os.path.isfile(cfg)
    assert venv.stamp() is None or "install_config" not in venv.stamp()  # not marked complete
    if phase == "venv-creation":
        assert venv.stamp() is None
    lock = repo.path("tmp", "venv.lock")
    with open(lock) as f:
        assert f.read().strip() == str(first.popen.pid)  # the dead holder's pid is still there
    venv_inode = os.stat(venv.dir).st_ino

    run = repo.prime().assert_ok()
    assert run.log_lines("took over the install lock %s left by pid %d" % (lock, first.popen.pid)), run.describe()
    if phase == "venv-creation":
        assert run.log_lines("rebuilding the venv: %s is not marked complete" % venv.dir), run.describe()
        assert run.log_lines("moved %s aside to " % venv.dir), run.describe()
        assert run.log_lines("creating the venv %s" % venv.dir), run.describe()
    else:
        assert run.log_lines("reinstalling into %s: the last install into %s did not complete" % (venv.dir, venv.dir)), run.describe()
        assert not run.log_lines("creating the venv") and not run.log_lines("moved "), run.describe()
        assert os.stat(venv.dir).st_ino == venv_inode
    assert run.log_lines("installing the projects"), run.describe()
    assert "install_config" in venv.stamp()
    assert run.report["prefix"] == os.path.realpath(venv.dir)
    assert run.report["installed_protoprimer"] is not None


def test_two_runs_started_at_once_build_the_venv_once(make_repo):
    repo = make_repo()
    venv = repo.venv()
    runs = [repo.start(["./prime"]), repo.start(["./prime"])]
    a, b = [running.finish() for running in runs]
    for run in (a, b):
        run.assert_ok()
        assert run.report["prefix"] == os.path.realpath(venv.dir), run.describe()
    builders = [run for run in (a, b) if run.log_lines("creating the venv")]
    waiters = [run for run in (a, b) if run.log_lines("waiting for another protoprimer run")]
    assert len(builders) == 1 and len(waiters) == 1 and builders != waiters, a.describe() + "\n" + b.describe()
    builder, waiter = builders[0], waiters[0]
    assert not waiter.log_lines("installing"), waiter.describe()
    assert waiter.log_lines("venv %s was completed by the other run: nothing to do" % venv.dir), waiter.describe()
    # the waiter names the holder's pid from the lock file; "?" when it read the file in the instant the
    # holder had emptied it and not yet written its pid (a known kernel race, harmless)
    builder_pid = runs[(a, b).index(builder)].popen.pid
    named = re.findall(r"WARNING waiting for another protoprimer run \(pid (\d+|\?)\) to finish with %s " % re.escape(venv.dir),
                       waiter.stderr)
    assert named in (["%d" % builder_pid], ["?"]), (builder_pid, waiter.stderr)
    assert venv.stamp()["built_by"].endswith(".%d" % runs[(a, b).index(builder)].popen.pid)
