"""A world materialised on one pyfakefs filesystem, in which any number of commands run.

Invariants:
- exactly one pyfakefs `Patcher` per session (its set-up is the expensive part), started by `start()`
  and stopped by `close()` / leaving the `with` block;
- everything read from the real disk (the kernel source, real directories) is read before the patcher
  starts; after that, every file operation of the harness and the kernel hits the fake filesystem;
- the fake clock and pid counter belong to the session, so they keep increasing across its runs.

`activate(world)` is activation: `World.activate()` calls it. A session reads its world (a
`protoprimer_harness.world.World`) by attribute and imports only what the world holds
(`protoprimer_harness._entries`), so the world module can import this one and not the reverse.
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ._entries import DirEntry, FileEntry, RealDirEntry, RealRepoEntry, SymlinkEntry
from .errors import HarnessError
from ._fake_environment import FakeClock, PidCounter
from ._fake_fs import active_fake_filesystem, fast_copytree, write_file
from ._fake_interpreters import identify_interpreter
from ._fake_tools import DEFAULT_TOOLS
from ._repo import real_node, repo_nodes, seeded_pins
from ._session_state import SessionState, make_fault
from .outcome import Outcome
from ._runner import DEFAULT_MAX_PROCESSES, Runner, RunRequest, split_command
from .tools._shells import shell_file_text

# (absolute path, kind, payload, executable): kind is "dir", "file" (payload bytes) or "symlink" (target).
Node = Tuple[str, str, Any, bool]


def default_kernel() -> Any:
    from protoprimer import primer_kernel

    return primer_kernel


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _real_tree_nodes(real_src: str, dst: str, exclude: Sequence[str]) -> List[Node]:
    """The nodes of the real tree `real_src`, placed at `dst` (read from the real disk, now)."""
    if not os.path.isdir(real_src):
        raise HarnessError("copy_real_dir: %s is not a directory" % real_src)
    nodes: List[Node] = [(dst, "dir", None, False)]
    for dir_path, dir_names, file_names in os.walk(real_src):
        dir_names[:] = sorted(name for name in dir_names if name not in exclude)
        rel_dir = os.path.relpath(dir_path, real_src)
        target_dir = os.path.normpath(os.path.join(dst, rel_dir))
        for name in list(dir_names):
            source = os.path.join(dir_path, name)
            if os.path.islink(source):
                nodes.append((os.path.join(target_dir, name), "symlink", os.readlink(source), False))
                dir_names.remove(name)
            else:
                nodes.append((os.path.join(target_dir, name), "dir", None, False))
        nodes.extend(real_node(os.path.join(dir_path, name), os.path.join(target_dir, name))
                     for name in sorted(file_names) if name not in exclude)
    return nodes


COREUTILS = ("/usr/bin/readlink", "/usr/bin/ls", "/usr/bin/cksum")  # what an entry script's shell front runs


def plan_nodes(world: Any, kernel_source: bytes) -> List[Node]:
    """Every node to create for `world` (a World), in order, with all real content already read."""
    nodes: List[Node] = [(world.root, "dir", None, False)]
    nodes += [(d, "dir", None, False) for d in world.path]
    home = world.env.get("HOME")
    if home:
        nodes.append((home, "dir", None, False))
    for shell_path, name in sorted(world.shells.items()):
        nodes.append((shell_path, "file", shell_file_text(name).encode("utf-8"), True))
    if world.shells:  # the coreutils a POSIX shell script may call (the fast entry front's `readlink`, `ls`, `cksum`)
        for tool in COREUTILS:
            nodes.append((tool, "file", ("#!/bin/sh\n# simulated: coreutils %s\n" % os.path.basename(tool)).encode(), True))
    for path, entry in world.entries.items():
        if isinstance(entry, DirEntry):
            nodes.append((path, "dir", None, False))
        elif isinstance(entry, SymlinkEntry):
            nodes.append((path, "symlink", entry.target, False))
        elif isinstance(entry, RealDirEntry):
            nodes += _real_tree_nodes(entry.real_src, path, entry.exclude)
        elif isinstance(entry, RealRepoEntry):
            nodes += repo_nodes(entry.real_src, path)
        elif isinstance(entry, FileEntry):
            if entry.kernel_source:
                data = kernel_source
            elif entry.real_source is not None:
                data = _read_bytes(entry.real_source)
            else:
                data = (entry.text or "").encode("utf-8")
            nodes.append((path, "file", data, entry.executable))
    return nodes


def seed_pins(world: Any, nodes: List[Node]) -> List[Tuple[str, str]]:
    """The (name, version) releases the world's constraints add to its package index: the pins of its repos'
    constraints files (`World.add_repo`) and of `World.add_packages_from_constraints`, as the planned nodes
    hold them, less the releases the world declares itself."""
    repo_dirs = [path for path, entry in world.entries.items()
                 if isinstance(entry, RealRepoEntry) and entry.seed_index]
    sources = getattr(world, "constraints", ())
    return seeded_pins(repo_dirs, [s.path for s in sources if s.path is not None],
                       [s.text for s in sources if s.text is not None], nodes, world.removed,
                       [(spec.name, spec.version) for spec in world.packages])


def load_mains(world: Any) -> None:
    """Import the client functions the world's mains name (the main "import"), while the real disk is
    still the filesystem: pyfakefs then patches their modules like the others."""
    for main in world.mains.values():
        load = getattr(main, "load", None)
        if load is not None:
            load()


def materialise(nodes: List[Node], removed: Sequence[str]) -> None:
    """Create `nodes` on the active (fake) filesystem, then delete the `removed` paths."""
    for path, kind, payload, executable in nodes:
        if os.path.lexists(path) and not (kind == "dir" and os.path.isdir(path)):
            _delete(path)
        if kind == "dir":
            os.makedirs(path, exist_ok=True)
        elif kind == "symlink":
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            os.symlink(payload, path)
        else:
            write_file(path, payload, 0o755 if executable else 0o644)
    for path in removed:
        if not os.path.lexists(path):
            raise HarnessError("World.remove(%r): nothing is there" % path)
        _delete(path)


def _delete(path: str) -> None:
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


# Modules the kernel and the fake tools import on first use. pyfakefs unloads every module imported while a
# session is active when the session ends, so without this they would be imported afresh in every session.
LAZY_IMPORTS = ("binascii", "packaging.requirements", "packaging.specifiers", "packaging.version")


def _preload_lazy_imports() -> None:
    import importlib

    for name in LAZY_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # packaging is optional until a fake installer needs it (which says so)
            pass


def _no_message_catalogs():
    """A world has no message catalogs (`/usr/share/locale`...), so `gettext` answers "none" at once while a
    session is active, instead of looking for them on the fake filesystem at every translated string
    (argparse translates each of its messages: hundreds of lookups per run). Returns what to restore."""
    import gettext

    original = gettext.find
    gettext.find = lambda domain, localedir=None, languages=None, all=False: [] if all else None
    return original


def activate(world: Any, kernel: Any = None) -> "WorldSession":
    """Start one fake filesystem with `world` (a World) in it; `kernel` defaults to
    protoprimer.primer_kernel. `World.activate()` is this."""
    return WorldSession(world, kernel=kernel).start()


def _on_the_fake_filesystem(patcher: Any) -> bool:
    """Whether this module's `os` and the _fake_fs writers' are `patcher`'s fake ones. pyfakefs patches the
    modules it finds in sys.modules: a stale copy of the harness (one dropped from sys.modules, as pyfakefs
    drops the modules imported during a session, and pytester those of an in-process run) keeps the real
    `os`, and would make the world (remove what is in its way, then write) on the real disk."""
    return getattr(os, "filesystem", None) is patcher.fs and active_fake_filesystem() is patcher.fs


# Sessions started and not closed, oldest first: what a test left open (the plugin's guard closes them).
_ACTIVE: List["WorldSession"] = []


def active_sessions() -> Tuple["WorldSession", ...]:
    """The sessions started and not closed in this process, oldest first."""
    return tuple(_ACTIVE)


class WorldSession:
    """A world (a `protoprimer_harness.world.World`) on a fake filesystem: run commands in it, read its
    files. A context manager."""

    def __init__(self, world: Any, kernel: Any = None):
        self.world = world
        self.kernel = kernel if kernel is not None else default_kernel()
        self.clock = FakeClock()
        self.pids = PidCounter()
        self.session_state: Optional[SessionState] = None
        # (name, version) releases the world's constraints files added to the package index (`start()`)
        self.seeded_packages: List[Tuple[str, str]] = []
        self._patcher = None
        self._gettext_find = None
        self._copytree = None

    @property
    def root(self) -> str:
        return self.world.root

    @property
    def active(self) -> bool:
        """Started and not closed."""
        return self._patcher is not None

    def start(self) -> "WorldSession":
        if self._patcher is not None:
            raise HarnessError("this world session is already active")
        # The real kernel source, read before the fake filesystem starts: kernel copies, and what the fake pip
        # installs as protoprimer/primer_kernel.py.
        kernel_source = _read_bytes(default_kernel().__file__)
        kernel_version = getattr(self.kernel, "__version__", None) or getattr(default_kernel(), "__version__", "0")
        nodes = plan_nodes(self.world, kernel_source)
        self.seeded_packages = seed_pins(self.world, nodes)
        self.session_state = SessionState.from_world(self.world, kernel_source.decode("utf-8"), kernel_version,
                                                     seeded=self.seeded_packages)
        load_mains(self.world)
        _preload_lazy_imports()
        from pyfakefs.fake_filesystem_unittest import Patcher

        patcher = Patcher()
        patcher.setUp()
        self._patcher = patcher
        self._gettext_find = _no_message_catalogs()
        import shutil

        self._copytree, shutil.copytree = shutil.copytree, fast_copytree(shutil.copytree)
        if not _on_the_fake_filesystem(patcher):
            self.close()
            raise HarnessError(
                "pyfakefs did not patch the harness modules in use (this copy of protoprimer_harness.session was "
                "imported while another fake filesystem was active, or dropped from sys.modules since): the world "
                "would be made on the real disk, so it is not. Import protoprimer_harness before starting a fake "
                "filesystem, and use it through modules that are in sys.modules.")
        try:
            materialise(nodes, self.world.removed)
        except BaseException:
            self.close()
            raise
        _ACTIVE.append(self)
        return self

    def close(self) -> None:
        patcher, self._patcher = self._patcher, None
        if patcher is not None:
            if self in _ACTIVE:
                _ACTIVE.remove(self)
            import gettext

            gettext.find, self._gettext_find = self._gettext_find, None
            import shutil

            shutil.copytree, self._copytree = self._copytree, None
            patcher.tearDown()

    def __enter__(self) -> "WorldSession":
        if self._patcher is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def add_fault(self, command: Optional[str] = None, exit: Optional[int] = None, stderr: str = "",
                  stdout: str = "", die: Optional[str] = None, times: Optional[int] = None, *,
                  fs_op: Optional[str] = None, path: Optional[str] = None, error: Optional[str] = None,
                  skip: int = 0) -> "WorldSession":
        """A fault point from now on, as `World.add_fault` declares one (of a command, or with `fs_op` and
        `path` of a filesystem operation): the runs so far never hit it and do not count for its `times` or
        `skip` (to kill, say, the second `./prime` at a command the first ran too)."""
        self._require_active()
        self.session_state.faults.add(make_fault(command, exit=exit, stdout=stdout, stderr=stderr, die=die,
                                                 times=times, fs_op=fs_op, path=path, error=error, skip=skip))
        return self

    def _require_active(self) -> None:
        if self._patcher is None:
            raise HarnessError("the world session is not active (use `with world.activate() as session:`)")

    @property
    def fake_filesystem(self):
        """The pyfakefs `FakeFilesystem` (for tests that need its own API)."""
        self._require_active()
        return self._patcher.fs

    # --- running -------------------------------------------------------------------------------------

    def run(self, command: Union[str, Sequence[str]], env: Optional[Dict[str, str]] = None,
            cwd: Optional[str] = None, max_processes: int = DEFAULT_MAX_PROCESSES, tty: bool = False,
            kernel: Any = None) -> Outcome:
        """Run `command` (a shell-like string or an argv list) until its process chain exits.

        `env` is merged over the world's env; `cwd` is relative to the root or absolute (default: the
        world's cwd); `tty` makes stderr a terminal; `kernel` overrides the session's kernel module.
        """
        self._require_active()
        run_env = self.world.effective_env()
        run_env.update(env or {})
        request = RunRequest(
            argv=split_command(command),
            env=run_env,
            cwd=self.world.abs_path(cwd) if cwd is not None else self.world.abs_path(self.world.cwd),
            max_processes=max_processes,
            tty=tty,
        )
        runner = self._runner(kernel)
        try:
            outcome = runner.run(request)
        finally:
            os.chdir("/")
        if (kernel or self.kernel) is default_kernel() and getattr(self.world, "check_variable_leaks", True):
            # the kernel's promise, checked at every run: none of its variables reach tools, client code or shells
            outcome.assert_no_leaked_variables()
        return outcome

    def _runner(self, kernel: Any = None) -> Runner:
        return Runner(
            kernel=kernel if kernel is not None else self.kernel,
            root=self.world.root,
            tools=tuple(self.world.tools) + tuple(DEFAULT_TOOLS),
            mains=self.world.mains,
            clock=self.clock,
            pids=self.pids,
            snapshot_excludes=self.world.snapshot_excludes,
            session_state=self.session_state,
            base_env=self.world.effective_env(),
            base_cwd=self.world.abs_path(self.world.cwd),
        )

    def open_process(self, interpreter: str = "python3", argv: Optional[Sequence[str]] = None,
                     env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, isolated: bool = True,
                     kernel: Any = None):
        """A simulated process of `interpreter` (a path in the world; "python3" = /usr/bin/python3) that runs
        no program: `with session.open_process("venv/bin/python") as p: p.proc.run([...])` drives the fake
        ports directly. `env` is merged over the world's env. Returns a `protoprimer_harness._runner.OpenProcess`."""
        self._require_active()
        path = self.world.interpreter_path(interpreter)
        running = identify_interpreter(path)
        if running is None:
            raise HarnessError("open_process(): %s is not a simulated interpreter" % path)
        variables = self.world.effective_env()
        variables.update(env or {})
        return self._runner(kernel).open_process(
            running, list(argv) if argv is not None else [path], variables,
            self.world.abs_path(cwd) if cwd is not None else self.world.abs_path(self.world.cwd), isolated=isolated)

    # --- reading the world ---------------------------------------------------------------------------

    def path(self, path: str) -> str:
        return self.world.abs_path(path)

    def read_text(self, path: str) -> str:
        self._require_active()
        with open(self.world.abs_path(path), "r", encoding="utf-8") as f:
            return f.read()

    def exists(self, path: str) -> bool:
        self._require_active()
        return os.path.exists(self.world.abs_path(path))

    def is_symlink(self, path: str) -> bool:
        self._require_active()
        return os.path.islink(self.world.abs_path(path))

    def read_link(self, path: str) -> str:
        self._require_active()
        return os.readlink(self.world.abs_path(path))

    def write_text(self, path: str, text: str, executable: bool = False) -> None:
        """Change the world between runs (e.g. edit a config file)."""
        self._require_active()
        absolute = self.world.abs_path(path)
        os.makedirs(os.path.dirname(absolute), exist_ok=True)
        with open(absolute, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(absolute, 0o755 if executable else 0o644)
