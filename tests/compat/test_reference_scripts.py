"""One instant-layout repo set up entirely by the reference's `wrap` (a copy, `.python-version`, a client
project depending on metaprimer), with our kernel as the copy.

Costly fixture: `booted` boots it cold once per module (about 10 s: a venv, metaprimer and our protoprimer
installed) and once more warm; every test here then only runs entry scripts in it or reads it (a start_app
script writes only its log file, a warm boot_env changes nothing), so they share it instead of each paying
for a cold boot.
"""

import os
import re
import subprocess

import pytest

from compat_repos import one_tagged, write_reference_repo

SCRIPTS = (
    ("boot_env", "prime", None),  # the instant layout's script: boot_env("")
    ("boot_env", "prime_main", "client.app:boot_main"),  # a 0.13-style boot_env main
    ("start_app", "cmd/app", "client.app:run"),
    ("start_app", "cmd/kernel_app", "client.app:kernel"),
    ("start_app", "cmd/meta", "client.app:meta"),
    ("start_app", "cmd/eval_conf", "metaprimer.cmd_eval_conf:custom_main"),
)

GET_CONFIG = ("from protoprimer.primer_kernel import get_config; "
              "print(get_config()['state_local_venv_dir_abs_path_inited'])")


@pytest.fixture(scope="module")
def booted(real_machine, artefacts, tmp_path_factory):
    """The repo, after `./prime` cold (`.cold`) and `./prime` again (`.warm`). When the cold `./prime` fails,
    the kernel copy run as a program (`python3 proto_kernel.py`, `.fallback`) builds the venv instead, so
    that each start_app test still reports its own result rather than the boot's."""
    repo = write_reference_repo(
        real_machine, artefacts, tmp_path_factory.mktemp("compat-instant") / "repo", SCRIPTS,
        layout="instant", dependencies=[artefacts.metaprimer_requirement],
    )
    repo.cold = repo.prime()
    repo.warm = repo.prime() if repo.cold.code == 0 else None
    repo.fallback = None
    if repo.cold.code != 0:
        repo.fallback = repo.run([repo.kernel_rel], python=real_machine.python(real_machine.primary))
    return repo


@pytest.fixture
def repo(booted):
    if not os.path.isfile(booted.venv().python):
        runs = [run.describe() for run in (booted.cold, booted.fallback) if run is not None]
        pytest.fail("the shared repo has no venv: neither the reference-wrapped ./prime nor the kernel copy run as a "
                    "program built it:\n%s" % "\n".join(runs), pytrace=False)
    return booted


def test_reference_wrapped_prime_boots_cold_then_warm(booted, real_machine, artefacts):
    """Case 1: `./prime` written by the reference's `wrap boot_env -s prime` (boot_env("")) builds venv/ with
    metaprimer and our protoprimer, and a second `./prime` exits 0 too."""
    assert 'proto_kernel.boot_env("")' in booted.read("prime")
    booted.cold.assert_ok()
    venv = booted.venv()
    assert os.path.isfile(venv.python), booted.cold.describe()
    dists = venv.dist_infos()
    assert "metaprimer-%s.dist-info" % artefacts.metaprimer_version in dists, dists
    assert "protoprimer-%s.dist-info" % real_machine.kernel.__version__ in dists, dists
    booted.warm.assert_ok()


def test_reference_wrapped_start_app_runs_the_main_in_the_venv(repo, real_machine):
    """Case 1: `cmd/app` written by the reference's `wrap start_app -s cmd/app -m client.app:run` runs the
    main with the venv's python."""
    run = repo.run(["cmd/app"]).assert_ok()
    assert one_tagged(run, "RUN-PREFIX") == os.path.realpath(repo.venv().dir), run.describe()
    assert one_tagged(run, "RUN-VERSION").startswith("%d.%d." % real_machine.primary), run.describe()


def test_0_13_style_boot_env_main_reads_the_config_and_calls_proto_main(repo):
    """Case 2: a boot_env main importing proto_main, get_config, ConfLeap, EnvState from the installed
    protoprimer.primer_kernel gets the derived config (the repo's venv) and proto_main() runs the kernel's
    flow to exit 0; with `-c`, proto_main runs the command."""
    venv_dir = os.path.realpath(repo.venv().dir)
    run = repo.run(["./prime_main"]).assert_ok()
    assert os.path.realpath(one_tagged(run, "BOOT-VENV")) == venv_dir, run.describe()
    assert one_tagged(run, "BOOT-PREFIX") == venv_dir, run.describe()
    run = repo.run(["./prime_main", "-c", "echo HELLO"]).assert_ok()
    assert "HELLO" in run.stdout.splitlines(), run.describe()
    assert os.path.realpath(one_tagged(run, "BOOT-VENV")) == venv_dir, run.describe()


