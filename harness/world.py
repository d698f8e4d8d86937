"""A declarative simulated machine: files, interpreters, PATH, env vars, cwd, client mains.

A `World` is pure data: building one touches nothing, not even the real disk (real sources are read in
`activate()`, before the fake filesystem starts). `activate()` returns a `WorldSession`: one pyfakefs
filesystem with the world materialised in it, in which any number of commands run.

Paths given to the builders are relative to `root` unless absolute. Entries are kept in insertion order
and materialised in that order; adding at a path that already has an entry replaces it.
"""

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .fake_interpreters import interpreter_file_text, pyvenv_cfg_text

DEFAULT_ROOT = "/repo"
DEFAULT_PATH_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")
DEFAULT_INTERPRETER_DIR = "/usr/bin"


@dataclass
class Interpreter:
    """A simulated Python: an executable file at `path` that answers as Python `version`.

    For a venv interpreter, `base` is the path of its base interpreter and the venv directory
    (dirname(dirname(path))) gets a `pyvenv.cfg`.
    """

    path: str
    version: str
    venv: bool = False
    base: Optional[str] = None
    broken: bool = False

    @property
    def venv_dir(self) -> str:
        return os.path.dirname(os.path.dirname(self.path))


@dataclass(frozen=True)
class FileEntry:
    """A file: `text`, or the text of the real file `real_source` (read at activation), or the kernel's
    source when `kernel_source` is set."""

    text: Optional[str] = None
    executable: bool = False
    real_source: Optional[str] = None
    kernel_source: bool = False


@dataclass(frozen=True)
class SymlinkEntry:
    target: str


@dataclass(frozen=True)
class DirEntry:
    pass


@dataclass(frozen=True)
class RealDirEntry:
    """A real directory tree copied in at activation; names in `exclude` are skipped at any depth."""

    real_src: str
    exclude: Sequence[str] = (".git", "__pycache__")


Entry = Union[FileEntry, SymlinkEntry, DirEntry, RealDirEntry]


