"""Helpers of the compatibility tier: the artefacts nobody here wrote, and client repos whose entry scripts
the reference's own `wrap` wrote.

The repos themselves are tests/integration/client_repos.py's (`write_client_repo`, `ClientRepo`, `Run`,
the session's RealMachine); this module adds only what a repo set up for the reference has on top.
"""

import glob
import json
import os
import re
import subprocess
import sys
import tarfile

from client_repos import TOOL_PINS, ClientRepo, write_client_repo

REFERENCE_KERNEL_IN_SDIST = "main/protoprimer/primer_kernel.py"
# The marker the reference's `wrap` puts around the code it generates (FT_56_85_65_41.generated_boilerplate).
REFERENCE_WRAP_MARKER = "FT_56_85_65_41.generated_boilerplate"
# The copy's generated header occupies lines 2-10 (spec section 6), the body marker replaces blank lines.
GENERATED_HEADER_LINES = 9
GENERATED_LINE_TEXT = "GENERATED CONTENT - ANY CHANGES WILL BE LOST"

# The client's code for this tier: the mains a repo written for protoprimer 0.13 has. Each prints tagged
# lines (flushed: a kernel may replace the process right after) that the tests read back.
CLIENT_APP = '''\
"""Client mains in the style of a repo written for protoprimer 0.13."""
import logging
import os
import sys


def _say(tag, value):
    sys.stdout.write("%s %s\\n" % (tag, value))
    sys.stdout.flush()


def run():
    """A start_app (or boot_env) main: where it runs."""
    _say("RUN-PREFIX", os.path.realpath(sys.prefix))
    _say("RUN-EXECUTABLE", sys.executable)
    _say("RUN-VERSION", "%d.%d.%d" % sys.version_info[:3])
    return 0


def kernel():
    """A start_app main that imports the running kernel copy by its module name."""
    import proto_kernel

    _say("KERNEL-FILE", os.path.abspath(proto_kernel.__file__))
    _say("KERNEL-PATH", proto_kernel.get_proto_kernel_abs_path())
    return 0


def boot_main():
    """A boot_env main in the 0.13 style: read the derived config, then run the kernel's own flow."""
    from protoprimer.primer_kernel import ConfLeap, EnvState, get_config, proto_main

    derived = get_config(ConfLeap["leap_derived"])
    _say("BOOT-VENV", derived[EnvState.state_local_venv_dir_abs_path_inited.name])
    _say("BOOT-PREFIX", os.path.realpath(sys.prefix))
    proto_main()


def meta():
    """A start_app main built on metaprimer's script_lib."""
    from metaprimer.script_lib import configure_script

    derived = configure_script("meta")
    logging.getLogger().info("META-LOGGED")
    _say("META-LOG-DIR", derived["state_local_log_dir_abs_path_inited"])
    return 0
'''

# A python selector as a repo written for the reference has one: it unpacks a 3-tuple of ints and finds
# `pythonX.Y` on PATH. It records every call next to itself (the selector runs in every process that
# resolves the derived config, so there may be several).
PYTHON_SELECTOR = '''\
import os
import shutil


def select_python_file_abs_path(required_version):
    major, minor, patch = required_version
    found = shutil.which("python%d.%d" % (major, minor))
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "selector-calls.txt"), "a") as f:
        f.write("%r -> %r\\n" % (tuple(required_version), found))
    return found
'''


class ArtefactError(Exception):
    """An artefact cannot be had. `offline`: the package index could not be reached (or refused)."""

    def __init__(self, message, offline=False):
        Exception.__init__(self, message)
        self.message = message
        self.offline = offline


def read_pins(path=TOOL_PINS):
    """{name: version} of the `name==version` lines of tests/tool-pins.txt."""
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            name, sep, version = line.partition("==")
            if sep:
                pins[name.strip().lower()] = version.strip()
    return pins


class Artefacts(object):
    """The pinned reference kernel (extracted from its sdist) and metaprimer (a wheel in the wheelhouse)."""

    def __init__(self, pins, reference_kernel_file, metaprimer_wheel):
        self.pins = pins
        self.reference_version = pins["protoprimer"]
        self.metaprimer_version = pins["metaprimer"]
        self.reference_kernel_file = reference_kernel_file
        with open(reference_kernel_file, encoding="utf-8") as f:
            self.reference_kernel_text = f.read()
        self.metaprimer_wheel = metaprimer_wheel

    @property
    def metaprimer_requirement(self):
        return "metaprimer==%s" % self.metaprimer_version


