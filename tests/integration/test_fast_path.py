"""The entry script's fast path on real repos, real shells and real tools (issue 11): the shell front of the
default entry script (`wrap` on POSIX) ends a warm no-op itself, or runs `-c CMD` in the venv, when the
venv's record of its last good boot (`protoprimer.fast`) says nothing it names has changed, by content
(cksum). The fast tier simulates the front by meaning (scenarios/fast); here `/bin/sh` runs it, with
`ls` and `cksum` on PATH as on any POSIX machine, and every way an input can change without a new
modification time, or get one without a change, is tried.

How a run is judged: the kernel writes a file log on every boot it runs, so a run that left no new log
file ran no kernel; where strace works, the python processes a run started are counted too.
"""

import os
import shutil
import subprocess

import pytest

from client_repos import REPORT_PREFIX, client_pyproject, write_client_repo

pytestmark = pytest.mark.integration

PREVIOUS_FORMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios", "fast", "files")


# region: helpers


def coreutils(machine, tmp_path):
    """A PATH dir with what the front runs besides builtins (`ls`, `cksum`, `readlink`); the machine's PATH
    has only the pythons and `sh`, and `git` for the branch test."""
    extra = {}
    for name in ("ls", "cksum", "readlink", "git"):
        found = shutil.which(name)
        if found is None and name != "git":
            pytest.skip("no %s on this machine" % name)
        if found is not None:
            extra[name] = found
    return machine.bin_dir(str(tmp_path / "coreutils"), versions=(), python3=None, extra=extra)