class World:
    """A simulated machine, as data. Builders return `self` so they chain.

    `env` holds the variables every run starts with; `path` the PATH directories. PATH in a run's env is
    `":".join(path)` unless `env["PATH"]` was changed (e.g. by `set_env(PATH=...)`), which then wins.
    `mains` maps "module:func" to python callables `fn(host)` that `call_main` runs; `tools` are extra
    fake tool handlers (see `harness.fake_tools`) tried before the default ones.
    """

    def __init__(self, root: str = DEFAULT_ROOT):
        self.root = os.path.normpath(root)
        self.path: List[str] = list(DEFAULT_PATH_DIRS)
        self._default_path_value = ":".join(self.path)
        self.env: Dict[str, str] = {"HOME": "/root", "PATH": self._default_path_value, "LANG": "C.UTF-8"}
        self.cwd = self.root
        self.entries: Dict[str, Entry] = {}
        self.interpreters: Dict[str, Interpreter] = {}
        self.removed: List[str] = []
        self.mains: Dict[str, Callable[[Any], Any]] = {}
        self.tools: List[Any] = []
        self.snapshot_excludes: List[str] = []

    # --- paths ---------------------------------------------------------------------------------------

    def abs_path(self, path: str) -> str:
        """`path` made absolute against the root and normalised."""
        return os.path.normpath(os.path.join(self.root, path))

    def interpreter_path(self, path: str) -> str:
        """Like `abs_path`, except that a bare name ("python3") means /usr/bin/<name>."""
        if "/" not in path:
            return os.path.join(DEFAULT_INTERPRETER_DIR, path)
        return self.abs_path(path)

    def effective_env(self) -> Dict[str, str]:
        """The variables a run starts with (before the run's own overrides)."""
        env = dict(self.env)
        if env.get("PATH") == self._default_path_value:
            env["PATH"] = ":".join(self.path)
        return env

    def _put(self, path: str, entry: Entry) -> "World":
        absolute = self.abs_path(path)
        self.entries.pop(absolute, None)
        self.entries[absolute] = entry
        return self

    # --- builders ------------------------------------------------------------------------------------

    def add_file(self, path: str, text: str, executable: bool = False) -> "World":
        return self._put(path, FileEntry(text=text, executable=executable))

    def add_symlink(self, path: str, target: str) -> "World":
        """A symlink at `path`; `target` is kept as given (a relative target is relative to its dir)."""
        return self._put(path, SymlinkEntry(target))

    def add_dir(self, path: str) -> "World":
        return self._put(path, DirEntry())

    def remove(self, path: str) -> "World":
        """Drop what is at `path` (and under it): builder entries are forgotten; anything else there (a
        copied real tree) is deleted after materialisation, which fails if nothing is there."""
        absolute = self.abs_path(path)
        under = absolute.rstrip("/") + "/"
        dropped = [p for p in self.entries if p == absolute or p.startswith(under)]
        for p in dropped:
            del self.entries[p]
        for p in [p for p in self.interpreters if p == absolute or p.startswith(under)]:
            del self.interpreters[p]
        if not dropped:
            self.removed.append(absolute)
        return self

    def copy_real_dir(self, real_src: str, dst: str, exclude: Sequence[str] = (".git", "__pycache__")) -> "World":
        """Copy the real directory `real_src` to `dst` at activation (names in `exclude` skipped)."""
        return self._put(dst, RealDirEntry(os.path.abspath(real_src), tuple(exclude)))

    def add_interpreter(self, path: str, version: str, venv: bool = False, base: Optional[str] = None,
                        broken: bool = False) -> "World":
        """An executable simulated Python at `path` ("python3" alone means /usr/bin/python3).

        A venv interpreter also gets `<venv dir>/pyvenv.cfg` (home = dir of `base`, default
        /usr/bin/python3); it reports the venv dir as prefix and the base's prefix as base_prefix.
        """
        absolute = self.interpreter_path(path)
        base_path = self.interpreter_path(base) if base else None
        if venv and base_path is None:
            base_path = os.path.join(DEFAULT_INTERPRETER_DIR, "python3")
        interpreter = Interpreter(absolute, version, venv=venv, base=base_path, broken=broken)
        self.interpreters[absolute] = interpreter
        self._put(absolute, FileEntry(text=interpreter_file_text(version, broken), executable=True))
        if venv:
            self._put(os.path.join(interpreter.venv_dir, "pyvenv.cfg"),
                      FileEntry(text=pyvenv_cfg_text(os.path.dirname(base_path), version)))
        return self

    def add_kernel_copy(self, path: str = "proto_kernel.py") -> "World":
        """The real kernel source (read at activation) at `path`, executable."""
        return self._put(path, FileEntry(executable=True, kernel_source=True))

    def add_installed_kernel(self, interpreter_path: str) -> "World":
        """The real kernel source as `protoprimer/primer_kernel.py` in the site-packages of the (venv)
        interpreter at `interpreter_path`, so `<python> -m protoprimer.primer_kernel` runs it."""
        interpreter = self.interpreters[self.interpreter_path(interpreter_path)]
        major, minor = interpreter.version.split(".")[:2]
        site = os.path.join(interpreter.venv_dir, "lib", "python%s.%s" % (major, minor), "site-packages")
        return self._put(os.path.join(site, "protoprimer", "primer_kernel.py"), FileEntry(kernel_source=True))

    def add_entry_script(self, path: str, entry_func: str, main_func: str, kernel_rel_path: str) -> "World":
        """An executable entry script rendered by the kernel's `render_entry_script`."""
        from protoprimer import primer_kernel

        text = primer_kernel.render_entry_script(entry_func, kernel_rel_path, main_func)
        return self.add_file(path, text, executable=True)

    def apply_layout(self, name: str) -> "World":
        from .layouts import LAYOUTS

        if name not in LAYOUTS:
            raise ValueError("unknown layout %r; known layouts: %s" % (name, ", ".join(sorted(LAYOUTS))))
        LAYOUTS[name](self)
        return self

    def set_env(self, **variables: str) -> "World":
        self.env.update(variables)
        return self

    def add_main(self, spec: str, fn: Callable[[Any], Any]) -> "World":
        """Client code for `call_main`: `spec` is "module:func", `fn(host)` its body."""
        self.mains[spec] = fn
        return self

    def add_tool(self, tool: Any) -> "World":
        """An extra fake tool handler, tried before the default ones."""
        self.tools.append(tool)
        return self

    # --- activation ----------------------------------------------------------------------------------

    def activate(self, kernel: Any = None) -> "WorldSession":
        """Start one fake filesystem with this world in it; `kernel` defaults to protoprimer.primer_kernel."""
        from .session import WorldSession

        return WorldSession(self, kernel=kernel).start()


def __getattr__(name: str):
    # `WorldSession` lives in harness.session; importing it lazily keeps this module free of cycles.
    if name == "WorldSession":
        from .session import WorldSession

        return WorldSession
    raise AttributeError(name)
