"""The protoprimer pytest plugin (entry point `pytest11: protoprimer = protoprimer_harness.plugin`).

A thin layer over the harness: hooks, collection and fixtures, nothing pytest does not need to see.

- Hooks: the `protoprimer_scenario_dirs` ini option and `--protoprimer-tape-mode`; the `scenario`,
  `integration` and `tape` markers.
- Collection: scenario files (`*.toml` under the `protoprimer_scenario_dirs` ini directories, default
  `scenarios`) and tapes (`*.tape.toml` under the same directories, docs/tapes.md) as items. A tape item is
  named after its file (`eval_json.tape.toml` -> `eval_json`, marker `tape`) and replayed; the tape mode
  comes from `--protoprimer-tape-mode`, else $PROTOPRIMER_TAPE_MODE, else "replay" (the option wins; a
  value that is not a mode stops the run with the list of valid ones).
- Fixtures: context managers over the classes a user can construct without pytest. `world` is
  `protoprimer_harness.world.World` inside a `SessionGuard`; `repo_world` makes `World().add_repo(rootdir)`
  (the client repo as committed) inside one; the guards `protoprimer_env_guard`,
  `protoprimer_cwd_guard`, `protoprimer_fs_guard` are `EnvGuard`, `CwdGuard`, `FsGuard`
  (protoprimer_harness.guards), their `GuardViolation` turned into a test failure; `run_scenario_file` is
  `load_scenario` + `run_scenario`.

What the plugin changes outside its own items, for the whole pytest process (docs/limitations.md): once a
scenario or a `world`/`repo_world`/`run_scenario_file` fixture runs, pytest's own modules are in pyfakefs'
`Patcher.SKIPMODULES`, as pyfakefs' own plugin does.

Invariants:
- loading this module is cheap and safe in any pytest run of any venv that has protoprimer installed:
  it imports only pytest, the standard library and `protoprimer_harness.guards` (standard library only);
  the harness (pyfakefs, tomli, protoprimer_harness.world, ...) is imported when a scenario or fixture is
  used, and its absence then fails that test with the install command, never the whole pytest run;
- a malformed scenario file is a collection error showing the loader's message (file, key, valid
  alternatives) and no harness traceback; a failed scenario shows its expectation report, not a
  traceback.
"""

import os
import sys

import pytest

from protoprimer_harness.guards import CwdGuard, EnvGuard, FsGuard, GuardViolation, SessionGuard

SCENARIO_DIRS_INI = "protoprimer_scenario_dirs"
INSTALL_HINT = "pip install 'protoprimer[harness]'"
TAPE_SUFFIX = ".tape.toml"
TAPE_MODE_OPTION = "--protoprimer-tape-mode"
TAPE_MODE_ENV_VAR = "PROTOPRIMER_TAPE_MODE"
_TAPE_MODE_KEY = pytest.StashKey[str]()


# region: hooks


