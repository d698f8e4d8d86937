"""The venv lifecycle on real repos: reset, healing, an interrupted build, concurrent runs, start_app
before any boot. Each test builds its own venv (the tests change it)."""

import glob
import os
import re
import shutil
import signal
import subprocess
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
    assert run.log_lines("pins of %s (the lock file); they are made afresh" % repo.path("constraints.txt")), run.describe()
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


@pytest.mark.parametrize("phase", ["seed-creation", "install"])
def test_a_first_run_killed_while_building_is_healed_by_the_next_run(make_repo, phase):
    """SIGKILL to the first run's whole process group, in the middle of ensurepip filling the pip seed venv
    in the cache (its pyvenv.cfg is written first, then pip is bootstrapped: the slow part of a first
    build), or of the install (the empty constraints file is written right before the installer starts).
    The next run takes over the dead run's lock and heals: a seed without its completion mark is made
    again; a venv whose install was cut short is stamped good-but-pending and gets the install again, in
    place."""
    repo = make_repo()
    venv = repo.venv()
    cfg = os.path.join(venv.dir, "pyvenv.cfg")
    seeds = repo.path("cache", "venv")

    def seed_cfg():
        names = os.listdir(seeds) if os.path.isdir(seeds) else []
        return [os.path.join(seeds, name, "pyvenv.cfg") for name in names if name.startswith("pip-")]

    reached = (lambda: any(os.path.exists(path) for path in seed_cfg())) if phase == "seed-creation" else (
        lambda: os.path.exists(repo.path("constraints.txt")))
    first = repo.start(["./prime"])
    wait_for(lambda: reached() or first.popen.poll() is not None, 120, "the first run to reach " + phase)
    time.sleep(0.3)
    assert first.popen.poll() is None, "the first run ended before it could be killed:\n%s" % first.finish().describe()
    first.kill()
    killed = first.finish()
    assert killed.code == -signal.SIGKILL, killed.describe()
    if phase == "seed-creation":
        seed = os.path.dirname(seed_cfg()[0])
        assert not os.path.exists(os.path.join(seed, "protoprimer.seeded"))
        assert not os.path.exists(venv.dir)
    else:
        assert os.path.isfile(cfg)
        assert "install_config" not in (venv.stamp() or {})  # not marked complete
        venv_inode = os.stat(venv.dir).st_ino
    lock = repo.path("tmp", "venv.lock")
    with open(lock) as f:
        assert f.read().strip() == str(first.popen.pid)  # the dead holder's pid is still there

    run = repo.prime().assert_ok()
    assert run.log_lines("took over the install lock %s left by pid %d" % (lock, first.popen.pid)), run.describe()
    if phase == "seed-creation":
        assert run.log_lines("creating the pip seed venv %s" % seed), run.describe()
        assert os.path.exists(os.path.join(seed, "protoprimer.seeded"))
        assert run.log_lines("creating the venv %s" % venv.dir), run.describe()
    else:
        assert run.log_lines("reinstalling into %s: the last install into %s did not complete" % (venv.dir, venv.dir)), run.describe()
        assert not run.log_lines("creating the venv") and not run.log_lines("moved "), run.describe()
        assert os.stat(venv.dir).st_ino == venv_inode
    assert run.log_lines("installing the projects"), run.describe()
    assert "install_config" in venv.stamp()
    assert run.report["prefix"] == os.path.realpath(venv.dir)
    assert run.report["installed_protoprimer"] is not None


def test_a_seeded_venv_has_the_pip_ensurepip_gives_and_its_scripts_run(make_repo, real_machine):
    """venv_pip copies pip from the seed instead of running ensurepip in every venv: the venv must end up
    with what `python -m venv` would give it (the same distributions), and its pip scripts must run."""
    repo = make_repo()
    repo.prime().assert_ok()
    shutil.rmtree(repo.venv().dir)  # the second build is the seeded one
    run = repo.prime().assert_ok()
    assert run.log_lines("creating the venv ") and not run.log_lines("creating the pip seed venv"), run.describe()
    venv = repo.venv()
    plain = os.path.join(str(repo.path("tmp")), "plain-venv")
    subprocess.run([real_machine.python(real_machine.primary), "-I", "-m", "venv", plain], check=True,
                   env=real_machine.env())
    site = lambda d: [n for n in sorted(os.listdir(glob.glob(os.path.join(d, "lib", "python*", "site-packages"))[0]))
                      if n != "__pycache__"]
    assert set(site(plain)) <= set(site(venv.dir)), (site(plain), site(venv.dir))
    for script in ("pip", "pip3", "pip%d.%d" % real_machine.primary):
        done = subprocess.run([os.path.join(venv.dir, "bin", script), "--version"], capture_output=True, text=True,
                              env=real_machine.env())
        assert done.returncode == 0 and os.path.realpath(venv.dir) in os.path.realpath(done.stdout.split()[3]), done


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


def test_two_repos_sharing_a_cache_dir_fill_the_pip_seed_once(make_repo):
    """The pip seed lives in the cache dir, which envs (and repos) may share; each venv has its own install
    lock, so the seed has a lock of its own: two first builds started at once make it once, and neither
    removes it while the other fills or copies it."""
    shared = {"local_cache_dir_rel_path": "../shared-cache"}
    repos = [make_repo(name, layout="max", global_conf=shared) for name in ("a", "b")]
    runs = [repo.start(["./prime"]) for repo in repos]
    finished = [running.finish() for running in runs]
    for run in finished:
        run.assert_ok()
    makers = [run for run in finished if run.log_lines("creating the pip seed venv")]
    assert len(makers) == 1, "\n".join(run.describe() for run in finished)
    for repo in repos:
        done = subprocess.run([repo.venv().python, "-I", "-m", "pip", "--version"], capture_output=True, text=True)
        assert done.returncode == 0, done
