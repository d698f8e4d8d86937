"""Which Python and which env: selection by .python-version among real interpreters, the error when
none matches, and switching envs with --env."""

import json
import os
import shutil

import pytest

from client_repos import version_text

pytestmark = pytest.mark.integration


def other_version_or_skip(machine):
    other = machine.other_version()
    if other is None:
        pytest.skip("needs a second real Python 3.8+ besides %s" % version_text(machine.primary))
    return other


def test_python_version_file_selects_a_python_other_than_the_first_on_path(make_repo, real_machine):
    other = other_version_or_skip(real_machine)
    env = real_machine.env()
    first = os.path.realpath(shutil.which("python3", path=env["PATH"]))
    assert first == os.path.realpath(real_machine.python(real_machine.primary))  # ./prime starts in it
    repo = make_repo(python_version=version_text(other))

    run = repo.prime(env=env).assert_ok()
    stamp = repo.venv().stamp()
    selected = stamp["python"]  # the interpreter found as python3.Y on PATH (by that path, or its real one)
    assert os.path.samefile(selected, real_machine.python(other)), stamp
    assert stamp["python_version"].startswith(version_text(other) + ".")
    assert run.log_lines("creating the venv %s with %s" % (repo.venv().dir, selected)), run.describe()
    assert tuple(run.report["version"][:2]) == other
    assert run.report["prefix"] == os.path.realpath(repo.venv().dir)
    assert run.report["config"]["state_selected_python_file_abs_path_inited"] == selected


def test_no_python_of_the_required_version_is_exit_5_naming_each_candidate(make_repo, real_machine, tmp_path):
    """Only the primary python3 is on PATH: the run names the requirement, its source and why each
    candidate was rejected, and builds nothing."""
    other = other_version_or_skip(real_machine)
    bin_dir = real_machine.bin_dir(str(tmp_path / "bin"), versions=(), python3="primary")
    repo = make_repo(python_version=version_text(other))

    run = repo.prime(env=real_machine.env(path=real_machine.path(bin_dir)))
    assert run.code == 5, run.describe()
    text = version_text(other)
    message = "ERROR no Python %s found (required by %s). Tried: python%s: not on PATH; %s: Python %s; python: not on PATH." % (
        text, repo.path(".python-version"), text, os.path.join(bin_dir, "python3"),
        real_machine.full_version(real_machine.primary),
    )
    assert message in run.stderr, run.describe()
    assert "Traceback" not in run.stderr
    assert not os.path.exists(repo.venv().dir)
    assert run.log.splitlines()[-1].startswith("FAILURE [5]: ")


def test_a_python_2_7_candidate_is_reported_by_its_version(make_repo, real_machine, tmp_path):
    """A working Python 2.7 (`python` on many older machines) is listed by its version, not warned about
    as broken: the probe must use options Python 2.7 accepts (it once passed -I, which 2.7 rejects)."""
    if (2, 7) not in real_machine.interpreters:
        pytest.skip("no real Python 2.7 on this machine")
    bin_dir = real_machine.bin_dir(
        str(tmp_path / "bin"), versions=(), python3="primary", extra={"python": real_machine.python((2, 7))}
    )
    repo = make_repo(python_version=version_text(other_version_or_skip(real_machine)))
    run = repo.prime(env=real_machine.env(path=real_machine.path(bin_dir)))
    assert run.code == 5, run.describe()
    assert "%s: Python 2.7." % os.path.join(bin_dir, "python") in run.stderr, run.describe()
    assert "does not run" not in run.stderr and "WARNING skipping" not in run.stderr, run.describe()


def test_env_switch_builds_each_env_its_venv_and_the_choice_sticks(make_repo, real_machine):
    """Two envs with their own venv, log dir and (when there is a second interpreter) Python: boot the
    default one, switch with --env (given relative to the cwd), and see the choice stick until the next
    --env; eval with --env reads the other env without moving the link."""
    other = real_machine.other_version() or real_machine.primary
    repo = make_repo(
        layout="max",
        default_env="dst/a",
        envs={
            "dst/a": {"local_venv_dir_rel_path": "venv.a"},
            "dst/b": {"local_venv_dir_rel_path": "venv.b", "local_log_dir_rel_path": "log.b",
                      "required_python_version": version_text(other)},
        },
    )
    venv_a, venv_b = repo.venv("venv.a"), repo.venv("venv.b")

    run = repo.prime().assert_ok()
    assert os.readlink(repo.path("lconf")) == "dst/a"
    assert run.report["prefix"] == os.path.realpath(venv_a.dir)
    assert run.report["config"]["state_local_venv_dir_abs_path_inited"] == venv_a.dir
    assert os.path.isfile(repo.path("dst/a/constraints.txt")) and not venv_b.exists()

    # --env relative to the cwd (not a dir under the ref root): from dst/, "b" is dst/b
    run = repo.run([repo.path("prime"), "--env", "b"], cwd=repo.path("dst")).assert_ok()
    assert os.readlink(repo.path("lconf")) == "dst/b"
    assert run.log_lines("creating the venv %s" % venv_b.dir), run.describe()
    assert all(path.startswith(repo.path("log.b") + os.sep) for path in run.logs), run.logs
    report = run.report
    assert report["prefix"] == os.path.realpath(venv_b.dir)
    assert tuple(report["version"][:2]) == other
    assert report["args"]["selected_env_dir"] == "b"
    assert report["config"]["state_selected_env_dir_rel_path_inited"] == "dst/b"
    assert report["config"]["state_local_venv_dir_abs_path_inited"] == venv_b.dir
    assert report["config"]["state_required_python_version_inited"] == version_text(other)
    assert os.path.isfile(repo.path("dst/b/constraints.txt"))
    assert venv_a.stamp() is not None  # the other env's venv is left alone

    # the choice sticks: a plain run uses env b, with nothing to install
    run = repo.prime().assert_ok()
    assert run.report["prefix"] == os.path.realpath(venv_b.dir)
    assert run.log_lines("venv %s is up to date: nothing to install" % venv_b.dir), run.describe()

    # eval --env reads env a and leaves the link alone
    run = repo.run(["./prime", "eval", "--json", "--env", "dst/a"]).assert_ok()
    assert json.loads(run.stdout)["leap_derived"]["state_local_venv_dir_abs_path_inited"] == venv_a.dir
    assert os.readlink(repo.path("lconf")) == "dst/b"

    # back to env a: its venv is still good
    run = repo.prime("--env", "dst/a").assert_ok()
    assert os.readlink(repo.path("lconf")) == "dst/a"
    assert run.report["prefix"] == os.path.realpath(venv_a.dir)
    assert run.log_lines("venv %s is up to date: nothing to install" % venv_a.dir), run.describe()
