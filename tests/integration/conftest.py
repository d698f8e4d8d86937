"""The integration tier: real client repos, the real ./prime and entry scripts as subprocesses, real
interpreters found at test time, real venvs.

Every test here is marked `integration` (deselect the tier with `-m "not integration"`) and runs after
the rest of the suite. Costly things are made once per session: the wheelhouse (setuptools and wheel for
the editable builds, the protoprimer wheel, uv when the uv test asks for it) and one booted repo that the
read-only tests share.
"""

import os
import subprocess
import sys

import pytest

from client_repos import RealMachine, build_wheelhouse, snapshot_source, write_client_repo
from protoprimer_harness._real_interpreters import find_real_interpreters

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))


def pytest_collection_modifyitems(session, config, items):
    """Mark every test of this directory `integration` and move them after all other tests (stable)."""
    ours, others = [], []
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.integration)
            ours.append(item)
        else:
            others.append(item)
    items[:] = others + ours


def _can_make_venvs(python):
    """Whether `python` has the venv and ensurepip modules (a distro Python may not: python3-venv)."""
    try:
        return subprocess.run([python, "-c", "import venv, ensurepip"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _usable_interpreters():
    """The real interpreters found at test time; those of 3.7+ only when they can make venvs (2.7 and 3.6
    are kept: the tests of the version gate run them)."""
    return dict((v, path) for v, path in find_real_interpreters().items() if v < (3, 7) or _can_make_venvs(path))


def _primary_version(found):
    """The version most runs use: this test process's own when it is among the real interpreters, else
    the newest supported one (3.8+: the build backend must still support it)."""
    running = tuple(sys.version_info[:2])
    if running in found and running >= (3, 8):
        return running
    candidates = [v for v in found if (3, 8) <= v]
    return max(candidates) if candidates else None


@pytest.fixture(scope="session")
def real_machine(tmp_path_factory):
    found = _usable_interpreters()
    primary = _primary_version(found)
    if primary is None:
        pytest.skip("no real Python 3.8+ with venv and ensurepip found on this machine (pyenv or python3.X on PATH)")
    root = tmp_path_factory.mktemp("machine")
    wheelhouse = str(root / "wheelhouse")
    home = str(root / "home")
    os.makedirs(home)
    snapshot = str(root / "protoprimer-src")
    kernel_file = snapshot_source(SOURCE_ROOT, snapshot)
    machine = RealMachine(str(root / "dirs"), found, primary, wheelhouse, home, kernel_file)
    versions = sorted({primary, tuple(sys.version_info[:2])} | ({machine.other_version()} - {None}))
    problem = build_wheelhouse(wheelhouse, snapshot, versions)
    if problem:
        pytest.fail("cannot build the session's wheelhouse (the package index must be reachable for "
                    "setuptools and wheel): %s" % problem, pytrace=False)
    return machine


@pytest.fixture
def make_repo(real_machine, tmp_path):
    """`make_repo(name="repo", **options)`: a new client repo under tmp_path (see write_client_repo)."""

    def make(name="repo", **options):
        return write_client_repo(real_machine, tmp_path / name, **options)

    return make


@pytest.fixture(scope="session")
def booted_repo(real_machine, tmp_path_factory):
    """One max-layout repo booted cold once per session, for tests that only read it (or that run warm
    boots, which write only their own log file). `booted_repo.cold` is the cold boot's Run. Its entry
    scripts are in the Python form (`wrap --plain`): its tests follow that form's chain (python3, then the
    venv's python); test_fast_path.py has the default form's."""
    repo = write_client_repo(
        real_machine,
        tmp_path_factory.mktemp("booted") / "repo",
        layout="max",
        envs={"dst/default": {}},
        default_env="dst/default",
        plain=True,
    )
    repo.cold = repo.prime()
    return repo