def test_import_proto_kernel_in_a_start_app_main_gets_the_running_copy(repo):
    """Case 3: the reference's loader does not register the copy in sys.modules; `import proto_kernel` in
    client code still gets the running copy, whose get_proto_kernel_abs_path() is the copy's path."""
    run = repo.run(["cmd/kernel_app"]).assert_ok()
    assert one_tagged(run, "KERNEL-FILE") == repo.kernel_copy, run.describe()
    assert one_tagged(run, "KERNEL-PATH") == repo.kernel_copy, run.describe()


def test_metaprimer_configure_script_as_a_start_app_main(repo):
    """Case 4: metaprimer.script_lib.configure_script("meta") returns the derived config (the repo's log
    dir) and logs into `<log dir>/meta.<start id>.log`."""
    log_dir = repo.path("log")
    before = set(os.listdir(log_dir)) if os.path.isdir(log_dir) else set()
    run = repo.run(["cmd/meta"]).assert_ok()
    assert os.path.realpath(one_tagged(run, "META-LOG-DIR")) == os.path.realpath(log_dir), run.describe()
    new = sorted(name for name in set(os.listdir(log_dir)) - before if re.match(r"meta\..+\.log$", name))
    assert len(new) == 1, "expected one new meta.<start id>.log in %s, found %s\n%s" % (log_dir, new, run.describe())
    with open(os.path.join(log_dir, new[0]), encoding="utf-8") as f:
        assert "META-LOGGED" in f.read(), run.describe()


def test_metaprimer_cmd_eval_conf_as_a_start_app_main(repo, real_machine):
    """Case 5: metaprimer.cmd_eval_conf:custom_main (the reference repo's cmd/eval_conf) renders the config:
    exit 0, the venv path and the required python version in its output."""
    run = repo.run(["cmd/eval_conf"]).assert_ok()
    assert repo.venv().dir in run.stdout, run.describe()
    venv_lines = [line for line in run.stdout.splitlines() if '"state_local_venv_dir_abs_path_inited"' in line]
    assert venv_lines and all(repo.venv().dir in line for line in venv_lines), run.describe()
    version_lines = [line for line in run.stdout.splitlines() if '"state_required_python_version_inited"' in line]
    assert version_lines and all('"%d.%d' % real_machine.primary in line for line in version_lines), run.describe()


def test_get_config_in_a_process_no_entry_script_started_finds_the_repo_from_its_cwd(repo):
    """Case 9: `venv/bin/python -c "...get_config()..."` with the repo as cwd gets the repo's config (not
    site-packages as a repo)."""
    venv = repo.venv()
    run = repo.run([venv.python, "-c", GET_CONFIG]).assert_ok()
    lines = run.stdout.splitlines()
    assert lines and os.path.realpath(lines[-1]) == os.path.realpath(venv.dir), run.describe()
    assert "site-packages" not in run.stdout, run.describe()


def test_get_config_outside_any_repo_with_the_base_interpreter_fails_with_one_clear_error(repo, real_machine, tmp_path):
    """Case 9: outside any repo (an empty directory with nothing up to /: as good as cwd=/, and nothing
    can be written into / by mistake) and with the base interpreter (the package from the source snapshot
    on PYTHONPATH), get_config() in a process no entry script started fails: non-zero exit, an error naming
    get_config as the last line, never {} and never a path in site-packages as the repo; it writes nothing
    there and nothing into the repo's site-packages."""
    venv = repo.venv()
    outside = tmp_path / "outside"
    outside.mkdir()
    snapshot_root = os.path.dirname(os.path.dirname(real_machine.kernel_file))
    argv = [real_machine.python(real_machine.primary), "-c", GET_CONFIG]
    site = venv.site_packages()
    site_before = (sorted(os.listdir(site)), sorted(os.listdir(os.path.join(site, "protoprimer"))))
    result = subprocess.run(argv, cwd=str(outside), env=real_machine.env(PYTHONPATH=snapshot_root),
                            capture_output=True, text=True, timeout=120)
    describe = "$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s" % (" ".join(argv), result.returncode, result.stdout, result.stderr)
    assert result.returncode != 0, describe
    assert result.stdout.strip() != "{}" and "site-packages" not in result.stdout, describe
    last = [line for line in result.stderr.splitlines() if line.strip()]
    assert last and "get_config" in last[-1], "the error must name get_config:\n" + describe
    assert "site-packages" not in last[-1], describe
    assert os.listdir(str(outside)) == [], describe
    assert (sorted(os.listdir(site)), sorted(os.listdir(os.path.join(site, "protoprimer")))) == site_before, describe
