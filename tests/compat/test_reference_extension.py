"""The reference's extension API (protoprimer 0.13: ContextBuilder, EnvContext.register_factory, run_process,
@trivial_factory AbstractCachingStateNode classes) used from client boot_env mains, in a real repo after a
real boot.

What nobody here wrote, and runs unchanged: the entry scripts (the reference kernel's own `wrap`), and
metaprimer 0.2.0's `Bootstrapper_state_pre_commit_configured` (from its pinned sdist, installed into the
client venv), which runs `<venv>/bin/pre-commit install --config <global conf dir>/pre_commit.yaml` inside a
git work tree (pre-commit itself is pinned in tests/tool-pins.txt and installed as a client dependency).

The two client mains are written here, in the form of the reference's own: its repo's `cmd_prime_env`
(metaprimer's state as the forced final state, registered with `replace_existing=True`) and its documented
hello world `cmd_boot_env_example` (a @trivial_factory node class whose state name comes from an enum
declared after it, whose member's value is the class; parent `TargetState.target_proto_bootstrap_completed`;
the int it returns is the exit code). The reference's files themselves are public repository code, which
stays out of this repo's commits; they are not shipped in any sdist, so they cannot be fetched like the
pinned artefacts.

Costly fixture: `booted` makes the repo and boots it cold once per module through `./cmd/prime_env` (a venv
with metaprimer, pre-commit and our protoprimer), then warm; the other tests run entry scripts in it.
Every run has `git` on PATH (the machine's PATH holds only interpreters and `sh`): metaprimer's state asks
git whether the repo is a work tree, and pre-commit writes the hook through it.
"""

import os
import shutil
import subprocess

import pytest

from compat_repos import error_lines, write_reference_repo

PRE_COMMIT_STATE = "state_pre_commit_configured"
HELLO_STATE = "state_hello_world_printed"

# A client boot_env main in the form of the reference repo's `cmd_prime_env` (0.13 API): metaprimer's state
# is the final state; its parents are the end of the bootstrap, the global conf file and the ref root.
CLIENT_PRIME_ENV = '''\
"""boot_env main: the bootstrap, then metaprimer's pre-commit state (the git hook)."""
from __future__ import annotations

from metaprimer.pre_commit import Bootstrapper_state_pre_commit_configured as PreCommitConfigured
from protoprimer.primer_kernel import ContextBuilder, EntryFunc, run_process


def custom_main():
    state_name = PreCommitConfigured._state_name()
    env_ctx = ContextBuilder().entry_func(EntryFunc.func_boot_env).forced_final_state(state_name).build_context()
    env_ctx.register_factory(state_name, PreCommitConfigured, replace_existing=True)
    run_process(env_ctx)
'''

# A client boot_env main in the form of the reference's documented hello world (`cmd_boot_env_example`).
CLIENT_BOOT_ENV_EXAMPLE = '''\
"""boot_env main: the bootstrap, then one client state that greets."""
from __future__ import annotations

import enum

from protoprimer.primer_kernel import (
    AbstractCachingStateNode,
    ContextBuilder,
    EntryFunc,
    TargetState,
    ValueType,
    run_process,
    trivial_factory,
)


@trivial_factory
class HelloWorldPrinted(AbstractCachingStateNode[int]):
    _parent_states = staticmethod(lambda: [TargetState.target_proto_bootstrap_completed.value.name])
    # ClientState is declared below: the lambda is called only when the class is registered
    _state_name = staticmethod(lambda: ClientState.state_hello_world_printed.name)

    def _eval_state_once(self) -> ValueType:
        print("Hello, world!")
        return 0


class ClientState(enum.Enum):
    state_hello_world_printed = HelloWorldPrinted


def custom_boot_env_main():
    env_ctx = (
        ContextBuilder()
        .entry_func(EntryFunc.func_boot_env)
        .forced_final_state(ClientState.state_hello_world_printed.name)
        .build_context()
    )
    env_ctx.register_factory(ClientState.state_hello_world_printed.name, HelloWorldPrinted)
    run_process(env_ctx)
'''