def download_sdists(directory):
    """Download the pinned sdists of the reference and of metaprimer into `directory` (the package index is
    needed): {name: sdist path}. Raises ArtefactError (offline=True when pip could not get them)."""
    pins = read_pins()
    for name in ("protoprimer", "metaprimer"):
        if name not in pins:
            raise ArtefactError("%s has no pin `%s==...`" % (TOOL_PINS, name))
    os.makedirs(directory, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--retries", "1",
         "--timeout", "20", "--no-deps", "--no-binary", ":all:", "--constraint", TOOL_PINS, "--dest", directory,
         "protoprimer", "metaprimer"],
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        raise ArtefactError("pip download of the pinned sdists (protoprimer==%s, metaprimer==%s) failed: "
                            "is the package index reachable?\n%s"
                            % (pins["protoprimer"], pins["metaprimer"], result.stderr[-2000:]), offline=True)
    sdists = {}
    for name in ("protoprimer", "metaprimer"):
        found = glob.glob(os.path.join(directory, "%s-%s.tar.gz" % (name, pins[name])))
        if len(found) != 1:
            raise ArtefactError("pip download left no %s-%s.tar.gz in %s: %s"
                                % (name, pins[name], directory, sorted(os.listdir(directory))))
        sdists[name] = found[0]
    return sdists


def download_pinned_wheels(machine, name):
    """Add `name` and its dependencies, as wheels for the machine's primary Python, to the machine's
    wheelhouse (the package index is needed), at the version tests/tool-pins.txt pins, so that a client venv
    installs it offline. Raises ArtefactError (offline=True when pip could not get them)."""
    pins = read_pins()
    if name not in pins:
        raise ArtefactError("%s has no pin `%s==...`" % (TOOL_PINS, name))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--retries", "1",
         "--timeout", "20", "--only-binary=:all:", "--python-version", "%d.%d" % machine.primary,
         "--constraint", TOOL_PINS, "--dest", machine.wheelhouse, name],
        capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        raise ArtefactError("pip download of %s==%s and its dependencies (wheels for Python %d.%d) failed: is the "
                            "package index reachable?\n%s"
                            % ((name, pins[name]) + tuple(machine.primary) + (result.stderr[-2000:],)), offline=True)
    wheel_name = name.replace("-", "_")
    if not glob.glob(os.path.join(machine.wheelhouse, "%s-%s-*.whl" % (wheel_name, pins[name]))):
        raise ArtefactError("pip download left no %s-%s wheel in %s" % (wheel_name, pins[name], machine.wheelhouse))
    return pins[name]


def prepare_artefacts(machine, sdists, directory):
    """Extract the reference kernel from its sdist into `directory`, and build metaprimer's wheel into the
    machine's wheelhouse (offline, with the wheelhouse's setuptools), so that client venvs install it like any
    other package. Raises ArtefactError."""
    pins = read_pins()
    kernel_file = os.path.join(directory, "primer_kernel.py")
    with tarfile.open(sdists["protoprimer"]) as archive:
        members = [m for m in archive.getmembers() if m.name.endswith("/" + REFERENCE_KERNEL_IN_SDIST)]
        if len(members) != 1:
            raise ArtefactError("%s has no %s" % (sdists["protoprimer"], REFERENCE_KERNEL_IN_SDIST))
        text = archive.extractfile(members[0]).read().decode("utf-8")
    if '__version__ = "%s"' % pins["protoprimer"] not in text:
        raise ArtefactError("the kernel in %s is not version %s" % (sdists["protoprimer"], pins["protoprimer"]))
    os.makedirs(directory, exist_ok=True)
    with open(kernel_file, "w", encoding="utf-8") as f:
        f.write(text)
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=machine.wheelhouse,
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", machine.wheelhouse,
         sdists["metaprimer"]],
        capture_output=True, text=True, timeout=300, env=env,
    )
    wheels = glob.glob(os.path.join(machine.wheelhouse, "metaprimer-%s-*.whl" % pins["metaprimer"]))
    if result.returncode != 0 or len(wheels) != 1:
        raise ArtefactError("cannot build the metaprimer wheel from %s (offline, with the wheelhouse %s):\n%s"
                            % (sdists["metaprimer"], machine.wheelhouse, result.stderr[-2000:]))
    return Artefacts(pins, kernel_file, wheels[0])


