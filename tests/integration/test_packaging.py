"""The product as a user gets it: `pip install 'protoprimer[harness]'` from the wheel (not editable) into
a venv of its own, then pytest in a client repo that knows nothing of this checkout.

The rest of the suite runs against the editable install of this checkout, where every module is importable
from the source tree whatever the wheel holds. A release once shipped a wheel without `harness/tools`:
our tests passed and every client scenario failed with ModuleNotFoundError. These tests pin that the
session's wheel (built from the source snapshot, see build_wheelhouse) ships every module of the source
packages, and that, installed the way a user installs it, it imports, registers its pytest plugin through
the entry point and runs a client repo's scenarios (examples/full).
"""

import glob
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from client_repos import download_harness_deps

pytestmark = pytest.mark.integration

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
GENERATED = shutil.ignore_patterns("venv", "venv.*", "lconf", "log", "tmp", "cache", "__pycache__", "*.egg-info",
                                   ".pytest_cache")
TIMEOUT = 300


def snapshot_root(machine):
    """The session's source snapshot (what the wheel was built from): the kernel file's grandparent."""
    return os.path.dirname(os.path.dirname(machine.kernel_file))


def source_packages(snapshot):
    """The top-level packages of the snapshot: its dirs with an __init__.py."""
    return sorted(name for name in os.listdir(snapshot) if os.path.isfile(os.path.join(snapshot, name, "__init__.py")))