SCRIPTS = (
    ("boot_env", "cmd/prime_env", "client.cmd_prime_env:custom_main"),
    ("boot_env", "cmd/boot_env_example", "client.cmd_boot_env_example:custom_boot_env_main"),
)

# Where metaprimer's state reads the pre-commit config: next to the global conf file, which for the
# instant layout (no JSON) is `<ref root>/gconf/protoprimer.json` (docs/config.md; test (a) checks it).
PRE_COMMIT_CONF_REL = "gconf/pre_commit.yaml"
PRE_COMMIT_CONF = "repos: []\n"
HOOK_REL = ".git/hooks/pre-commit"


def _git(repo, *args):
    result = subprocess.run(["git"] + list(args), cwd=repo.root, env=repo.env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, "git %s failed:\n%s%s" % (" ".join(args), result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def booted(real_machine, artefacts, pre_commit_wheels, tmp_path_factory):
    """The repo (a git work tree), after `./cmd/prime_env` cold (`.cold`) and again (`.warm`). `.env` is
    the environment every run gets: the machine's, with git on PATH."""
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is not on this machine's PATH: metaprimer's pre-commit state needs it", pytrace=False)
    env = real_machine.env(path=real_machine.path(real_machine.bin_dir("bin-git", extra={"git": git})))
    repo = write_reference_repo(
        real_machine, artefacts, tmp_path_factory.mktemp("compat-extension") / "repo", SCRIPTS,
        layout="instant", dependencies=[artefacts.metaprimer_requirement, "pre-commit"],
        files={
            "client/cmd_prime_env.py": CLIENT_PRIME_ENV,
            "client/cmd_boot_env_example.py": CLIENT_BOOT_ENV_EXAMPLE,
            PRE_COMMIT_CONF_REL: PRE_COMMIT_CONF,
        },
    )
    repo.env = env
    _git(repo, "-c", "init.defaultBranch=main", "init", "-q")
    repo.cold = repo.run(["./cmd/prime_env"], env=env)
    hook = repo.path(HOOK_REL)
    repo.hook_after_cold = repo.read(HOOK_REL) if os.path.isfile(hook) else None
    repo.warm = repo.run(["./cmd/prime_env"], env=env) if repo.cold.code == 0 else None
    return repo


@pytest.fixture
def repo(booted):
    if not os.path.isfile(booted.venv().python):
        pytest.fail("the shared repo has no venv: the cold ./cmd/prime_env did not build it:\n%s"
                    % booted.cold.describe(), pytrace=False)
    return booted


def test_prime_env_boots_cold_and_metaprimer_state_installs_the_pre_commit_hook(booted, artefacts, pre_commit_wheels):
    """(a) `./cmd/prime_env` (the reference's entry script; a client main registering metaprimer's state with
    the reference's API) boots cold to exit 0, with metaprimer and pre-commit in the venv; the state ran after
    the boot: `.git/hooks/pre-commit` is pre-commit's hook for `<global conf dir>/pre_commit.yaml`, run by the
    venv's python."""
    assert 'proto_kernel.boot_env("client.cmd_prime_env:custom_main")' in booted.read("cmd/prime_env")
    booted.cold.assert_ok()
    venv = booted.venv()
    dists = venv.dist_infos()
    assert "metaprimer-%s.dist-info" % artefacts.metaprimer_version in dists, dists
    assert "pre_commit-%s.dist-info" % pre_commit_wheels in dists, dists
    assert os.path.isfile(os.path.join(venv.dir, "bin", "pre-commit")), booted.cold.describe()
    hook = booted.path(HOOK_REL)
    assert booted.hook_after_cold is not None, "no git hook after the cold boot:\n%s" % booted.cold.describe()
    assert os.access(hook, os.X_OK), hook
    text = booted.hook_after_cold
    assert "File generated by pre-commit" in text, text
    assert "--config=%s " % PRE_COMMIT_CONF_REL in text, text  # pre-commit writes it relative to the git root
    assert "--hook-type=pre-commit" in text, text
    assert venv.python in text, text  # pre-commit's INSTALL_PYTHON: the venv's python ran it


def test_prime_env_warm_exits_0_and_keeps_the_hook(repo):
    """(a) A second `./cmd/prime_env` exits 0 too (pre-commit install again, the same hook)."""
    repo.warm.assert_ok()
    assert "pre-commit installed at %s" % HOOK_REL in repo.warm.stdout, repo.warm.describe()
    assert repo.read(HOOK_REL) == repo.hook_after_cold


def test_global_conf_file_is_where_metaprimer_looks_for_pre_commit_yaml(repo):
    """(a) metaprimer reads `<dirname of state_global_conf_file_abs_path_inited>/pre_commit.yaml`: for this
    layout that dir is `<root>/gconf`, as the test's config file assumes (asked of the installed kernel's
    derived config, in the venv)."""
    code = ("from protoprimer.primer_kernel import EnvState, get_config; "
            "print(get_config()[EnvState.state_global_conf_file_abs_path_inited.name])")
    run = repo.run([repo.venv().python, "-c", code], env=repo.env).assert_ok()
    lines = run.stdout.splitlines()
    assert lines and os.path.dirname(lines[-1]) == repo.path("gconf"), run.describe()


def test_hello_world_prints_and_exits_0(repo):
    """(b) `./cmd/boot_env_example` (the reference's entry script; a client state in the form of the
    reference's hello world) prints `Hello, world!` once, after the bootstrap, and exits 0 with no error; with
    `-v`, stderr has the reference's exit line `SUCCESS [0]`."""
    assert 'proto_kernel.boot_env("client.cmd_boot_env_example:custom_boot_env_main")' in repo.read("cmd/boot_env_example")
    run = repo.run(["./cmd/boot_env_example"], env=repo.env).assert_ok()
    assert run.stdout.splitlines() == ["Hello, world!"], run.describe()
    assert not error_lines(run) and "SUCCESS" not in run.stderr, run.describe()
    verbose = repo.run(["./cmd/boot_env_example", "-v"], env=repo.env).assert_ok()
    assert verbose.stdout.splitlines() == ["Hello, world!"], verbose.describe()
    assert "SUCCESS [0]" in verbose.stderr, verbose.describe()


def test_hello_world_with_an_unknown_target_is_a_usage_error_listing_the_targets(repo):
    """(c) `./cmd/boot_env_example --target nope`: exit 2, nothing printed by the client state, and stderr
    names `nope` and lists the known targets (`boot` among them)."""
    run = repo.run(["./cmd/boot_env_example", "--target", "nope"], env=repo.env).assert_ok(2)
    assert "Hello, world!" not in run.stdout, run.describe()
    errors = error_lines(run)
    assert len(errors) == 1, run.describe()
    assert "nope" in errors[0] and "boot" in errors[0], run.describe()


def test_hello_world_target_by_its_state_name(repo):
    """(c) The client state is a target by its name: `--target state_hello_world_printed` prints once and
    exits 0."""
    run = repo.run(["./cmd/boot_env_example", "--target", HELLO_STATE], env=repo.env).assert_ok()
    assert run.stdout.splitlines() == ["Hello, world!"], run.describe()


def test_prime_env_outside_a_git_work_tree_skips_pre_commit(repo):
    """metaprimer's state outside a git work tree (here: git not on PATH, which the state treats the same)
    returns 0 without running pre-commit: exit 0."""
    run = repo.run(["./cmd/prime_env"]).assert_ok()  # the machine's own env: no git
    assert not error_lines(run), run.describe()
    assert "pre-commit installed" not in run.stdout, run.describe()


def test_a_failing_pre_commit_install_is_one_error_naming_the_state_and_exit_11(repo):
    """(d) When pre-commit install fails inside metaprimer's state (here: git's `core.hooksPath` is set, which
    pre-commit refuses to install under), the run ends with exit 11 and one ERROR line naming
    `state_pre_commit_configured`. (A missing pre_commit.yaml is no failure: pre-commit installs the hook
    without reading it.)"""
    _git(repo, "config", "core.hooksPath", "elsewhere")
    try:
        run = repo.run(["./cmd/prime_env"], env=repo.env)
    finally:
        _git(repo, "config", "--unset", "core.hooksPath")
    run.assert_ok(11)
    errors = error_lines(run)
    assert len(errors) == 1 and PRE_COMMIT_STATE in errors[0], run.describe()