def pytest_addoption(parser):
    parser.addini(
        SCENARIO_DIRS_INI,
        type="linelist",
        default=["scenarios"],
        help="protoprimer: directories (relative to rootdir) whose *.toml files are collected as "
        "scenarios (default: scenarios; set it empty to collect none)",
    )
    group = parser.getgroup("protoprimer")
    group.addoption(
        TAPE_MODE_OPTION,
        dest="protoprimer_tape_mode",
        default=None,
        metavar="MODE",
        help="protoprimer tapes: replay (default: replay only, never record) or rewrite (re-record each "
        "collected tape from its recipe, replacing it); default from $%s" % TAPE_MODE_ENV_VAR,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # first, so the variable is read before a conftest's pytest_configure may clear PROTOPRIMER_* variables
    config.stash[_TAPE_MODE_KEY] = _resolve_tape_mode(config)
    config.addinivalue_line(
        "markers",
        "scenario: a protoprimer scenario file (collected from the protoprimer_scenario_dirs directories)",
    )
    config.addinivalue_line(
        "markers",
        "integration: runs real interpreters and real venvs (slow; the tier that keeps the fakes honest)",
    )
    config.addinivalue_line(
        "markers",
        "tape: a recorded tape replayed against the kernel (*.tape.toml in the protoprimer_scenario_dirs)",
    )


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".toml":
        return None
    if not _in_scenario_dirs(parent.config, str(file_path)):
        return None
    if file_path.name.endswith(TAPE_SUFFIX):
        return TapeFile.from_parent(parent, path=file_path)
    return ScenarioFile.from_parent(parent, path=file_path)


def _resolve_tape_mode(config):
    """The tape mode (cheap when neither the option nor the variable is set: nothing is imported)."""
    option = config.getoption("protoprimer_tape_mode", None)
    if option is None and os.environ.get(TAPE_MODE_ENV_VAR) is None:
        return "replay"
    from protoprimer_harness._tape_modes import TapeModeError, resolve_tape_mode

    try:
        return resolve_tape_mode(option)
    except TapeModeError as e:
        raise pytest.UsageError(str(e)) from None


# endregion: hooks

# region: collection


def _scenario_dirs(config):
    root = str(config.rootpath)
    return [os.path.normpath(os.path.join(root, d)) for d in config.getini(SCENARIO_DIRS_INI) if d.strip()]


def _in_scenario_dirs(config, path):
    path = os.path.normpath(path)
    return any(path.startswith(d + os.sep) for d in _scenario_dirs(config))


def _display_path(config, path):
    """A path relative to the rootdir (with "/" separators) when under it, else as given."""
    path = str(path)
    rel = os.path.relpath(path, str(config.rootpath))
    if rel.startswith(os.pardir):
        return path
    return rel.replace(os.sep, "/")


class ScenarioFile(pytest.File):
    """One scenario file; it holds one item named after the file's stem."""

    def collect(self):
        from protoprimer_harness.scenario import HarnessMissing, ScenarioError, load_scenario

        try:
            scenario = load_scenario(str(self.path), file_name=_display_path(self.config, self.path))
        except (ScenarioError, HarnessMissing) as e:
            raise self.CollectError(str(e)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioItem(pytest.Item):
    """Runs one scenario: build its world, run `before` and `when`, check `[then]`."""

    def __init__(self, *, scenario, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker("scenario")
        for marker in scenario.markers:
            _allow_marker(self.config, marker)
            self.add_marker(marker)

    def runtest(self):
        from protoprimer_harness.scenario import HarnessMissing, run_scenario

        message = _harness_missing("running a scenario")
        if message:
            raise HarnessMissing(message)
        _keep_pytest_off_the_fake_filesystem()
        run_scenario(self.scenario, check=True)

    def repr_failure(self, excinfo, style=None):
        from protoprimer_harness.scenario import HarnessMissing, ScenarioError

        error = excinfo.value
        if isinstance(error, (AssertionError, ScenarioError, HarnessMissing)):
            return str(error)
        from protoprimer_harness.errors import HarnessError, SimulationSignal

        if isinstance(error, (HarnessError, SimulationSignal)):
            # the world cannot be built or cannot simulate what the scenario asks for: the message says
            # what and why; a traceback into the harness would not help the scenario's author
            return "%s: the harness cannot run this scenario: %s: %s" % (
                self.scenario.file_name,
                type(error).__name__,
                error,
            )
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, "%s: %s" % (self.name, self.scenario.title)


class TapeFile(pytest.File):
    """One tape file; it holds one item named after the file (without `.tape.toml`)."""

    def collect(self):
        from protoprimer_harness.scenario import HarnessMissing
        from protoprimer_harness._tape_format import TapeFormatError, load_tape, tape_name

        try:
            tape = load_tape(str(self.path))
        except (TapeFormatError, HarnessMissing) as e:
            raise self.CollectError(str(e)) from None
        yield TapeItem.from_parent(self, name=tape_name(str(self.path)), title=tape.title)


class TapeItem(pytest.Item):
    """Replays one tape (in rewrite mode: re-records it first); a failure shows the tape's report."""

    def __init__(self, *, title="", **kwargs):
        super().__init__(**kwargs)
        self.title = title
        self.add_marker("tape")

    def runtest(self):
        from protoprimer_harness.tape import check_tape

        check_tape(str(self.path), mode=self.config.stash[_TAPE_MODE_KEY],
                   display=_display_path(self.config, self.path))

    def repr_failure(self, excinfo, style=None):
        from protoprimer_harness.errors import HarnessError
        from protoprimer_harness.scenario import HarnessMissing
        from protoprimer_harness._tape_format import TapeFormatError

        if isinstance(excinfo.value, (AssertionError, HarnessError, HarnessMissing, TapeFormatError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, "%s: %s" % (self.name, self.title)


def _allow_marker(config, name):
    """Markers named in scenario files are registered as they are met, so --strict-markers accepts
    them (a marker is data of the scenario, like its title)."""
    registered = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    if name not in registered:
        config.addinivalue_line("markers", "%s: named in a protoprimer scenario file" % name)


# endregion: collection

# region: fixtures


def _harness_missing(what):
    """The message naming the install command when the harness extra is not installed; else None."""
    missing = []
    try:
        import pyfakefs  # noqa: F401
    except ImportError:
        missing.append("pyfakefs")
    if sys.version_info < (3, 11):
        try:
            import tomli  # noqa: F401
        except ImportError:
            missing.append("tomli")
    if not missing:
        return None
    return "%s needs the protoprimer harness, but %s %s not installed: %s" % (
        what, " and ".join(missing), "is" if len(missing) == 1 else "are", INSTALL_HINT)


def _keep_pytest_off_the_fake_filesystem():
    """Tell pyfakefs not to patch pytest's own modules, so pytest keeps capturing and reporting while
    a world session is active (what pyfakefs' own plugin does; that plugin may not be loaded). This
    stays for the rest of the process, for every pyfakefs `Patcher` (docs/limitations.md)."""
    from _pytest import capture
    from pyfakefs.fake_filesystem_unittest import Patcher

    Patcher.SKIPMODULES.add(pytest)
    Patcher.SKIPMODULES.add(capture)
    try:
        from _pytest import pathlib as pytest_pathlib
    except ImportError:
        return
    Patcher.SKIPMODULES.add(pytest_pathlib)


def _require_harness_or_fail(what):
    message = _harness_missing(what)
    if message:
        pytest.fail(message, pytrace=False)
    _keep_pytest_off_the_fake_filesystem()


@pytest.fixture
def world():
    """`World` itself, as a factory: `world()` (or `world(root="/home/me/repo")`) is a new plain
    `protoprimer_harness.world.World`. The test runs inside a `SessionGuard`: world sessions started in it
    (from these worlds or any other) and still active at its end are closed."""
    _require_harness_or_fail("the `world` fixture")
    from protoprimer_harness.world import World

    with SessionGuard():
        yield World


@pytest.fixture
def repo_world(request):
    """A factory of worlds made from the client repo as committed: `repo_world()` is
    `World().add_repo(<the pytest rootdir>)`; `repo_world("path/to/repo", root="/home/me/repo")` takes another
    real directory (relative to the rootdir) and world root. Add interpreters and mains, then
    `with w.activate() as session:`. Like `world`, the test runs inside a `SessionGuard`."""
    _require_harness_or_fail("the `repo_world` fixture")
    from protoprimer_harness.world import DEFAULT_ROOT, World

    rootdir = str(request.config.rootpath)

    def make(path=None, root=DEFAULT_ROOT):
        real = rootdir if path is None else os.path.join(rootdir, os.fspath(path))
        return World(root=root).add_repo(real)

    with SessionGuard():
        yield make


@pytest.fixture
def run_scenario_file(request):
    """`run_scenario_file(path)` loads, runs and checks a scenario file (relative paths are relative
    to the rootdir) and returns the Outcome of its `when` run."""
    _require_harness_or_fail("the `run_scenario_file` fixture")
    from protoprimer_harness.scenario import load_scenario, run_scenario

    config = request.config

    def run(path):
        path = os.fspath(path)
        if not os.path.isabs(path):
            path = os.path.join(str(config.rootpath), path)
        scenario = load_scenario(path, file_name=_display_path(config, path))
        return run_scenario(scenario, check=True)

    return run


def _failing_on_violation(guard):
    """A fixture's body: the test runs inside `guard`; what it left changed fails it at teardown."""
    violation = None
    try:
        with guard:
            yield guard
    except GuardViolation as e:
        violation = str(e)
    if violation:  # outside the `except`, so the report is not "during handling" of another exception
        pytest.fail(violation, pytrace=False)


@pytest.fixture
def protoprimer_env_guard():
    """Fail the test if it leaves os.environ changed (the environment is restored first): `EnvGuard`."""
    yield from _failing_on_violation(EnvGuard(hint="use monkeypatch.setenv/delenv"))


@pytest.fixture
def protoprimer_cwd_guard():
    """Fail the test if it leaves the working directory changed (it is restored first): `CwdGuard`."""
    yield from _failing_on_violation(CwdGuard(hint="use monkeypatch.chdir"))


@pytest.fixture
def protoprimer_fs_guard(request):
    """Fail the test if it created, modified or deleted files under the pytest rootdir (venv/, .git/,
    __pycache__/, *.egg-info, .pytest_cache, .tox, .nox are not looked at): `FsGuard`. Tests write to
    tmp_path; a --basetemp inside the rootdir (pytester's subprocess runs) is not looked at either."""
    basetemp = request.config.getoption("basetemp", None)
    skipped = [basetemp] if basetemp else []
    yield from _failing_on_violation(
        FsGuard(request.config.rootpath, hint="write to tmp_path instead", skipped_paths=skipped))


# endregion: fixtures