def strace_pythons(repo, argv, env):
    """The python executables the command started (successful execve of a file named python*), or None when
    strace cannot run here."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    out = os.path.join(repo.root, "..", "strace.out")
    done = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", out] + argv, cwd=repo.root, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and not os.path.exists(out):
        return None
    with open(out, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    os.remove(out)
    started = []
    for line in lines:
        if "execve(" in line and line.rstrip().endswith("= 0"):
            path = line.split('execve("', 1)[1].split('"', 1)[0]
            if os.path.basename(path).startswith("python"):
                started.append(path)
    return started


class FastRepo(object):
    """A booted instant-layout repo with `./boot` (no client main), `./prime` (client.main:main) and
    `cmd/app` (start_app), all in the default form, and a PATH with the coreutils."""

    def __init__(self, repo, env):
        self.repo = repo
        self.env = env

    def run(self, *argv, **kwargs):
        env = dict(self.env, **kwargs.pop("extra_env", {}))
        return self.repo.run(list(argv), env=env, **kwargs)

    def kernel_ran(self, run):
        return bool(run.logs)

    def settle(self):
        """Boot until a no-op run recorded what the front sees (the cold boot records the inputs, the next
        run how they look); return the last run."""
        for _ in range(3):
            run = self.run("./boot").assert_ok()
            if not self.kernel_ran(run):
                return run
        raise AssertionError("three runs and the front still leaves the no-op to the kernel:\n%s\n%s" % (
            run.describe(), self.record()))

    def record(self):
        with open(os.path.join(self.repo.root, "venv", "protoprimer.fast"), encoding="utf-8") as f:
            return f.read()

    def assert_front_noop(self, *argv, **kwargs):
        run = self.run(*(argv or ("./boot",)), **kwargs).assert_ok()
        assert not self.kernel_ran(run), "the kernel ran:\n%s" % run.describe()
        return run

    def assert_kernel_ran(self, *argv):
        run = self.run(*(argv or ("./boot",))).assert_ok()
        assert self.kernel_ran(run), "the front ended the run, the kernel did not run:\n%s" % run.describe()
        return run


def edit_keeping_mtime(path, change):
    """Rewrite the file with `change(text)`, then put its times back as they were (a tool that keeps them)."""
    st = os.stat(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(change(text))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns


@pytest.fixture
def fast_repo(make_repo, real_machine, tmp_path):
    repo = make_repo()
    wrap = subprocess.run([real_machine.python(real_machine.primary), repo.kernel_copy, "wrap", "boot_env", "-s", "boot"],
                          cwd=repo.root, env=real_machine.env(), capture_output=True, text=True, timeout=60)
    assert wrap.returncode == 0, wrap.stderr
    env = real_machine.env(path=real_machine.path(real_machine.default_bin, coreutils(real_machine, tmp_path)),
                           SHELL=shutil.which("sh") or "/bin/sh")
    fast = FastRepo(repo, env)
    fast.run("./boot").assert_ok()
    fast.settle()
    return fast


# endregion: helpers

# region: the no-op, -c, a client main, start_app


def test_a_warm_noop_without_a_main_starts_no_interpreter(fast_repo):
    # when
    run = fast_repo.assert_front_noop()
    # then: nothing on either stream, and no python process at all
    assert (run.stdout, run.stderr) == ("", ""), run.describe()
    started = strace_pythons(fast_repo.repo, ["./boot"], fast_repo.env)
    if started is not None:
        assert started == [], "a warm no-op started %s" % started


def test_dash_c_runs_the_command_in_the_activated_venv_without_python(fast_repo):
    venv = fast_repo.repo.venv()
    command = 'echo "VENV=$VIRTUAL_ENV"; echo "FIRST=${PATH%%:*}"; echo "FAST=${PROTOPRIMER_FAST-unset}"'
    # when
    run = fast_repo.assert_front_noop("./boot", "-c", command)
    # then: CMD ran with the venv activated as the kernel activates it, and no PROTOPRIMER_* variable
    assert run.stdout.splitlines() == ["VENV=%s" % venv.dir, "FIRST=%s/bin" % venv.dir, "FAST=unset"], run.describe()
    started = strace_pythons(fast_repo.repo, ["./boot", "-c", "true"], fast_repo.env)
    if started is not None:
        assert started == [], "./boot -c true started %s" % started
    # and its exit code is the command's
    assert fast_repo.run("./boot", "-c", "exit 3").code == 3


def test_dash_c_gives_the_same_environment_as_the_kernel(fast_repo):
    """The front's `-c` and the kernel's (forced by a knob) give CMD the same environment (`export -p`: what
    the shell got, but for what the shell sets itself), PYTHONPATH and a foreign prompt included."""
    extra = {"PYTHONPATH": "/elsewhere", "VIRTUAL_ENV_PROMPT": "(other)"}
    front = fast_repo.assert_front_noop("./boot", "-c", "export -p", extra_env=extra)
    kernel = fast_repo.run("./boot", "-c", "export -p", extra_env=dict(extra, PROTOPRIMER_STDERR_LOG_LEVEL="WARNING")).assert_ok()
    assert fast_repo.kernel_ran(kernel)

    def exported(run):
        return sorted(line for line in run.stdout.splitlines() if not line.split("=")[0].endswith((" PWD", " OLDPWD", " _")))

    assert exported(front) == exported(kernel), front.describe() + kernel.describe()
    assert not [line for line in exported(front) if "PYTHONPATH" in line or "PROTOPRIMER_" in line], front.describe()


def test_a_client_main_runs_in_one_interpreter_the_venvs(fast_repo):
    venv = fast_repo.repo.venv()
    # when
    run = fast_repo.run("./prime").assert_ok()
    # then: the main ran in the venv's python, saw no PROTOPRIMER_* variable, found its config and kernel
    report = run.report
    assert report["prefix"] == os.path.realpath(venv.dir) and report["protoprimer_vars"] == [], run.describe()
    assert report["kernel_path"] == fast_repo.repo.kernel_copy
    assert report["config"]["state_local_venv_dir_abs_path_inited"] == venv.dir
    assert not fast_repo.kernel_ran(run), "the record verified: no boot, no file log\n%s" % run.describe()
    started = strace_pythons(fast_repo.repo, ["./prime"], fast_repo.env)
    if started is not None:
        assert len(started) == 1 and os.path.realpath(started[0]) == os.path.realpath(venv.python), started


def test_start_app_runs_the_app_in_one_interpreter(fast_repo):
    run = fast_repo.run("cmd/app", "--flag").assert_ok()
    assert run.report["argv"] == ["cmd/app", "--flag"] and run.report["protoprimer_vars"] == [], run.describe()
    started = strace_pythons(fast_repo.repo, ["cmd/app"], fast_repo.env)
    if started is not None:
        assert len(started) == 1, started


# endregion

# region: changes the front must see, and non-changes it may sort out by running the kernel once


def test_an_edit_that_keeps_the_mtime_is_noticed(fast_repo):
    """pyproject.toml gains a dependency, its modification time put back: the content decides."""
    repo = fast_repo.repo
    edit_keeping_mtime(repo.path("pyproject.toml"), lambda text: client_pyproject(["protoprimer", "iniconfig"]))
    # when
    run = fast_repo.assert_kernel_ran()
    # then: the kernel installed it
    assert run.log_lines("changed since the last install"), run.describe()
    done = subprocess.run([repo.venv().python, "-I", "-c", "import iniconfig"], capture_output=True, timeout=60)
    assert done.returncode == 0, run.describe()
    fast_repo.settle()


def test_a_constraints_edit_that_keeps_the_mtime_is_noticed(fast_repo):
    repo = fast_repo.repo
    edit_keeping_mtime(repo.path("constraints.txt"), lambda text: text + "# pinned by hand\n")
    run = fast_repo.assert_kernel_ran()
    assert run.log_lines("the constraints file"), run.describe()


def test_a_config_edit_that_keeps_the_mtime_is_noticed(fast_repo):
    """A config file that did not exist appears (the primer config next to the copy), then changes with its
    mtime put back: both times the kernel runs, and the second time it follows the changed field."""
    repo = fast_repo.repo
    repo.write("proto_kernel.json", '{"local_log_dir_rel_path": "log"}\n')
    fast_repo.assert_kernel_ran()
    fast_repo.settle()
    edit_keeping_mtime(repo.path("proto_kernel.json"), lambda text: '{"local_log_dir_rel_path": "logs"}\n')
    run = fast_repo.assert_kernel_ran()
    assert [os.path.basename(os.path.dirname(path)) for path in run.logs] == ["logs"], run.describe()


def test_a_touch_without_change_installs_nothing(fast_repo):
    """A new modification time alone: the kernel runs once (the front cannot tell a touch from an edit made
    and undone during a run), finds nothing to do, and the next run is the front's no-op again."""
    repo = fast_repo.repo
    installed = repo.venv().installed()
    os.utime(repo.path("pyproject.toml"))
    run = fast_repo.run("./boot").assert_ok()
    if fast_repo.kernel_ran(run):
        assert run.log_lines("is up to date: nothing to install"), run.describe()
    assert repo.venv().installed() == installed
    fast_repo.settle()


