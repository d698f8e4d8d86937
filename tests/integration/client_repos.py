"""Real client repos for the integration tier, and the machine they run on.

Nothing here is simulated: a client repo is a temporary directory with a kernel copy, config files, a
small project `client` and entry scripts written by the kernel's own `wrap`; runs are subprocesses of
the real `./prime` (or any entry script) with an environment built from scratch:

- PATH holds only directories made here: symlinks `python3.X` to the real interpreters found at test time
  (protoprimer_harness._real_interpreters), `python3` to one of them, and `sh`;
- pip works offline against a wheelhouse built once per session (PIP_NO_INDEX, PIP_FIND_LINKS,
  PIP_CONFIG_FILE=/dev/null so this machine's pip config does not leak in);
- HOME is a directory of the session (pip's and uv's caches are shared by the runs, not by the user).

The client's code prints one line `CLIENT-REPORT {json}` (what it sees: argv, interpreter, env vars,
parse_args(), get_config(), ...) and exits with $CLIENT_EXIT (0 when unset).
"""

import glob
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

REPORT_PREFIX = "CLIENT-REPORT "
RUN_TIMEOUT = 240  # seconds; a cold boot takes about 7 s here
TOOL_PINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tool-pins.txt")  # the uv the wheelhouse gets


def load_kernel_snapshot(path):
    """The kernel module of the session's source snapshot (not the working tree, which may change while
    the tier runs): the wheel, the client copies and the tests' expectations all come from it."""
    spec = importlib.util.spec_from_file_location("protoprimer_integration_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def version_text(version):
    return ".".join(str(part) for part in version)


# region: the client project

CLIENT_MAIN = textwrap.dedent(
    '''\
    """The client's code: it reports what it sees as one JSON line and exits with $CLIENT_EXIT."""
    import json
    import os
    import sys


    def _report(entry, extra):
        import proto_kernel

        derived = proto_kernel.get_config()
        try:
            import protoprimer.primer_kernel as installed

            installed_version = installed.__version__
        except ImportError:
            installed_version = None
        report = {
            "entry": entry,
            "argv": sys.argv,
            "executable": sys.executable,
            "prefix": os.path.realpath(sys.prefix),
            "base_prefix": os.path.realpath(getattr(sys, "base_prefix", sys.prefix)),
            "version": list(sys.version_info[:3]),
            "isolated": bool(sys.flags.isolated),
            "protoprimer_vars": sorted(name for name in os.environ if name.startswith("PROTOPRIMER_")),
            "virtual_env": os.environ.get("VIRTUAL_ENV"),
            "path": os.environ.get("PATH", ""),
            "kernel_path": proto_kernel.get_proto_kernel_abs_path(),
            "proto_kernel_file": os.path.abspath(proto_kernel.__file__),
            "installed_protoprimer": installed_version,
            "config": derived,
        }
        report.update(extra)
        sys.stdout.write("CLIENT-REPORT " + json.dumps(report, default=repr) + "\\n")
        sys.stdout.flush()
        return int(os.environ.get("CLIENT_EXIT", "0"))


    def main():
        """boot_env's main: it extends the bootstrap's CLI, so it parses the same arguments."""
        import proto_kernel

        args = proto_kernel.parse_args()
        return _report("boot_env", {"args": vars(args)})


    def app():
        """start_app's main: no protoprimer CLI, the arguments are the app's own."""
        return _report("start_app", {})
    '''
)


def client_pyproject(dependencies):
    deps = ", ".join(json.dumps(d) for d in dependencies)
    return textwrap.dedent(
        """\
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "client"
        version = "0.1"
        requires-python = ">=3.7"
        dependencies = [%s]

        [tool.setuptools]
        packages = ["client"]
        """
    ) % deps


# endregion: the client project

# region: runs


class Run(object):
    """A finished run of an entry script: exit code, output, and the log files it wrote."""

    def __init__(self, argv, code, stdout, stderr, logs, seconds):
        self.argv = argv
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.logs = logs  # {path: text} of the log files this run created
        self.seconds = seconds

    @property
    def log(self):
        return "".join(self.logs[path] for path in sorted(self.logs))

    @property
    def reports(self):
        return [json.loads(line[len(REPORT_PREFIX):]) for line in self.stdout.splitlines() if line.startswith(REPORT_PREFIX)]

    @property
    def report(self):
        reports = self.reports
        assert len(reports) == 1, "expected one client report:\n%s" % self.describe()
        return reports[0]

    def log_lines(self, text):
        return [line for line in self.log.splitlines() if text in line]

    def describe(self):
        return "$ %s\nexit %s after %.1f s\n--- stdout\n%s--- stderr\n%s--- log\n%s" % (
            " ".join(self.argv), self.code, self.seconds, self.stdout, self.stderr, self.log,
        )

    def assert_ok(self, code=0):
        assert self.code == code, self.describe()
        return self


class Running(object):
    """A run started in the background (in a session of its own, so it can be killed as a group)."""

    def __init__(self, repo, argv, popen, logs_before, started):
        self.repo = repo
        self.argv = argv
        self.popen = popen
        self.logs_before = logs_before
        self.started = started

    def kill(self):
        """SIGKILL the whole process group: the run and every installer it started."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, timeout=RUN_TIMEOUT):
        try:
            stdout, stderr = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            stdout, stderr = self.popen.communicate()
            raise AssertionError("%s did not finish in %d s:\n%s\n%s" % (" ".join(self.argv), timeout, stdout, stderr))
        logs = self.repo.new_logs(self.logs_before, pid=self.popen.pid)
        return Run(self.argv, self.popen.returncode, stdout, stderr, logs,
                   time.time() - self.started)


# endregion: runs

# region: the repo


class ClientRepo(object):
    """A client repo on disk. `kernel_rel` is where its kernel copy is; `env_rel` its env dir (or None)."""

    def __init__(self, root, kernel_rel, machine, env_rel=None):
        self.root = str(root)
        self.kernel_rel = kernel_rel
        self.machine = machine
        self.env_rel = env_rel

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    @property
    def kernel_copy(self):
        return self.path(self.kernel_rel)

    def venv(self, name="venv"):
        return VenvView(self.path(name))

    def read(self, rel):
        with open(self.path(rel), encoding="utf-8") as f:
            return f.read()

    def write(self, rel, text, mode=None):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if mode is not None:
            os.chmod(path, mode)

    def log_files(self):
        """{path: size} of the log files of every log dir directly under the root (log/, log.b/, ...)."""
        return dict((path, os.path.getsize(path)) for path in glob.glob(os.path.join(self.root, "*", "*.log")))

    def new_logs(self, before, pid=None):
        """The log files created since `before`; with `pid`, only those of the run whose first process had
        that pid (a log file is named `<script>.<start id>.log` and the start id ends with that pid)."""
        logs = {}
        for path in self.log_files():
            if path not in before and (pid is None or path.endswith(".%d.log" % pid)):
                with open(path, encoding="utf-8") as f:
                    logs[path] = f.read()
        return logs

    def start(self, argv, env=None, cwd=None, python=None):
        """Start `argv` (argv[0] an entry script relative to the root, run through its shebang unless
        `python` is given) in the background, in a new session."""
        env = self.machine.env() if env is None else env
        command = ([python] if python else []) + list(argv)
        before = self.log_files()
        popen = subprocess.Popen(
            command, cwd=cwd or self.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True, start_new_session=True,
        )
        return Running(self, command, popen, before, time.time())

    def run(self, argv, env=None, cwd=None, python=None, timeout=RUN_TIMEOUT):
        return self.start(argv, env=env, cwd=cwd, python=python).finish(timeout)

    def prime(self, *args, **kwargs):
        return self.run(["./prime"] + list(args), **kwargs)


class VenvView(object):
    """What can be observed of a venv without running it."""

    def __init__(self, path):
        self.dir = path
        self.python = os.path.join(path, "bin", "python")
        self.stamp_file = os.path.join(path, "protoprimer.stamp")

    def exists(self):
        return os.path.isdir(self.dir)

    def stamp(self):
        """The stamp as a dict (None when there is none)."""
        if not os.path.isfile(self.stamp_file):
            return None
        values = {}
        with open(self.stamp_file, encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep and not line.startswith("#"):
                    values[key] = value
        return values

    def site_packages(self):
        found = glob.glob(os.path.join(self.dir, "lib", "python*", "site-packages"))
        assert len(found) == 1, "expected one site-packages in %s, found %s" % (self.dir, found)
        return found[0]

    def installed(self):
        """{entry name: mtime_ns} of the entries of site-packages (dist-info dirs, packages, .pth files):
        an installer run changes it."""
        site = self.site_packages()
        return dict((name, os.stat(os.path.join(site, name)).st_mtime_ns) for name in os.listdir(site))

    def dist_infos(self):
        return sorted(name for name in os.listdir(self.site_packages()) if name.endswith(".dist-info"))

    def cfg(self):
        values = {}
        with open(os.path.join(self.dir, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip()] = value.strip()
        return values


def write_client_repo(
    machine,
    root,
    layout="instant",
    python_version=None,
    dependencies=("protoprimer",),
    kernel_text=None,
    files=None,
    envs=None,
    default_env=None,
    global_conf=None,
    plain=False,
):
    """Write a client repo and its entry scripts (`./prime`: boot_env of client.main:main; `cmd/app`:
    start_app of client.main:app), both written by the kernel's own `wrap`: in its default form on POSIX
    (the shell front, with its fast path), or with `plain` in the Python form (`wrap --plain`).

    layout "instant": the kernel copy at the root and `.python-version` (no JSON unless `files` adds some);
    layout "max": the kernel copy in cmd/proto_code/ with its primer file, gconf/proto_kernel.json (the
    required version, `global_conf`, `default_env`), and one dir per entry of `envs` ({rel dir: local conf}).
    `kernel_text` is the copy's text (default: the kernel source as it is, so the first boot refreshes it).
    """
    root = str(root)
    os.makedirs(root, exist_ok=True)
    version = python_version or version_text(machine.primary)
    kernel_text = machine.kernel_text if kernel_text is None else kernel_text
    out = {
        "pyproject.toml": client_pyproject(list(dependencies)),
        "client/__init__.py": "",
        "client/main.py": CLIENT_MAIN,
    }
    if layout == "instant":
        kernel_rel = "proto_kernel.py"
        out[".python-version"] = version + "\n"
        env_rel = None
    elif layout == "max":
        kernel_rel = "cmd/proto_code/proto_kernel.py"
        out["cmd/proto_code/proto_kernel.json"] = json.dumps({"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"})
        conf = {"required_python_version": version, "local_conf_symlink_rel_path": "lconf"}
        if default_env:
            conf["default_env_dir_rel_path"] = default_env
        conf.update(global_conf or {})
        out["gconf/proto_kernel.json"] = json.dumps(conf, indent=4)
        for env_dir, local_conf in (envs or {}).items():
            out[env_dir + "/proto_kernel.json"] = json.dumps(local_conf or {}, indent=4)
        env_rel = default_env
    else:
        raise ValueError("unknown layout %r" % layout)
    out[kernel_rel] = kernel_text
    out.update(files or {})
    repo = ClientRepo(root, kernel_rel, machine, env_rel)
    for rel, text in out.items():
        repo.write(rel, text if isinstance(text, str) else json.dumps(text, indent=4))
    os.chmod(repo.kernel_copy, 0o755)
    for entry_func, script, main in (("boot_env", "prime", "client.main:main"), ("start_app", "cmd/app", "client.main:app")):
        wrap = subprocess.run(
            [machine.python(machine.primary), repo.kernel_copy, "wrap", entry_func, "-s", script, "-m", main]
            + (["--plain"] if plain else []),
            cwd=root, env=machine.env(), capture_output=True, text=True, timeout=60,
        )
        assert wrap.returncode == 0 and "wrote " in wrap.stdout, "wrap failed:\n%s\n%s" % (wrap.stdout, wrap.stderr)
    return repo


# endregion: the repo

# region: the machine


class RealMachine(object):
    """The interpreters found at test time, the session's wheelhouse and HOME, and PATH builders."""

    def __init__(self, root, interpreters, primary, wheelhouse, home, kernel_file):
        self.root = str(root)
        self.kernel_file = kernel_file  # the session's snapshot of protoprimer/primer_kernel.py
        with open(kernel_file, encoding="utf-8") as f:
            self.kernel_text = f.read()
        self.kernel = load_kernel_snapshot(kernel_file)
        self.interpreters = dict(interpreters)  # (major, minor) -> path
        self.primary = primary
        self.wheelhouse = wheelhouse
        self.home = home
        self.supported = sorted(v for v in self.interpreters if (3, 7) <= v)
        self._full_versions = {}
        self.tools_dir = self.bin_dir("tools", versions=(), python3=None, sh=True)
        self.default_bin = self.bin_dir("bin", versions=self.supported, python3=primary)

    def python(self, version):
        return self.interpreters[version]

    def full_version(self, version):
        """'3.11.7' for (3, 11): asked of the interpreter once."""
        if version not in self._full_versions:
            out = subprocess.run([self.python(version), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                                 capture_output=True, text=True, timeout=60)
            self._full_versions[version] = out.stdout.strip()
        return self._full_versions[version]

    def other_version(self, minimum=(3, 8)):
        """A supported version other than the primary one (the newest such), or None."""
        others = [v for v in self.supported if v != self.primary and v >= minimum]
        return others[-1] if others else None

    def bin_dir(self, name, versions=None, python3="primary", sh=False, extra=None):
        """A directory of symlinks (`name` under the machine's root, or an absolute path): `python3.X` for
        each version, `python3`, `sh`, and `extra` ({name: target}). Made once per name."""
        directory = os.path.join(self.root, name)
        os.makedirs(directory, exist_ok=True)
        links = {}
        for version in self.supported if versions is None else versions:
            links["python%d.%d" % version] = self.python(version)
        if python3 == "primary":
            python3 = self.primary
        if python3 is not None:
            links["python3"] = self.python(python3)
        if sh:
            links["sh"] = shutil.which("sh") or "/bin/sh"
        links.update(extra or {})
        for link, target in links.items():
            path = os.path.join(directory, link)
            if not os.path.lexists(path):
                os.symlink(target, path)
        return directory

    def path(self, *dirs):
        """PATH: the given dirs (default: the session's bin dir), then the tools dir."""
        return os.pathsep.join(list(dirs or [self.default_bin]) + [self.tools_dir])

    def env(self, path=None, **extra):
        env = {
            "PATH": path or self.path(),
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_FIND_LINKS": self.wheelhouse,
            "PIP_NO_INDEX": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        env.update(extra)
        return dict((k, v) for k, v in env.items() if v is not None)


def snapshot_source(source_root, snapshot):
    """Copy what the protoprimer wheel is built from; return the snapshot's kernel file."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("protoprimer", "protoprimer_harness"):
        shutil.copytree(os.path.join(source_root, name), os.path.join(snapshot, name), ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(source_root, name), os.path.join(snapshot, name))
    return os.path.join(snapshot, "protoprimer", "primer_kernel.py")


def build_wheelhouse(directory, snapshot, versions):
    """The session's wheelhouse: the build backend for each Python version that builds editables here
    (setuptools and wheel, downloaded), the protoprimer wheel built from the source snapshot (so the
    build writes nothing into the working tree), and what its harness extra needs for this process's
    Python (the primary one whenever it can be: see download_harness_deps). Returns None, or why it
    could not be built."""
    os.makedirs(directory, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    for version in versions:
        result = subprocess.run(
            pip + ["download", "--quiet", "--only-binary=:all:", "--python-version", version_text(version),
                   "--dest", directory, "setuptools", "wheel"],
            capture_output=True, text=True, timeout=300,
        )
        if result.returncode != 0:
            return "pip download setuptools wheel (for Python %s) failed:\n%s" % (version_text(version), result.stderr[-2000:])
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=directory)
    result = subprocess.run(
        pip + ["wheel", "--quiet", "--no-deps", "--wheel-dir", directory, snapshot],
        capture_output=True, text=True, timeout=300, env=env,
    )
    if result.returncode != 0:
        return "pip wheel %s failed:\n%s" % (snapshot, result.stderr[-2000:])
    wheels = glob.glob(os.path.join(directory, "protoprimer-*.whl"))
    if len(wheels) != 1:
        return "expected one protoprimer wheel in %s after pip wheel, found %s" % (directory, wheels)
    return download_harness_deps(directory, wheels[0], tuple(sys.version_info[:2]))


def download_harness_deps(directory, wheel, version):
    """Add to the wheelhouse what `pip install 'protoprimer[harness]'` needs besides protoprimer on Python
    `version`: the harness extra's requirements as `wheel` declares them and theirs (pluggy, iniconfig,
    tomli and exceptiongroup before 3.11, ...), wheels only, at the versions constraints.txt pins (one
    pip download). None, or why not."""
    constraints = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "constraints.txt")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version",
         version_text(version), "--constraint", os.path.normpath(constraints), "--dest", directory,
         wheel + "[harness]"],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        return "pip download of protoprimer[harness]'s requirements (for Python %s) failed:\n%s" % (
            version_text(version), result.stderr[-2000:])
    return None


def download_uv(directory):
    """Add the uv wheel to the wheelhouse (for the venv_uv driver's tool venv). None, or why not."""
    if glob.glob(os.path.join(directory, "uv-*.whl")):
        return None
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps", "--constraint", TOOL_PINS,
         "--dest", directory, "uv"],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        return "pip download uv failed:\n%s" % result.stderr[-2000:]
    return None


# endregion: the machine


def make_relocated_python(python, dest):
    """A separate installation of the interpreter `python` at `dest` that can be deleted: its binary
    copied to dest/bin (with a `python3` link), its standard library linked in as dest/lib/pythonX.Y.
    Returns dest/bin/pythonX.Y, or None when the interpreter cannot run from there (its prefix must be
    dest, and venv and ensurepip must import)."""
    facts = subprocess.run([python, "-c", "import sys; print(sys.base_prefix); print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, timeout=60)
    if facts.returncode != 0:
        return None
    base_prefix, short = facts.stdout.split()
    stdlib = os.path.join(base_prefix, "lib", "python" + short)
    if not os.path.isdir(stdlib):
        return None
    os.makedirs(os.path.join(dest, "bin"))
    os.makedirs(os.path.join(dest, "lib"))
    copy = os.path.join(dest, "bin", "python" + short)
    shutil.copy2(os.path.realpath(python), copy)
    os.symlink("python" + short, os.path.join(dest, "bin", "python3"))
    os.symlink(stdlib, os.path.join(dest, "lib", "python" + short))
    check = subprocess.run([copy, "-c", "import sys, venv, ensurepip; print(sys.prefix)"],
                           capture_output=True, text=True, timeout=60, env={"PATH": os.defpath})
    if check.returncode != 0 or os.path.realpath(check.stdout.strip()) != os.path.realpath(dest):
        return None
    return copy


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
