"""The two backends of the contract tests and the real machine they share (see conftest.py)."""

import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import pytest

from protoprimer_harness._real_interpreters import find_real_interpreters
from protoprimer import primer_kernel as kernel

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_FILE = os.path.abspath(kernel.__file__)
PROGRAMS_FILE = os.path.join(HERE, "contract_programs.py")
CHAIN_SCRIPT_FILE = os.path.join(HERE, "chain_script.py")
TOOL_PINS = os.path.join(HERE, "..", "tool-pins.txt")  # the tool versions the wheelhouse gets
SHELL_PATHS = ("/bin/bash", "/bin/zsh", "/bin/sh")
# Releases the fake index falls back to when the wheelhouse cannot be had (offline).
FALLBACK_VERSIONS = {"packaging": "24.0", "setuptools": "70.0.0", "uv": "0.5.11"}
WHEEL_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-]+)-.*\.whl$")


def _read(path: str) -> str:
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


# region: the real machine


@dataclass
class MachineFacts:
    """The real interpreter both backends use, and what the fake world copies from this machine."""

    python: str  # as found (pyenv: .../bin/python, a symlink)
    version: str  # "3.11.7"
    pip_version: str  # what `python -m venv` installs (ensurepip's bundled pip)
    shells: Dict[str, str]  # the shells this machine has: path -> name
    interpreters: Dict[str, str] = field(default_factory=dict)  # every real interpreter found: path -> X.Y.Z

    @property
    def short_version(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def real_python(self) -> str:
        return os.path.realpath(self.python)

    @property
    def prefix(self) -> str:
        return os.path.dirname(os.path.dirname(self.real_python))

    def newest_from(self, minimum: Tuple[int, int]) -> Optional[str]:
        """The newest real interpreter of at least `minimum` (its path), or None."""
        def key(path):
            return tuple(int(p) for p in self.interpreters[path].split(".")[:2])
        candidates = [p for p in self.interpreters if key(p) >= minimum]
        return max(candidates, key=key) if candidates else None


def find_facts() -> MachineFacts:
    found = find_real_interpreters()
    running = tuple(sys.version_info[:2])
    version = running if running in found else max((v for v in found if v >= (3, 8)), default=None)
    if version is None:
        pytest.skip("no real Python 3.8+ interpreter found (pyenv or python3.X on PATH)")
    python = found[version]
    proc = kernel.RealProcesses()
    probe = proc.run([python, "-E", "-s", "-c", kernel.PYTHON_PROBE_CODE])
    pip = proc.run([python, "-I", "-c", "import ensurepip; print(ensurepip.version())"])
    if probe.returncode != 0 or pip.returncode != 0:
        pytest.skip("the real interpreter %s does not run, or has no ensurepip: %s%s"
                    % (python, probe.stderr, pip.stderr))
    shells = {path: os.path.basename(path) for path in SHELL_PATHS if os.access(path, os.X_OK)}
    interpreters = {}
    for path in sorted(found.values()):
        answer = proc.run([path, "-E", "-s", "-c", kernel.PYTHON_PROBE_CODE])
        if answer.returncode == 0:
            interpreters[path] = answer.stdout.splitlines()[0]
    return MachineFacts(python, probe.stdout.splitlines()[0], pip.stdout.strip(), shells, interpreters)


def mirror_interpreter(world: Any, path: str, version: str) -> None:
    """Put a simulated interpreter of `version` in `world` where the real one is: the symlinks on the way
    from `path` to its real file as symlinks (same targets), the real file as the simulated interpreter."""
    hops = 0
    while os.path.islink(path) and hops < 40:
        target = os.readlink(path)
        world.add_symlink(path, target)
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
        hops += 1
    world.add_interpreter(os.path.realpath(path), version)


class RealMachine:
    """What the real backend shares across the session, made on first use and waited for there (never in
    the background: a thread running while a fake test has pyfakefs active would hit the fake filesystem)."""

    def __init__(self, base: str, facts: MachineFacts):
        self.base = base
        self.facts = facts
        self.wheelhouse = os.path.join(base, "wheelhouse")
        self.uv_cache = os.path.join(base, "uv-cache")
        self._wheelhouse_done = False
        self._wheelhouse_problem: Optional[str] = None
        self._uv_problem: Optional[str] = None
        self._venvs_done = False
        self.venv_dir = os.path.join(base, "venv")
        self.venv_result: Any = None
        self.uv_tool_dir = os.path.join(base, "cache", "venv", "uv.venv")
        self.uv_tool_results: Tuple[Any, ...] = ()
        # A venv of Python 3.12+ (pip's freeze differs there), when this machine has one.
        self.newest_python = facts.newest_from((3, 12))
        self.newest_venv_dir = os.path.join(base, "venv-newest")
        self.newest_venv_result: Any = None

    # -- the wheelhouse: pip download, once

    def _download(self, names: List[str]) -> Optional[str]:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
             "--retries", "1", "--timeout", "20", "--constraint", TOOL_PINS, "--dest", self.wheelhouse] + names,
            capture_output=True, text=True, timeout=600,
        )
        if result.returncode == 0:
            return None
        return "pip download %s failed:\n%s" % (" ".join(names), result.stderr[-2000:])

    def ensure_wheelhouse(self) -> None:
        if self._wheelhouse_done:
            return
        self._wheelhouse_done = True
        os.makedirs(self.wheelhouse, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            build = pool.submit(self._download, ["setuptools", "wheel", "packaging"])
            uv = pool.submit(self._download, ["--no-deps", "uv"])
            self._wheelhouse_problem = build.result()
            self._uv_problem = uv.result()

    def versions(self) -> Dict[str, str]:
        """name -> version of the wheels in the wheelhouse (downloading it first)."""
        self.ensure_wheelhouse()
        found = {}
        for path in glob.glob(os.path.join(self.wheelhouse, "*.whl")):
            match = WHEEL_NAME.match(os.path.basename(path))
            if match:
                found[match.group("name").lower().replace("_", "-")] = match.group("version")
        return found

    def require_wheelhouse(self) -> None:
        self.ensure_wheelhouse()
        if self._wheelhouse_problem:
            pytest.skip("no wheelhouse for offline installs: %s" % self._wheelhouse_problem)

    def require_uv(self) -> None:
        self.ensure_wheelhouse()
        if self._uv_problem or "uv" not in self.versions():
            pytest.skip("uv cannot be had: %s" % (self._uv_problem or "no uv wheel"))

    def pip_env(self, env: Dict[str, str]) -> Dict[str, str]:
        """`env` made hermetic for the real pip and uv: no config, no index, the wheelhouse only."""
        env = dict(env)
        env.update(
            PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=self.wheelhouse, PIP_NO_CACHE_DIR="1",
            UV_NO_INDEX="1", UV_FIND_LINKS=self.wheelhouse, UV_CACHE_DIR=self.uv_cache, UV_NO_CONFIG="1",
            UV_PYTHON_DOWNLOADS="never",
        )
        return env

    # -- the session's venvs: the kernel's argv through the kernel's real adapter, concurrently

    def ensure_venvs(self) -> None:
        if self._venvs_done:
            return
        self._venvs_done = True
        self.ensure_wheelhouse()
        proc = kernel.RealProcesses()
        env = kernel.clean_env(dict(os.environ))
        python = self.facts.python
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            venv = pool.submit(proc.run, [python, "-I", "-m", "venv", self.venv_dir], env)
            tool = pool.submit(proc.run, [python, "-I", "-m", "venv", self.uv_tool_dir], env)
            newest = (pool.submit(proc.run, [self.newest_python, "-I", "-m", "venv", self.newest_venv_dir], env)
                      if self.newest_python else None)
            self.venv_result = venv.result()
            tool_result = tool.result()
            self.newest_venv_result = newest.result() if newest else None
        install = None
        if tool_result.returncode == 0 and not self._uv_problem:
            tool_python = os.path.join(self.uv_tool_dir, "bin", "python")
            tool_env = dict(env, PATH=os.path.join(self.uv_tool_dir, "bin") + os.pathsep + env.get("PATH", ""))
            install = proc.run([tool_python, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                                "uv"], self.pip_env(tool_env))
        self.uv_tool_results = (tool_result, install)


# endregion: the real machine

# region: the backends

# A shell command that reports what the shell sees (the real one runs it; the fake records instead).
SHELL_REPORT = 'echo "contract-report pid=$$"; echo "contract-report cwd=$(pwd)"; env'


def _contract_env(env: Dict[str, str]) -> Dict[str, str]:
    return {k: v for k, v in sorted(env.items()) if k.startswith("CONTRACT_")}


def _parse_shell_report(stdout: str) -> Dict[str, Any]:
    seen: Dict[str, Any] = {"env": {}}
    for line in stdout.splitlines():
        if line.startswith("contract-report "):
            key, _, value = line[len("contract-report "):].partition("=")
            seen[key] = value
        elif line.startswith("CONTRACT_"):
            key, _, value = line.partition("=")
            seen["env"][key] = value
    seen["env"] = dict(sorted(seen["env"].items()))
    return seen


@dataclass
class ChainOutcome:
    """How a started process chain ended: its exit code, its output, and (fake only) the harness outcome."""

    returncode: int
    stdout: str
    stderr: str
    outcome: Any = None


class Backend:
    """The API a contract test body uses; see the module docstring. Subclasses: FakeBackend, RealBackend."""

    name = ""

    def __init__(self, request, root: str, facts: MachineFacts, machine: RealMachine):
        self.request = request
        self.root = root
        self.facts = facts
        self.machine = machine
        self.python = facts.python
        self.version = facts.version
        self.placeholders: List[Tuple[str, str]] = [(root, "<ROOT>")]

    # -- tools

    def tool_env(self, venv: Optional[str] = None) -> Dict[str, str]:
        """The backend's environment as the kernel hands it to a tool (`venv`'s bin first on PATH), made
        hermetic for pip and uv by the machine."""
        env = kernel.clean_env(self.host.env.variables())
        if venv is not None:
            env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env.get("PATH", "")
        return self.machine.pip_env(env)

    # -- comparing

    def add_placeholder(self, path: str, name: str) -> None:
        self.placeholders.append((path, name))
        self.placeholders.sort(key=lambda item: -len(item[0]))

    def norm(self, value: Any) -> Any:
        """`value` with backend-specific paths replaced by placeholders (strings, lists, tuples, dicts)."""
        if isinstance(value, str):
            for path, name in self.placeholders:
                value = value.replace(path, name)
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(self.norm(item) for item in value)
        if isinstance(value, dict):
            return {self.norm(k): self.norm(v) for k, v in value.items()}
        return value

    def known_difference(self, finding: str, on: str = "fake") -> None:
        """This test shows a difference between the fake and the real thing (`finding` says which): the case
        of backend `on` is expected to fail (strictly)."""
        if self.name == on:
            # raises=AssertionError: only the body's comparison is expected to fail, not a crash or a guard
            self.request.node.add_marker(pytest.mark.xfail(
                reason="known fake/real difference: " + finding, strict=True, raises=AssertionError))

    # -- files (plain os calls: on the fake backend they hit the fake filesystem)

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def write(self, rel: str, text: str, mode: int = 0o644) -> str:
        self._ensure()
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def mkdir(self, rel: str) -> str:
        self._ensure()
        path = self.path(rel)
        os.makedirs(path, exist_ok=True)
        return path

    def symlink(self, rel: str, target: str) -> str:
        self._ensure()
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
        return path

    def read(self, path: str) -> str:
        self._ensure()
        return _read(path)

    def listing(self, path: str) -> List[str]:
        self._ensure()
        return sorted(os.listdir(path))

    def write_project(self, rel: str, name: str, version: str, dependencies=()) -> str:
        """A tiny local project: pyproject.toml (setuptools backend) and one package."""
        deps = ", ".join('"%s"' % d for d in dependencies)
        self.write(rel + "/pyproject.toml", (
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            '[project]\nname = "%s"\nversion = "%s"\ndependencies = [%s]\n' % (name, version, deps)))
        self.write(rel + "/%s/__init__.py" % name, '__version__ = "%s"\n' % version)
        return self.path(rel)

    # -- to implement

    @property
    def host(self):
        raise NotImplementedError

    def _ensure(self) -> None:
        pass


class FakeBackend(Backend):
    name = "fake"

    def __init__(self, request, root, facts, machine, world_factory):
        super().__init__(request, root, facts, machine)
        versions = dict(FALLBACK_VERSIONS)
        versions.update({k: v for k, v in machine.versions().items() if k in FALLBACK_VERSIONS})
        self.versions = versions
        self.world = world_factory(root=root)  # a harness.World, closed by the `world` fixture
        world = self.world
        world.env["CONTRACT_VAR"] = "contract value"
        world.pip_version = facts.pip_version
        # The real interpreters' files, as simulated interpreters at the same paths (pyenv: python is a
        # link to python3, a link to python3.X).
        for path, version in sorted(dict(facts.interpreters, **{facts.python: facts.version}).items()):
            mirror_interpreter(world, path, version)
        # The process the port tests run in is this test process: its interpreter too (a venv's python
        # when the tests run in a venv), so that the environment port's facts are the same on both.
        running = sys.executable
        if running not in (facts.python, facts.real_python):
            version = "%d.%d.%d" % sys.version_info[:3]
            if sys.prefix != sys.base_prefix:
                base = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
                if os.path.realpath(base) != facts.real_python:
                    world.add_interpreter(os.path.realpath(base), version)
                world.add_interpreter(running, version, venv=True, base=os.path.realpath(base), pip=False)
            else:
                world.add_interpreter(running, version)
        world.without_default_shells()
        for path, name in facts.shells.items():
            world.add_shell(path, name)
        world.add_package("packaging", versions["packaging"])
        world.add_package("setuptools", versions["setuptools"])
        world.add_package("uv", versions["uv"])
        self.session = None
        self.process = None
        self._streams_read = (0, 0)

    def _ensure(self) -> None:
        if self.session is None:
            self.session = self.world.activate()
            self.process = self.session.open_process(
                sys.executable, argv=["contract-test"], cwd=self.root, isolated=False)

    @property
    def host(self):
        self._ensure()
        return self.process.host

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None

    def output(self) -> Tuple[str, str]:
        """What the process wrote to its stdout/stderr since the last call."""
        self._ensure()
        out, err = self.process.stdout, self.process.stderr
        read_out, read_err = self._streams_read
        self._streams_read = (len(out), len(err))
        return out[read_out:], err[read_err:]

    def broken_python(self, rel: str) -> str:
        from protoprimer_harness._fake_interpreters import interpreter_file_text

        return self.write(rel, interpreter_file_text(self.version, broken=True), mode=0o755)

    def hold_lock(self, rel: str, alive: bool) -> int:
        if self.session is not None:
            raise AssertionError("hold_lock() must come before the backend is used")
        pid = 4242
        self.world.hold_lock(self.path(rel), pid=pid, alive=alive)
        return pid

    def dead_pid(self) -> int:
        self._ensure()
        return self.session.pids.allocate()  # a pid no simulated process ever had

    def add_module(self, files: Dict[str, str]) -> str:
        """Module files (relative to site-packages) importable by the process's interpreter; the directory."""
        self._ensure()
        site = self.process.env.interpreter.site_packages  # the running interpreter's (as sys.path would have it)
        for rel, text in files.items():
            path = os.path.join(site, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        self.add_placeholder(site, "<SITE>")
        return site

    def create_venv(self, rel: str = "venv", newest: bool = False):
        """`[python, -I, -m, venv, ROOT/rel]`; `newest`: with the newest Python 3.12+ instead."""
        python = self.facts.newest_from((3, 12)) if newest else self.python
        venv = self.path(rel)
        result = self.host.proc.run([python, "-I", "-m", "venv", venv], env=self.tool_env())
        self.add_placeholder(venv, "<VENV>")
        return result, venv

    def uv_tool(self):
        tool = self.path("cache", "venv", "uv.venv")
        self.add_placeholder(tool, "<UVTOOL>")
        created = self.host.proc.run([self.python, "-I", "-m", "venv", tool], env=self.tool_env())
        installed = self.host.proc.run(
            [os.path.join(tool, "bin", "python"), "-I", "-m", "pip", "install", "--disable-pip-version-check",
             "--no-input", "uv"], env=self.tool_env(tool))
        return created, installed, os.path.join(tool, "bin", "uv")

    def run_chain(self, argv: List[str], env: Dict[str, str]) -> ChainOutcome:
        """Start `argv` (a simulated interpreter running a copy of chain_script.py) with exactly `env` as a
        new process chain; the stub kernel's main is the same program the real script runs."""
        from protoprimer_harness._stub_kernel import stub_kernel
        from contract_programs import chain_program

        def main(host):
            raise SystemExit(chain_program(host))

        self._ensure()
        # session.run merges its env over the world's: for exactly `env`, the world's env is `env` meanwhile.
        saved, self.world.env = self.world.env, dict(env)
        try:
            outcome = self.session.run(argv, cwd=self.root, kernel=stub_kernel(main=main))
        finally:
            self.world.env = saved
        return ChainOutcome(outcome.exit_code, outcome.stdout, outcome.stderr, outcome)

    def shell_seen(self, chain: ChainOutcome) -> Dict[str, Any]:
        """The shell a chain ended in (replaced into [SHELL, -c, SHELL_REPORT]): its pid and CONTRACT_ variables
        (the fake's record of the shell)."""
        shell = chain.outcome.shell
        assert shell is not None, "the chain did not end in a shell: %r" % chain.outcome.chain()
        return {"pid": chain.outcome.processes[-1].pid, "contract_env": _contract_env(shell.env)}

    def run_seen(self, result) -> Dict[str, Any]:
        """What the last `run` of [SHELL, -c, SHELL_REPORT] saw: its cwd and CONTRACT_ variables (the fake's
        record of the command)."""
        record = self.process.outcome.commands[-1]
        assert record.argv == result.argv
        return {"cwd": record.cwd, "contract_env": _contract_env(record.env)}


class RealBackend(Backend):
    name = "real"

    def __init__(self, request, root, facts, machine, monkeypatch):
        super().__init__(request, root, facts, machine)
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("CONTRACT_VAR", "contract value")
        monkeypatch.setattr(sys, "argv", ["contract-test"])
        monkeypatch.setattr(sys, "_protoprimer_memory", {}, raising=False)
        monkeypatch.chdir(root)
        self._host = kernel.real_host()
        self._capfd = request.getfixturevalue("capfd")
        self._children: List[subprocess.Popen] = []
        self._modules: List[str] = []

    @property
    def host(self):
        return self._host

    def close(self) -> None:
        for child in self._children:
            if child.poll() is None:
                child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream:
                    stream.close()
        for name in list(sys.modules):
            if any(name == m or name.startswith(m + ".") for m in self._modules):
                del sys.modules[name]

    def output(self) -> Tuple[str, str]:
        captured = self._capfd.readouterr()
        return captured.out, captured.err

    def broken_python(self, rel: str) -> str:
        """A real interpreter that cannot start: the real binary copied where its standard library is not
        (a landmark `os.py` makes it take that directory as its prefix, where `encodings` is missing)."""
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy2(self.facts.real_python, path)
        landmark = os.path.join(os.path.dirname(os.path.dirname(path)), "lib", "python" + self.facts.short_version,
                                "os.py")
        self.write(os.path.relpath(landmark, self.root), "")
        return path

    def _child(self, code: str, *args: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", code, KERNEL_FILE] + list(args), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        self._children.append(child)
        return child

    def hold_lock(self, rel: str, alive: bool) -> int:
        """A real other process takes the lock with the real adapter; it keeps it (alive) or exits without
        unlocking (dead: the OS drops the lock, its pid stays in the file)."""
        code = (
            "import importlib.util, os, sys\n"
            "spec = importlib.util.spec_from_file_location('contract_kernel', sys.argv[1])\n"
            "k = importlib.util.module_from_spec(spec); spec.loader.exec_module(k)\n"
            "handle = k.RealProcesses().try_lock(sys.argv[2])\n"
            "print('locked' if handle is not None else 'refused', flush=True)\n"
            "if sys.argv[3] == 'dead': os._exit(0)\n"
            "sys.stdin.read()\n"
        )
        child = self._child(code, self.path(rel), "alive" if alive else "dead")
        assert child.stdout.readline().strip() == "locked"
        if not alive:
            child.wait()
        return child.pid

    def dead_pid(self) -> int:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        child.wait()
        return child.pid

    def add_module(self, files: Dict[str, str]) -> str:
        site = self.path("site")
        for rel, text in files.items():
            self.write(os.path.join("site", rel), text)
            self._modules.append(rel.split("/")[0].split(".")[0])
        self.monkeypatch.syspath_prepend(site)
        self.add_placeholder(site, "<SITE>")
        return site

    def create_venv(self, rel: str = "venv", newest: bool = False):
        """The session's venv (`rel` is the fake's; the real one is not under the root), made by the kernel's
        argv (`[python, -I, -m, venv, DIR]`) through the real adapter once per session and shared by the tests
        (only the pip tests install into them). `newest`: the venv of the newest Python 3.12+."""
        self.machine.ensure_venvs()
        if newest:
            self.add_placeholder(self.machine.newest_venv_dir, "<VENV>")
            return self.machine.newest_venv_result, self.machine.newest_venv_dir
        self.add_placeholder(self.machine.venv_dir, "<VENV>")
        return self.machine.venv_result, self.machine.venv_dir

    def uv_tool(self):
        self.machine.require_uv()
        self.machine.ensure_venvs()
        self.add_placeholder(self.machine.uv_tool_dir, "<UVTOOL>")
        created, installed = self.machine.uv_tool_results
        return created, installed, os.path.join(self.machine.uv_tool_dir, "bin", "uv")

    def run_chain(self, argv: List[str], env: Dict[str, str]) -> ChainOutcome:
        result = subprocess.run(argv, env=env, cwd=self.root, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=60)
        return ChainOutcome(result.returncode, result.stdout, result.stderr)

    def shell_seen(self, chain: ChainOutcome) -> Dict[str, Any]:
        seen = _parse_shell_report(chain.stdout)
        return {"pid": int(seen["pid"]), "contract_env": seen["env"]}

    def run_seen(self, result) -> Dict[str, Any]:
        seen = _parse_shell_report(result.stdout)
        return {"cwd": seen["cwd"], "contract_env": seen["env"]}


# endregion: the backends