def test_a_git_checkout_of_another_branch_is_noticed(fast_repo, tmp_path):
    """Another branch has another pyproject.toml (a dependency more); checking it out, then back."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("no git on this machine")
    repo = fast_repo.repo

    def run_git(*args):
        done = subprocess.run([git, "-c", "user.email=t@example.com", "-c", "user.name=t"] + list(args), cwd=repo.root,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done

    run_git("init", "-q", "-b", "main")
    run_git("add", "pyproject.toml")
    run_git("commit", "-q", "-m", "main")
    run_git("checkout", "-q", "-b", "other")
    repo.write("pyproject.toml", client_pyproject(["protoprimer", "iniconfig"]))
    run_git("commit", "-q", "-am", "other")
    run_git("checkout", "-q", "main")
    fast_repo.settle()
    # when: the other branch
    run_git("checkout", "-q", "other")
    run = fast_repo.assert_kernel_ran()
    assert subprocess.run([repo.venv().python, "-I", "-c", "import iniconfig"], timeout=60).returncode == 0, run.describe()
    fast_repo.settle()
    # and back
    run_git("checkout", "-q", "main")
    run = fast_repo.assert_kernel_ran()
    assert subprocess.run([repo.venv().python, "-I", "-c", "import iniconfig"], capture_output=True,
                          timeout=60).returncode != 0, run.describe()


def test_a_knob_sends_every_run_to_the_kernel(fast_repo):
    for _ in range(2):
        run = fast_repo.run("./boot", extra_env={"PROTOPRIMER_STDERR_LOG_LEVEL": "INFO"}).assert_ok()
        assert fast_repo.kernel_ran(run) and "nothing to install" in run.stderr, run.describe()
    fast_repo.assert_front_noop()  # a run with a knob neither reads nor writes the record: it holds for runs without


def test_a_path_change_does_not_change_the_verdict(fast_repo, real_machine, tmp_path):
    """PATH decides which interpreter a new venv is made from, not what a warm run does: the venv keeps its
    interpreter while that file is unchanged. With another Python first on PATH the kernel itself finds
    nothing to do, and the front agrees."""
    other = real_machine.other_version()
    if other is None:
        pytest.skip("only one Python version on this machine")
    first = real_machine.bin_dir(str(tmp_path / "other-first"), versions=(other,), python3=other)
    env = dict(fast_repo.env, PATH=first + os.pathsep + fast_repo.env["PATH"])
    kernel = fast_repo.repo.run(["./boot", "-v"], env=env).assert_ok()
    assert "nothing to install" in kernel.stderr, kernel.describe()
    run = fast_repo.repo.run(["./boot"], env=env).assert_ok()
    assert not fast_repo.kernel_ran(run), run.describe()


def test_an_env_switch_by_the_link_is_noticed(real_machine, tmp_path):
    """Max layout: lconf re-pointed by hand at an env whose config names another venv dir; the front sees the
    link lead elsewhere and leaves the run to the kernel, which builds that env's venv."""
    repo = write_client_repo(real_machine, tmp_path / "repo", layout="max", default_env="dst/a",
                             envs={"dst/a": {}, "dst/b": {"local_venv_dir_rel_path": "venv.b"}})
    wrap = subprocess.run([real_machine.python(real_machine.primary), repo.kernel_copy, "wrap", "boot_env", "-s", "boot"],
                          cwd=repo.root, env=real_machine.env(), capture_output=True, text=True, timeout=60)
    assert wrap.returncode == 0, wrap.stderr
    fast = FastRepo(repo, real_machine.env(path=real_machine.path(real_machine.default_bin, coreutils(real_machine, tmp_path))))
    fast.run("./boot").assert_ok()
    fast.settle()
    os.remove(repo.path("lconf"))
    os.symlink("dst/b", repo.path("lconf"))
    fast.assert_kernel_ran()
    assert repo.venv("venv.b").stamp() is not None