def source_modules(snapshot):
    """Every .py file of the snapshot's packages, as wheel paths ("protoprimer_harness/tools/_pip.py")."""
    found = set()
    for package in source_packages(snapshot):
        for dirpath, dirnames, filenames in os.walk(os.path.join(snapshot, package)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in filenames:
                if name.endswith(".py"):
                    found.add(os.path.relpath(os.path.join(dirpath, name), snapshot).replace(os.sep, "/"))
    return found


def session_wheel(machine):
    wheels = glob.glob(os.path.join(machine.wheelhouse, "protoprimer-*.whl"))
    assert len(wheels) == 1, "expected one protoprimer wheel in the wheelhouse %s, found %s" % (
        machine.wheelhouse, wheels)
    return wheels[0]


def run(argv, cwd, env):
    return subprocess.run(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT)


def describe(result):
    return "$ %s\nexit %s\n--- stdout\n%s--- stderr\n%s" % (" ".join(result.args), result.returncode, result.stdout,
                                                            result.stderr)


class InstalledVenv(object):
    """A venv of the primary real interpreter with `<wheel>[harness]` pip-installed from the wheelhouse."""

    def __init__(self, path, env):
        self.dir = str(path)
        self.python = os.path.join(self.dir, "bin", "python")
        self.env = env  # built from scratch: no PYTHONPATH, nothing of this checkout

    def site_packages(self):
        found = glob.glob(os.path.join(self.dir, "lib", "python*", "site-packages"))
        assert len(found) == 1, "expected one site-packages in %s, found %s" % (self.dir, found)
        return os.path.realpath(found[0])


@pytest.fixture(scope="module")
def installed(real_machine, tmp_path_factory):
    """One venv per module, made by the primary interpreter, with the session wheel installed as a user
    installs it (`pip install 'protoprimer[harness]'`, not editable), offline from the wheelhouse."""
    machine = real_machine
    wheel = session_wheel(machine)
    if machine.primary != tuple(sys.version_info[:2]):
        # build_wheelhouse added the harness extra's requirements for this process's Python only
        problem = download_harness_deps(machine.wheelhouse, wheel, machine.primary)
        if problem:
            pytest.fail("cannot add the harness extra's requirements to the wheelhouse: %s" % problem, pytrace=False)
    root = tmp_path_factory.mktemp("packaging")
    venv = InstalledVenv(root / "venv", machine.env())
    made = run([machine.python(machine.primary), "-m", "venv", venv.dir], root, venv.env)
    assert made.returncode == 0, "cannot make a venv:\n%s" % describe(made)
    install = run([venv.python, "-m", "pip", "install", wheel + "[harness]"], root, venv.env)
    assert install.returncode == 0, "pip install '<wheel>[harness]' failed offline from the wheelhouse:\n%s" % (
        describe(install))
    return venv


def test_the_wheel_ships_every_module_of_the_source_packages_and_no_other_package(real_machine):
    """Every .py file of the source packages (protoprimer_harness/tools/*.py included: a subpackage the
    package finder missed once) is in the wheel, and the wheel has no top-level package the source lacks
    (no `harness/`: that name on the package index is someone else's project)."""
    snapshot = snapshot_root(real_machine)
    wheel = session_wheel(real_machine)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = source_modules(snapshot)
    assert "protoprimer_harness/tools/_pip.py" in expected, "the snapshot %s lacks the harness tools" % snapshot

    missing = sorted(expected - names)
    assert not missing, "the wheel %s lacks %d source modules:\n  %s\nit holds:\n  %s" % (
        os.path.basename(wheel), len(missing), "\n  ".join(missing), "\n  ".join(sorted(names)))
    top_level = sorted({name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")})
    assert top_level == source_packages(snapshot), "top-level entries of %s: %s" % (os.path.basename(wheel), top_level)
    assert not [name for name in names if name.startswith("harness/")], "the wheel ships a top-level harness/"


ENTRY_POINTS_PROBE = """\
import json, os
from importlib.metadata import distribution
import protoprimer_harness.tools
dist = distribution("protoprimer")
declared = [ep for ep in dist.entry_points if ep.group == "pytest11"]
print(json.dumps({
    "pytest11": [[ep.name, ep.value] for ep in declared],
    "plugin": [os.path.realpath(ep.load().__file__) for ep in declared],
    "tools": os.path.realpath(protoprimer_harness.tools.__file__),
}))
"""


def test_the_installed_wheel_imports_the_harness_and_registers_the_pytest_plugin(installed, tmp_path):
    """From an empty directory (nothing of this checkout importable), the venv imports the harness tools
    and the plugin from its own site-packages, and pytest registers the plugin through the wheel's
    pytest11 entry point."""
    probe = run([installed.python, "-c", "import protoprimer_harness.tools._pip, protoprimer_harness.plugin"],
                tmp_path, installed.env)
    assert probe.returncode == 0, describe(probe)

    site = installed.site_packages()
    plugin_file = os.path.join(site, "protoprimer_harness", "plugin.py")
    metadata = run([installed.python, "-c", ENTRY_POINTS_PROBE], tmp_path, installed.env)
    assert metadata.returncode == 0, describe(metadata)
    found = json.loads(metadata.stdout)
    assert found == {
        "pytest11": [["protoprimer", "protoprimer_harness.plugin"]],
        "plugin": [plugin_file],
        "tools": os.path.join(site, "protoprimer_harness", "tools", "__init__.py"),
    }, describe(metadata)

    plugins = run([installed.python, "-m", "pytest", "-p", "no:cacheprovider", "--version", "--version"], tmp_path,
                  installed.env)
    assert plugins.returncode == 0, describe(plugins)
    registered = re.findall(r"^\s*protoprimer-\S+ at (.+)$", plugins.stdout + plugins.stderr, re.M)
    assert [os.path.realpath(path) for path in registered] == [plugin_file], describe(plugins)


def test_a_client_repo_runs_its_scenarios_with_the_installed_wheel(installed, tmp_path):
    """examples/full, copied as committed (with examples/instant, which one of its scenarios copies), runs
    `python -m pytest` of the venv in its own directory: every scenario file is collected by the plugin
    and passes."""
    examples = tmp_path / "examples"
    for name in ("full", "instant"):
        shutil.copytree(str(EXAMPLES / name), str(examples / name), symlinks=True, ignore=GENERATED)
    client = examples / "full"
    scenario_files = sorted(p.name for p in (client / "scenarios").rglob("*.toml"))
    assert scenario_files, "examples/full has no scenario files"

    result = run([installed.python, "-m", "pytest", "-p", "no:cacheprovider"], client, installed.env)

    assert result.returncode == 0, describe(result)
    collected = re.search(r"^collected (\d+) items?$", result.stdout, re.M)
    assert collected and int(collected.group(1)) == len(scenario_files), "expected %d items (%s):\n%s" % (
        len(scenario_files), ", ".join(scenario_files), describe(result))
    summary = [line for line in result.stdout.splitlines() if line.strip()][-1]
    outcomes = dict((word, int(count)) for count, word in re.findall(r"(\d+) (\w+)", summary)
                    if not word.startswith("warning"))
    assert outcomes == {"passed": len(scenario_files)}, "summary %r:\n%s" % (summary, describe(result))
