"""Day two on real repos: what happens after the first boot, when the venv gets damaged, the declared
dependencies move, an entry script is started through a symlink, or an env switch fails. The fast tier
covers each of these in simulation (scenarios/start, scenarios/lifecycle, scenarios/wrap, scenarios/env);
these runs keep the simulation honest with real interpreters, real venvs and real pip."""

import os
import shutil
import subprocess

import pytest

from client_repos import REPORT_PREFIX, client_pyproject, write_client_repo

pytestmark = pytest.mark.integration

HANG_TIMEOUT = 30  # seconds: a start that stops at once takes well under one; the old bug spun forever


# region: helpers


def wrap(repo, *args):
    """Run the repo's kernel copy's `wrap` (as write_client_repo does) and return what it wrote."""
    done = subprocess.run(
        [repo.machine.python(repo.machine.primary), repo.kernel_copy, "wrap"] + list(args),
        cwd=repo.root, env=repo.machine.env(), capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and ("wrote " in done.stdout or "--force" in args), "wrap %s failed:\n%s\n%s" % (
        " ".join(args), done.stdout, done.stderr)
    return done.stdout


def venv_import(venv, module):
    """`venv/bin/python -I -c "import <module>"`: whether the venv has the module (exit 0) or not."""
    return subprocess.run([venv.python, "-I", "-c", "import %s; print(%s.__file__)" % (module, module)],
                          capture_output=True, text=True, timeout=60, env={"PATH": os.defpath})


def assert_importable(venv, module, run):
    done = venv_import(venv, module)
    assert done.returncode == 0, "%s is not importable from %s (%s) after:\n%s" % (
        module, venv.dir, done.stderr.strip().splitlines()[-1:], run.describe())
    assert os.path.realpath(done.stdout.strip()).startswith(os.path.realpath(venv.site_packages()) + os.sep), done.stdout


def assert_not_importable(venv, module, run):
    done = venv_import(venv, module)
    assert done.returncode != 0, "%s is still importable from %s (%s) after:\n%s" % (
        module, venv.dir, done.stdout.strip(), run.describe())


def pin_of(repo, name, rel="constraints.txt"):
    """The pin line of `name` in the repo's constraints file, or None."""
    lines = [line for line in repo.read(rel).splitlines() if line.lower().startswith(name.lower() + "==")]
    assert len(lines) <= 1, repo.read(rel)
    return lines[0] if lines else None


def tools_with_readlink(machine, tmp_path):
    """A PATH dir with `readlink`: the fast entry script's sh front follows a symlinked script with it.
    The machine's PATH has only the pythons and `sh`; a user's shell has coreutils."""
    found = shutil.which("readlink")
    if found is None:
        pytest.skip("no readlink on this machine")
    return machine.bin_dir(str(tmp_path / "readlink-bin"), versions=(), python3=None, extra={"readlink": found})


# endregion: helpers


@pytest.fixture(scope="module")
def booted(real_machine, tmp_path_factory):
    """One instant-layout repo booted cold once for this module, its entry scripts in the Python form
    (`wrap --plain`), with a start_app script in the default form (`cmd/app-fast`) beside the plain one: the broken-venv tests and the symlink tests need a booted repo
    and a cold boot costs several seconds. Each test sets up the state it needs (it breaks the venv, or
    boots first) and leaves the repo with a good venv and its entry scripts as written here."""
    repo = write_client_repo(real_machine, tmp_path_factory.mktemp("day-two") / "repo", plain=True)
    wrap(repo, "--fast", "start_app", "-s", "cmd/app-fast", "-m", "client.main:app")
    cold = repo.prime()
    if cold.code != 0:
        pytest.fail("the module's cold boot failed:\n%s" % cold.describe(), pytrace=False)
    return repo


# region: 1. a venv that lost its pyvenv.cfg


START_FORMS = {
    "plain-start_app-script": ["cmd/app"],
    "prime-start": ["./prime", "start", "client.main:app"],
    "fast-start_app-script": ["cmd/app-fast"],
}


@pytest.mark.parametrize("form", sorted(START_FORMS))
def test_start_with_a_venv_that_lost_its_pyvenv_cfg_stops_at_once_saying_run_prime(booted, form):
    """The venv is there with its stamp and its python, but `venv/pyvenv.cfg` is gone (deleted by hand, a
    half-copied venv): its python no longer knows it is a venv. Starting the app (plain start_app script,
    `./prime start`, fast start_app script) must stop at once with exit 7 and say to run ./prime; it once
    re-executed the venv's python forever at 100% CPU. Nothing is repaired: starting is read-only."""
    venv = booted.venv()
    cfg = os.path.join(venv.dir, "pyvenv.cfg")
    # given: a booted repo whose venv lost its pyvenv.cfg
    if os.path.exists(cfg):
        os.remove(cfg)
    # when: the app is started
    run = booted.run(START_FORMS[form], timeout=HANG_TIMEOUT)
    # then
    assert run.code == 7, run.describe()
    message = "ERROR the venv %s is incomplete or broken: run ./prime (boot) first to build it" % venv.dir
    assert message in run.stderr.splitlines(), run.describe()
    assert REPORT_PREFIX not in run.stdout, "the app ran:\n" + run.describe()
    assert "Traceback" not in run.stderr and "restart loop" not in run.stderr, run.describe()
    assert not os.path.exists(cfg), "a start repaired the venv:\n" + run.describe()
    assert venv.stamp() is not None and os.path.lexists(venv.python)


def test_prime_heals_a_venv_that_lost_its_pyvenv_cfg(booted):
    """After the start scripts refused the broken venv, `./prime` rebuilds it (the broken one is moved
    aside), runs the client main in the new venv, and the start_app scripts work again."""
    venv = booted.venv()
    cfg = os.path.join(venv.dir, "pyvenv.cfg")
    # given: a booted repo whose venv lost its pyvenv.cfg
    if os.path.exists(cfg):
        os.remove(cfg)
    # when
    run = booted.prime(timeout=120).assert_ok()
    # then: rebuilt, with one warning saying why
    why = "WARNING rebuilding the venv: %s has no readable pyvenv.cfg" % venv.dir
    assert why in run.stderr.splitlines(), run.describe()
    assert run.log_lines("moved %s aside to %s" % (venv.dir, booted.path("tmp", "venv.broken."))), run.describe()
    assert run.log_lines("creating the venv %s with " % venv.dir), run.describe()
    assert os.path.isfile(cfg) and "install_config" in venv.stamp(), run.describe()
    assert run.report["prefix"] == os.path.realpath(venv.dir)
    assert run.report["installed_protoprimer"] is not None
    for argv in (["cmd/app"], ["cmd/app-fast"], ["./prime", "start", "client.main:app"]):
        app = booted.run(argv, timeout=HANG_TIMEOUT).assert_ok()
        assert app.report["entry"] == "start_app" and app.report["prefix"] == os.path.realpath(venv.dir), app.describe()


# endregion

# region: 4. entry scripts started through a symlink from another directory


def link_and_elsewhere(repo, tmp_path):
    """`<tmp>/bin/prime -> <repo>/prime` and an unrelated cwd `<tmp>/elsewhere`."""
    bin_dir, elsewhere = tmp_path / "bin", tmp_path / "elsewhere"
    bin_dir.mkdir()
    elsewhere.mkdir()
    link = str(bin_dir / "prime")
    os.symlink(repo.path("prime"), link)
    return link, str(elsewhere)


def test_plain_prime_started_through_a_symlink_from_another_dir_boots(booted, tmp_path):
    """`ln -s <repo>/prime ~/bin/prime`, then `~/bin/prime` from some other directory: the entry script
    finds its kernel copy next to the real file, boots the repo (not the cwd) and runs the client main."""
    # given: a booted repo and a link to its ./prime in another dir
    booted.prime().assert_ok()
    link, elsewhere = link_and_elsewhere(booted, tmp_path)
    # when
    run = booted.run([link], cwd=elsewhere).assert_ok()
    # then
    report = run.report
    assert report["entry"] == "boot_env" and report["argv"] == [link], run.describe()
    assert report["prefix"] == os.path.realpath(booted.venv().dir)
    assert report["kernel_path"] == booted.kernel_copy
    assert run.log_lines("is up to date: nothing to install"), run.describe()
    assert os.listdir(elsewhere) == [], "paths come from the kernel copy, not the cwd"


def test_fast_prime_started_through_a_symlink_goes_straight_to_the_venv_python(booted, tmp_path):
    """The same with the fast form (`wrap --fast boot_env -s prime --force`): its sh front follows the
    link to the script, finds the venv next to it and, the venv being good, starts the venv's python
    directly: the run is one process at stride_py_unknown in the venv's python, with no restart."""
    venv = booted.venv()
    path = booted.machine.path(booted.machine.default_bin, tools_with_readlink(booted.machine, tmp_path))
    env = booted.machine.env(path=path)
    # given: a booted repo whose ./prime is the fast form, and a link to it in another dir
    booted.prime().assert_ok()
    wrap(booted, "--fast", "boot_env", "-s", "prime", "-m", "client.main:main", "--force")
    try:
        link, elsewhere = link_and_elsewhere(booted, tmp_path)
        # when: started through the link, twice
        first = booted.run([link], cwd=elsewhere, env=env).assert_ok()
        second = booted.run([link], cwd=elsewhere, env=env).assert_ok()
    finally:
        wrap(booted, "--plain", "boot_env", "-s", "prime", "-m", "client.main:main", "--force")  # the module's ./prime again
    # then: both ran the client main in the venv
    for run in (first, second):
        report = run.report
        assert report["entry"] == "boot_env" and report["argv"] == [link], run.describe()
        assert report["prefix"] == os.path.realpath(venv.dir)
        assert report["kernel_path"] == booted.kernel_copy
        assert "readlink" not in run.stderr and "not found" not in run.stderr, run.describe()
    # and the second one started the venv's python directly: no restart, one stride, that python
    assert not second.log_lines("restarting as "), second.describe()
    assert second.log_lines("py:stride_py_unknown ") and not second.log_lines("py:stride_deps_updated"), second.describe()
    assert second.log.splitlines()[-1].startswith("SUCCESS [0]: %s " % venv.python), second.describe()
    assert second.report["executable"] == venv.python
    assert os.listdir(elsewhere) == []


# endregion

# region: 2. a dependency removed from (and added back to) pyproject.toml


def test_a_dependency_removed_then_added_back_leaves_and_returns_to_the_venv_and_the_pins(make_repo):
    """The client project depends on iniconfig (a wheel of the session's wheelhouse). Removing it from
    pyproject.toml and running ./prime leaves a venv without it (as a fresh clone would get) and pins
    without it, and says which pin it dropped; adding it back installs it again and says so."""
    repo = make_repo(dependencies=("protoprimer", "iniconfig"))
    venv = repo.venv()
    # given: a booted repo with iniconfig installed and pinned
    boot = repo.prime().assert_ok()
    assert_importable(venv, "iniconfig", boot)
    pin = pin_of(repo, "iniconfig")
    assert pin is not None, boot.describe() + repo.read("constraints.txt")

    # when: the dependency is removed
    repo.write("pyproject.toml", client_pyproject(["protoprimer"]))
    dropped = repo.prime().assert_ok()
    # then
    assert_not_importable(venv, "iniconfig", dropped)
    assert pin_of(repo, "iniconfig") is None, repo.read("constraints.txt")
    assert pin_of(repo, "protoprimer") is not None, repo.read("constraints.txt")
    assert "protoprimer: constraints.txt: dropped %s (no longer required)" % pin in dropped.stderr.splitlines(), dropped.describe()
    assert dropped.report["prefix"] == os.path.realpath(venv.dir)

    # when: it is added back
    repo.write("pyproject.toml", client_pyproject(["protoprimer", "iniconfig"]))
    added = repo.prime().assert_ok()
    # then
    assert_importable(venv, "iniconfig", added)
    assert pin_of(repo, "iniconfig") == pin, repo.read("constraints.txt")
    assert "protoprimer: constraints.txt: added %s" % pin in added.stderr.splitlines(), added.describe()
    assert "dropped" not in added.stderr, added.describe()


# endregion

# region: 3. dependencies read from requirements.txt by the build


DYNAMIC_PYPROJECT = client_pyproject([]).replace("dependencies = []", 'dynamic = ["dependencies"]') + (
    '\n[tool.setuptools.dynamic]\ndependencies = { file = ["requirements.txt"] }\n')


def test_a_line_added_to_a_requirements_file_read_by_the_build_installs_once(make_repo):
    """The project's dependencies come from requirements.txt (`dynamic = ["dependencies"]` and
    `[tool.setuptools.dynamic]`): pyproject.toml does not change when a requirement is added there, yet
    the next ./prime installs it; the run after that installs nothing."""
    repo = make_repo(files={"pyproject.toml": DYNAMIC_PYPROJECT, "requirements.txt": "protoprimer\n"})
    venv = repo.venv()
    # given: a booted repo without iniconfig
    boot = repo.prime().assert_ok()
    assert boot.report["installed_protoprimer"] is not None, "requirements.txt was not read:\n" + boot.describe()
    assert_not_importable(venv, "iniconfig", boot)

    # when: a requirement is added to requirements.txt
    repo.write("requirements.txt", "protoprimer\niniconfig\n")
    run = repo.prime().assert_ok()
    # then: it is installed and pinned
    assert_importable(venv, "iniconfig", run)
    pin = pin_of(repo, "iniconfig")
    assert pin is not None, run.describe() + repo.read("constraints.txt")
    assert "protoprimer: constraints.txt: added %s" % pin in run.stderr.splitlines(), run.describe()

    # when: ./prime runs again
    before = venv.installed()
    constraints = repo.read("constraints.txt")
    warm = repo.prime().assert_ok()
    # then: nothing is installed
    assert venv.installed() == before, warm.describe()
    assert repo.read("constraints.txt") == constraints
    assert warm.log_lines("is up to date: nothing to install"), warm.describe()
    assert not warm.log_lines("installing") and "protoprimer: " not in warm.stderr, warm.describe()


# endregion

# region: 5. a failed --env switch


def test_a_failed_env_switch_leaves_lconf_on_the_env_before_it(make_repo):
    """A max-layout repo with two envs; the second requires Python 3.99, which is not on PATH. Switching
    to it fails with exit 5 naming that env's own config file (not the lconf path), says where lconf
    stays, and leaves lconf on the default env, so a plain ./prime still works."""
    repo = make_repo(
        layout="max",
        default_env="dst/default",
        envs={"dst/default": {}, "dst/py399": {"required_python_version": "3.99"}},
    )
    # given: the default env booted
    repo.prime().assert_ok()
    assert os.readlink(repo.path("lconf")) == "dst/default"

    # when: switching to the env whose Python is missing
    failed = repo.prime("--env", "dst/py399")
    # then
    assert failed.code == 5, failed.describe()
    conf = repo.path("dst/py399/proto_kernel.json")
    assert "no Python 3.99 found (required by field required_python_version in %s)" % conf in failed.stderr, failed.describe()
    assert "lconf/proto_kernel.json" not in failed.stderr, failed.describe()
    assert "still points at" in failed.stderr, failed.describe()
    stays = "WARNING %s still points at %s (the env before this run)" % (
        repo.path("lconf"), os.path.realpath(repo.path("dst/default")))
    assert stays in failed.stderr, failed.describe()
    assert os.readlink(repo.path("lconf")) == "dst/default", failed.describe()
    assert REPORT_PREFIX not in failed.stdout, failed.describe()

    # when: a plain ./prime follows
    plain = repo.prime().assert_ok()
    # then: the default env, as before, with nothing to do
    assert plain.report["config"]["state_selected_env_dir_rel_path_inited"] == "dst/default", plain.describe()
    assert plain.report["prefix"] == os.path.realpath(repo.venv().dir)
    assert plain.log_lines("is up to date: nothing to install"), plain.describe()
    assert os.readlink(repo.path("lconf")) == "dst/default"


# endregion