def test_without_cksum_on_path_the_kernel_decides(fast_repo, real_machine):
    """The front needs ls and cksum: without them (the machine's own PATH has neither) it leaves the run to
    the venv's python, whose kernel verifies the record itself (one interpreter, no boot), and nothing is
    printed about the missing tools."""
    env = dict(fast_repo.env, PATH=real_machine.path())
    run = fast_repo.repo.run(["./boot"], env=env).assert_ok()
    assert (run.stdout, run.stderr, run.logs) == ("", "", {}), run.describe()
    started = strace_pythons(fast_repo.repo, ["./boot"], env)
    if started is not None:
        assert len(started) == 1, started
    # and a change is still seen: the kernel verifies the content too
    edit_keeping_mtime(fast_repo.repo.path("constraints.txt"), lambda text: text + "# pinned by hand\n")
    run = fast_repo.repo.run(["./boot"], env=env).assert_ok()
    assert fast_repo.kernel_ran(run), run.describe()


# endregion

# region: entry scripts of the previous version


@pytest.mark.parametrize("form", ["prime-previous-plain-form", "prime-previous-fast-form"])
def test_an_entry_script_of_the_previous_version_keeps_working(fast_repo, form):
    """A repo whose `./boot` was written by the previous version's `wrap` (the Python form, its default then;
    or `--fast`, the front without the no-op): it boots and runs as before. The copy's self-update never
    rewrites it."""
    repo = fast_repo.repo
    shutil.copy(os.path.join(PREVIOUS_FORMS, form), repo.path("boot"))
    with open(repo.path("boot"), encoding="utf-8") as f:
        before = f.read()
    for _ in range(2):
        run = fast_repo.run("./boot").assert_ok()
        assert fast_repo.kernel_ran(run) and run.log_lines("nothing to install"), run.describe()
    with open(repo.path("boot"), encoding="utf-8") as f:
        assert f.read() == before


# endregion