# region: repos set up for the reference


def reference_wrap(repo, artefacts, scripts, copy_text=None):
    """Write entry scripts with the reference kernel's own `wrap`, run as a program: the reference kernel is
    put where the repo's copy is (its `-s` is relative to the copy's directory and the script loads the copy
    by a path relative to itself), then `copy_text` (default: our kernel, the session snapshot's) replaces
    it. `scripts`: (entry_func, script path relative to the root, "module:func" or None)."""
    machine = repo.machine
    repo.write(repo.kernel_rel, artefacts.reference_kernel_text)
    kernel_dir = os.path.dirname(repo.kernel_copy)
    for entry_func, script, main in scripts:
        path = repo.path(script)
        if os.path.lexists(path):
            os.remove(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)  # the reference's wrap does not make it
        argv = [machine.python(machine.primary), repo.kernel_copy, "wrap", entry_func, "-s",
                os.path.relpath(path, kernel_dir)] + (["-m", main] if main else [])
        result = subprocess.run(argv, cwd=repo.root, env=machine.env(), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and os.path.isfile(path), (
            "the reference's wrap failed (exit %d): %s\n%s%s" % (result.returncode, " ".join(argv), result.stdout, result.stderr))
        text = repo.read(script)
        call = '%s("%s")' % (entry_func, main or "")
        assert REFERENCE_WRAP_MARKER in text and call in text, "not the reference's entry script:\n" + text
        assert 'sys.modules["proto_kernel"]' not in text, text
    repo.write(repo.kernel_rel, machine.kernel_text if copy_text is None else copy_text)
    os.chmod(repo.kernel_copy, 0o755)
    return repo


def write_reference_repo(machine, artefacts, root, scripts, kernel_rel=None, copy_text=None, **options):
    """A client repo (write_client_repo's layouts and options, plus `client/app.py`) whose entry scripts
    are only the reference's `scripts` (reference_wrap). `kernel_rel` moves the kernel copy elsewhere."""
    files = dict(options.pop("files", None) or {})
    files.setdefault("client/app.py", CLIENT_APP)
    repo = write_client_repo(machine, root, files=files, **options)
    for ours in ("prime", "cmd/app"):  # written by our kernel's wrap: not what such a repo has
        os.remove(repo.path(ours))
    if kernel_rel is not None and kernel_rel != repo.kernel_rel:
        os.remove(repo.kernel_copy)
        repo = ClientRepo(repo.root, kernel_rel, machine, repo.env_rel)
    return reference_wrap(repo, artefacts, scripts, copy_text=copy_text)


# endregion: repos set up for the reference

# region: reading runs


def tagged(run, tag):
    """The values of the lines `TAG value` a client main printed."""
    prefix = tag + " "
    return [line[len(prefix):] for line in run.stdout.splitlines() if line.startswith(prefix)]


def one_tagged(run, tag):
    values = tagged(run, tag)
    assert len(values) == 1, "expected one %s line:\n%s" % (tag, run.describe())
    return values[0]


def error_lines(run):
    return [line for line in run.stderr.splitlines() if line.startswith("ERROR")]


def json_documents(text):
    """The JSON documents printed one after another (`eval` prints five)."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def find_key(value, key):
    """The values of `key` anywhere in nested dicts and lists."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                found.append(v)
            found.extend(find_key(v, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(find_key(item, key))
    return found


def kernel_body(text):
    """A kernel's text without what the copy's generation changes: lines 2-10 (the generated header) and
    blank lines or generated body markers. A copy and its source have the same body."""
    lines = text.splitlines()
    del lines[1:1 + GENERATED_HEADER_LINES]
    return ["" if GENERATED_LINE_TEXT in line or line.strip() in ("", "#") else line for line in lines]


def version_line(text):
    found = re.findall(r'^__version__ = "([^"]*)"', text, re.MULTILINE)
    return found[0] if len(found) == 1 else found


# endregion: reading runs
