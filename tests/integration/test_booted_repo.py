"""One repo (max layout: the kernel copy in cmd/proto_code, gconf, a default env), booted cold once per
session; every other test here only reads it or boots it warm, which changes nothing but its log dir."""

import json
import os

import pytest

from client_repos import version_text

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(booted_repo):
    if booted_repo.cold.code != 0:
        pytest.fail("the shared cold boot failed:\n%s" % booted_repo.cold.describe(), pytrace=False)
    return booted_repo


def venv_state(repo):
    """What any installer run or rebuild would change: site-packages entries, the stamp, the pins, the copy."""
    venv = repo.venv()
    constraints = repo.path("dst/default/constraints.txt")
    return {
        "site-packages": venv.installed(),
        "stamp": (venv.stamp(), os.stat(venv.stamp_file).st_mtime_ns),
        "constraints": (repo.read("dst/default/constraints.txt"), os.stat(constraints).st_mtime_ns),
        "copy": (repo.read(repo.kernel_rel), os.stat(repo.kernel_copy).st_mtime_ns),
        "pyvenv.cfg": os.stat(repo.path("venv/pyvenv.cfg")).st_mtime_ns,
    }


def assert_no_installer_ran(run, repo, before):
    assert run.log_lines("is up to date: nothing to install"), run.describe()
    for phase in ("creating the venv", "installing", "pinned", "rebuilding", "reinstalling", "refreshed the kernel copy"):
        assert not run.log_lines(phase), "%r in the log of a warm run:\n%s" % (phase, run.describe())
    assert "protoprimer: " not in run.stderr, run.describe()
    assert venv_state(repo) == before


def test_cold_boot_builds_the_venv_and_runs_the_client_main_in_it(repo, real_machine):
    kernel = real_machine.kernel
    run = repo.cold
    venv = repo.venv()
    report = run.report
    assert report["entry"] == "boot_env"
    assert report["argv"] == ["./prime"]
    assert report["prefix"] == os.path.realpath(venv.dir)
    assert tuple(report["version"][:2]) == real_machine.primary
    assert report["protoprimer_vars"] == []
    assert report["installed_protoprimer"] == kernel.__version__
    # the log tells the story: build, install, pin, one restart into the venv, the exit line
    assert len(run.log_lines("creating the venv %s with " % venv.dir)) == 1, run.describe()
    assert len(run.log_lines("installing the projects")) == 1, run.describe()
    assert run.log_lines("pinned "), run.describe()
    assert len(run.log_lines("restarting as ")) == 1, run.describe()
    assert run.log_lines("restarting as %s at stride_deps_updated" % venv.python), run.describe()
    assert run.log.splitlines()[-1].startswith("SUCCESS [0]: %s " % venv.python), run.describe()
    # on a pipe, each long phase is one plain line; no error, no traceback
    assert "protoprimer: creating the venv" in run.stderr and "protoprimer: installing" in run.stderr
    assert "ERROR" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    stamp = venv.stamp()
    assert stamp["driver"] == "venv_pip"
    assert stamp["kernel"] == kernel.__version__
    assert stamp["python_version"].startswith(version_text(real_machine.primary) + ".")
    assert "protoprimer==%s" % kernel.__version__ in repo.read("dst/default/constraints.txt").splitlines()
    # boot created the env link, relative to its own directory
    assert os.readlink(repo.path("lconf")) == "dst/default"


def test_cold_boot_refreshes_the_committed_kernel_copy_from_the_installed_kernel(repo, real_machine):
    run = repo.cold
    copy_text = repo.read(repo.kernel_rel)
    assert copy_text == real_machine.kernel.generated_copy_text(real_machine.kernel_text)
    assert copy_text.splitlines()[2] == "# GENERATED CONTENT - ANY CHANGES WILL BE LOST"
    assert run.log_lines("refreshed the kernel copy %s from " % repo.kernel_copy), run.describe()
    assert os.access(repo.kernel_copy, os.X_OK)
    # client code imports the copy (the module the entry script loaded) and gets its path
    assert run.report["proto_kernel_file"] == repo.kernel_copy
    assert run.report["kernel_path"] == repo.kernel_copy


