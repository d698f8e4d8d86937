"""The compatibility tier: a repo set up for the reference tool (protoprimer 0.13, on PyPI) keeps working when
our kernel replaces its copy. These tests run files and code that nobody here wrote:

- the reference's own entry scripts: the reference kernel (from its pinned sdist, downloaded once per
  session into tmp) is run as a program, `python3 ref_kernel.py wrap {boot_env|start_app} -s PATH [-m
  MODULE:FUNC]`, inside the client repo; then our kernel (the session snapshot's) replaces the copy. Those
  scripts load the copy by path and do not register it in sys.modules; `boot_env("")` means no main;
- the reference kernel itself as a committed copy, handing over to our installed kernel;
- metaprimer (pinned, from PyPI), installed unchanged into client venvs through the client project's
  dependencies: its wheel is built once into the session's wheelhouse, and its dependency `protoprimer`
  resolves to our wheel there.

Everything else is the integration tier's (tests/integration/client_repos.py: real interpreters, the
offline wheelhouse with our wheel, `write_client_repo`, `ClientRepo.run`, `Run`) and its session fixture
`real_machine`, imported from tests/integration/conftest.py. Every test here is marked `compat` and
`integration` (`-m "not integration"` deselects both tiers; `-m compat` runs this one) and runs after the
rest of the suite.

The package index is needed once per session for the two sdists: when it cannot be reached the tier is
skipped locally and fails in CI (CI=true).

Raising a pin: change `protoprimer==...` or `metaprimer==...` in tests/tool-pins.txt (the only place the
versions are written) and run `./cmd/test tests/compat`. A new reference version may write different entry
scripts or read other config; a new metaprimer may import other names from protoprimer.primer_kernel: a
failure here is then a compatibility gap to close in the kernel (or a reason to keep the old pin).
"""

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION_DIR = os.path.join(os.path.dirname(HERE), "integration")
if INTEGRATION_DIR not in sys.path:
    sys.path.insert(0, INTEGRATION_DIR)

from compat_repos import ArtefactError, download_pinned_wheels, download_sdists, prepare_artefacts  # noqa: E402


def _integration_conftest():
    """tests/integration/conftest.py as a module of its own name (pytest imports it as `conftest` when it
    collects that directory; only its fixtures are taken from here, not its hooks)."""
    name = "protoprimer_integration_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(INTEGRATION_DIR, "conftest.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# The integration tier's session machine: real interpreters, PATH, HOME and the offline wheelhouse.
real_machine = _integration_conftest().real_machine


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "compat: the compatibility tier (tests/compat): files and code written for the reference tool "
        "(protoprimer 0.13's entry scripts and kernel, metaprimer) run against our kernel",
    )


def pytest_collection_modifyitems(session, config, items):
    """Mark every test of this directory `compat` and `integration` and move them after all other tests."""
    ours, others = [], []
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.compat)
            item.add_marker(pytest.mark.integration)
            ours.append(item)
        else:
            others.append(item)
    items[:] = others + ours


def _in_ci():
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(error):
    if error.offline and not _in_ci():
        pytest.skip("the compatibility tier needs the package index once per session: %s" % error.message)
    pytest.fail(error.message, pytrace=False)


@pytest.fixture(scope="session")
def reference_sdists(tmp_path_factory):
    """The pinned sdists, downloaded once per session (a failure, or a skip, is cached by pytest for the
    session, so it is not retried per test)."""
    try:
        return download_sdists(str(tmp_path_factory.mktemp("compat-download")))
    except ArtefactError as e:
        _unavailable(e)


@pytest.fixture(autouse=True)
def _reference_sdists_first(reference_sdists):
    """Every test of the tier needs them: asked first, so that without the index the tier is skipped (or,
    in CI, fails) on that, before the session's wheelhouse is built."""


@pytest.fixture(scope="session")
def artefacts(reference_sdists, real_machine, tmp_path_factory):
    """The reference kernel (extracted) and metaprimer's wheel (built into the machine's wheelhouse)."""
    try:
        return prepare_artefacts(real_machine, reference_sdists, str(tmp_path_factory.mktemp("compat-reference")))
    except ArtefactError as e:
        _unavailable(e)


@pytest.fixture(scope="session")
def pre_commit_wheels(real_machine):
    """pre-commit (pinned) and its dependencies, as wheels in the machine's wheelhouse: for client projects
    that depend on it (metaprimer's pre-commit state runs it). Its version; skipped when the primary Python
    is older than the pinned pre-commit supports."""
    if real_machine.primary < (3, 9):
        pytest.skip("the pinned pre-commit needs Python 3.9+; the primary Python here is %d.%d" % real_machine.primary)
    try:
        return download_pinned_wheels(real_machine, "pre-commit")
    except ArtefactError as e:
        _unavailable(e)