def test_warm_rerun_starts_no_installer(repo):
    before = venv_state(repo)
    run = repo.prime().assert_ok()
    assert_no_installer_ran(run, repo, before)
    assert len(run.log_lines("restarting as %s at stride_deps_updated" % repo.venv().python)) == 1
    assert run.report["prefix"] == os.path.realpath(repo.venv().dir)


def test_get_config_in_client_code_is_the_config_of_the_run(repo, real_machine):
    config = repo.cold.report["config"]
    assert config["state_ref_root_dir_abs_path_inited"] == repo.root
    assert config["state_local_venv_dir_abs_path_inited"] == repo.venv().dir
    assert config["state_local_log_dir_abs_path_inited"] == repo.path("log")
    assert config["state_required_python_version_inited"] == version_text(real_machine.primary)
    assert config["state_venv_driver_inited"] == "venv_pip"
    assert config["state_selected_env_dir_rel_path_inited"] == "dst/default"
    assert config["state_local_conf_file_abs_path_inited"] == repo.path("lconf", "proto_kernel.json")
    stamp = repo.venv().stamp()
    assert config["state_selected_python_file_abs_path_inited"] == stamp["python"]
    # `eval` (a separate, read-only run) reports the same derived config
    result = repo.run(["./prime", "eval", "--json"]).assert_ok()
    assert json.loads(result.stdout)["leap_derived"] == config


def test_client_main_extends_the_bootstrap_with_the_same_arguments(repo, real_machine):
    args = ["-q", "boot", "-c", "echo the-command-ran-after-the-main"]
    run = repo.prime(*args).assert_ok()
    report = run.report
    assert report["argv"] == ["./prime"] + args
    assert report["args"] == json.loads(json.dumps(vars(real_machine.kernel.parse_args(args))))  # as the report
    assert report["args"]["run_command"] == "echo the-command-ran-after-the-main"
    assert report["args"]["stderr_log_level_quiet"] == 1
    # the main ran first, then the command, in the venv's shell
    lines = run.stdout.splitlines()
    assert lines[-1] == "the-command-ran-after-the-main", run.describe()
    assert lines[-2].startswith("CLIENT-REPORT ")
    assert run.stderr == "", run.describe()  # -q: nothing below ERROR


def test_client_main_decides_the_exit_code(repo):
    run = repo.prime(env=repo.machine.env(CLIENT_EXIT="3"))
    assert run.code == 3, run.describe()
    assert run.report["entry"] == "boot_env"
    assert run.log.splitlines()[-1].startswith("FAILURE [3]: ")
    # a failing main stops a -c command from running
    run = repo.prime("-c", "echo must-not-run", env=repo.machine.env(CLIENT_EXIT="4"))
    assert run.code == 4 and "must-not-run" not in run.stdout.splitlines(), run.describe()


def test_start_app_runs_the_app_in_the_venv_from_any_directory(repo, tmp_path):
    before = venv_state(repo)
    env = repo.machine.env(CLIENT_EXIT="5", PROTOPRIMER_STDERR_LOG_LEVEL="INFO")
    run = repo.run([repo.path("cmd/app"), "one", "--two"], cwd=str(tmp_path), env=env)
    assert run.code == 5, run.describe()
    report = run.report
    assert report["entry"] == "start_app"
    assert report["argv"] == [repo.path("cmd/app"), "one", "--two"]
    assert report["prefix"] == os.path.realpath(repo.venv().dir)
    assert report["protoprimer_vars"] == []
    assert report["kernel_path"] == repo.kernel_copy
    assert report["config"]["state_local_venv_dir_abs_path_inited"] == repo.venv().dir
    # one hop into the venv (seen on stderr at INFO: start_app is read-only and writes no file log)
    hops = [line for line in run.stderr.splitlines() if "restarting as " in line]
    assert len(hops) == 1 and hops[0].endswith("restarting as %s at stride_py_venv" % repo.venv().python), run.describe()
    assert "install" not in run.stderr, run.describe()
    assert run.logs == {}
    assert venv_state(repo) == before
    assert not os.path.exists(tmp_path / "log"), "paths come from the kernel copy, not the cwd"
