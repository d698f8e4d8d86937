"""A declarative simulated world: files, interpreters, PATH, env vars, cwd, client mains.

A `World` is pure data: building one touches nothing, not even the real disk (real sources are read in
`activate()`, before the fake filesystem starts). `activate()` returns a `WorldSession`: one pyfakefs
filesystem with the world materialised in it, in which any number of commands run. Activation is the
session's (`protoprimer_harness.session.activate(world)`); this module imports it, never the other way
round. What the world holds at a path (`FileEntry`, ...) is in `protoprimer_harness._entries`.

Paths given to the builders are relative to `root` unless absolute. Entries are kept in insertion order
and materialised in that order; adding at a path that already has an entry replaces it.
"""

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._entries import ConstraintsSource, DirEntry, Entry, FileEntry, RealDirEntry, RealRepoEntry, SymlinkEntry
from ._fake_interpreters import interpreter_file_text, pyvenv_cfg_text
from ._session_state import (DEFAULT_LOCK_HOLDER_PID, DEFAULT_LOCK_WAIT_LIMIT, FaultSpec, FsFaultSpec, LockSpec,
                            make_fault)
from .session import WorldSession, activate as activate_world

DEFAULT_ROOT = "/repo"
DEFAULT_PATH_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")
DEFAULT_INTERPRETER_DIR = "/usr/bin"
# The shells every world has unless `without_default_shells()`: path -> name.
DEFAULT_SHELLS = (("/bin/bash", "bash"), ("/bin/zsh", "zsh"), ("/bin/sh", "sh"))
DEFAULT_PIP_VERSION = "24.0"


def repo_files(real_root: str) -> List[str]:
    """The files `World.add_repo(real_root)` copies, relative to `real_root`, sorted (read now): what git
    lists in a work tree, else what the walk keeps (docs/client-testing.md, "What comes in")."""
    from ._repo import repo_files as listed

    return listed(real_root)[1]


@dataclass(frozen=True)
class PackageSpec:
    """A release in the world's package index: `dependencies` are requirement strings (PEP 508);
    `extras` maps an extra's name to its requirement strings."""

    name: str
    version: str
    dependencies: Tuple[str, ...] = ()
    extras: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()


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


class World:
    """A simulated world, as data. Builders return `self` so they chain.

    `env` holds the variables every run starts with; `path` the PATH directories. PATH in a run's env is
    `":".join(path)` unless `env["PATH"]` was changed (e.g. by `set_env(PATH=...)`), which then wins.
    `mains` maps "module:func" to python callables `fn(host)` that `call_main` runs; `tools` are extra
    fake tool handlers (see `protoprimer_harness.tools.base`) tried before the default ones.

    Beyond files (see docs/harness.md): `packages` is the package index pip and uv install from (plus a
    default index with `protoprimer` and `uv` unless `default_index` is False); `faults` are fault points;
    `locks` are lock files held by simulated other processes; `shells` are the fake shells (path -> name).
    `constraints` are where the index is seeded from besides the repos (`add_packages_from_constraints`).
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
        self.packages: List[PackageSpec] = []
        self.constraints: List[ConstraintsSource] = []
        self.default_index = True
        self.pip_version = DEFAULT_PIP_VERSION
        self.faults: List[Union[FaultSpec, FsFaultSpec]] = []
        self.locks: Dict[str, LockSpec] = {}
        self.lock_wait_limit = DEFAULT_LOCK_WAIT_LIMIT
        self.shells: Dict[str, str] = dict(DEFAULT_SHELLS)
        self.tick_calls = 1

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

    def add_repo(self, real_root: str, dst: str = "", seed_index: bool = True) -> "World":
        """The client repo at `real_root` (a real directory) as committed, at `dst` (default: the world's
        root), copied at activation: in a git work tree, the files git lists (tracked, and untracked but not
        ignored: never `venv/`, logs, caches, `lconf`); elsewhere, a walk that skips what the kernel generates
        (`repo_files` says which, docs/client-testing.md). Symlinks and executable bits are kept.

        With `seed_index`, every `name==version` pin of the repo's constraints files (basename
        `constraints.txt`, or the `version_constraints_file_basename` its configs name), as the world has
        them at activation, becomes a release (no dependencies) of the package index, unless the world has
        that release already (`add_package`, same name and version)."""
        self._put(dst, RealRepoEntry(os.path.abspath(real_root), seed_index=seed_index))
        return self

    def add_packages_from_constraints(self, text: Optional[str] = None, path: Optional[str] = None) -> "World":
        """Seed the package index from a constraints file: its `text`, or the file at the world `path`
        (relative to the root or absolute) as the world holds it at activation. Each `name==version` pin
        becomes a release with no dependencies, unless the world has that release already (`add_package`,
        same name and version); comments, blank lines, options (`-c`, `-r`, `--...`) and lines that pin no
        single version are skipped, environment markers ignored (docs/client-testing.md)."""
        from ._repo import parse_pins

        if (text is None) == (path is None):
            raise ValueError("add_packages_from_constraints: give the text or the path of a constraints file, one of them")
        if text is not None:
            parse_pins(text, "add_packages_from_constraints")  # a malformed pin is refused now
            self.constraints.append(ConstraintsSource(text=text))
        else:
            self.constraints.append(ConstraintsSource(path=self.abs_path(path)))
        return self

    def add_interpreter(self, path: str, version: str, venv: bool = False, base: Optional[str] = None,
                        broken: bool = False, pip: bool = True) -> "World":
        """An executable simulated Python at `path` ("python3" alone means /usr/bin/python3).

        A venv interpreter also gets `<venv dir>/pyvenv.cfg` (home = dir of `base`, default
        /usr/bin/python3); it reports the venv dir as prefix and the base's prefix as base_prefix. Its
        site-packages holds pip (as `python -m venv` leaves it) unless `pip=False`.
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
            if pip:
                from .tools._dists import dist_files

                major, minor = version.split(".")[:2]
                site = os.path.join(interpreter.venv_dir, "lib", "python%s.%s" % (major, minor), "site-packages")
                for rel, text in dist_files("pip", self.pip_version, installer="pip").items():
                    self._put(os.path.join(site, rel), FileEntry(text=text))
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

    def add_entry_script(self, path: str, entry_func: str, main_func: Optional[str], kernel_rel_path: str) -> "World":
        """An executable entry script rendered by the kernel's `render_entry_script` (`main_func` None: an
        entry call without a main, when the kernel supports it)."""
        from protoprimer import primer_kernel

        if main_func is None:
            text = primer_kernel.render_entry_script(entry_func, kernel_rel_path)
        else:
            text = primer_kernel.render_entry_script(entry_func, kernel_rel_path, main_func)
        return self.add_file(path, text, executable=True)

    def apply_layout(self, name: str) -> "World":
        from ._layouts import LAYOUTS

        if name not in LAYOUTS:
            raise ValueError("unknown layout %r; known layouts: %s" % (name, ", ".join(sorted(LAYOUTS))))
        LAYOUTS[name](self)
        return self

    def set_env(self, **variables: str) -> "World":
        self.env.update(variables)
        return self

    def add_main(self, spec: str, fn: Union[str, Callable[[Any], Any]], provided_by: Optional[str] = None) -> "World":
        """Client code for `call_main`: `spec` is "module:func", `fn(host)` its body, or the name of a
        built-in main ("report", "extend", "exit N", "return N", "fail", "missing": see protoprimer_harness._mains),
        or "import": the function `spec` names, imported from the test process when the world is activated
        and called as `func(host=host)` (it must take `host`; docs/client-testing.md).
        With `provided_by` (a distribution name), the main can be imported only in a process whose
        site-packages has that distribution installed (else call_main raises the kernel's ClientCodeMissing,
        as the real port does when the import fails)."""
        from ._mains import IMPORT, ClientMain, ImportedMain, builtin_main

        if isinstance(fn, str) and fn.strip() == IMPORT:
            fn = ImportedMain(spec)
        elif isinstance(fn, str):
            fn = builtin_main(fn)
        self.mains[spec] = ClientMain(fn, provided_by) if provided_by else fn
        return self

    def add_tool(self, tool: Any) -> "World":
        """An extra fake tool handler, tried before the default ones: an object with `usage`, `accepts(call)`
        and `run(call) -> ToolResult`, optionally `name` and `refusal(call)` for the report of a command no
        tool answers (`protoprimer_harness.tools.base`; docs/harness.md, "Adding a tool")."""
        self.tools.append(tool)
        return self

    def add_package(self, name: str, version: str, dependencies: Iterable[str] = (),
                    extras: Optional[Mapping[str, Iterable[str]]] = None) -> "World":
        """A release in the package index that the fake pip and uv install from. `dependencies` are
        requirement strings ("b>=2", "c; python_version < '3.9'"); `extras` maps extra names to more."""
        from .tools._index import check_release

        spec = PackageSpec(
            name, version, tuple(dependencies),
            tuple((extra, tuple(reqs)) for extra, reqs in sorted((extras or {}).items())),
        )
        check_release(spec)
        self.packages.append(spec)
        return self

    def add_fault(self, command: Optional[str] = None, exit: Optional[int] = None, stderr: str = "",
                  stdout: str = "", die: Optional[str] = None, times: Optional[int] = None, *,
                  fs_op: Optional[str] = None, path: Optional[str] = None, error: Optional[str] = None,
                  skip: int = 0) -> "World":
        """A fault point: a `run` (or `replace`) whose shlex-joined command line contains `command` (a glob
        over the whole line when it has * or ?) fails with `exit` and the given output, or kills the process
        (`die` = "before" | "during" | "after" its effects). `times`: only the first N matches.

        Or, with `fs_op` (write_text, make_symlink, append_text, make_dirs, remove, remove_tree, move,
        copy) and `path` (the path, absolute or relative to the root, or a glob with * ? [): that filesystem
        port call raises OSError with the errno named by `error` ("ENOSPC", "EACCES", "EROFS", ...), or the
        process is killed `die` = "before" | "after" it; `skip`: let the first N matches pass."""
        self.faults.append(make_fault(command, exit=exit, stdout=stdout, stderr=stderr, die=die, times=times,
                                      fs_op=fs_op, path=path, error=error, skip=skip))
        return self

    def hold_lock(self, path: str, pid: int = DEFAULT_LOCK_HOLDER_PID, alive: bool = True,
                  finish: Union[None, str, Sequence[str]] = None) -> "World":
        """The lock file `path` is held by a simulated other process `pid` (written in the file). A live
        holder refuses `try_lock`; with `finish` (a command) it completes that command as a nested run at
        the first `env.sleep` of a waiting process and releases the lock; without it, never. A dead holder
        (alive=False) left its pid in the file: the lock is free."""
        absolute = self.abs_path(path)
        if finish is not None and not isinstance(finish, str):
            finish = tuple(finish)
        self.locks[absolute] = LockSpec(absolute, pid=pid, alive=alive, finish=finish)
        return self._put(absolute, FileEntry(text="%d\n" % pid))

    def add_shell(self, path: str, name: Optional[str] = None) -> "World":
        """A fake shell at `path` (absolute); `name` (bash, zsh, sh, ...) defaults to the file's name."""
        absolute = self.interpreter_path(path) if "/" in path else os.path.join("/bin", path)
        self.shells[absolute] = name or os.path.basename(absolute)
        return self

    def without_default_shells(self) -> "World":
        """No /bin/bash, /bin/zsh, /bin/sh (shells added with `add_shell` stay)."""
        for path, _ in DEFAULT_SHELLS:
            self.shells.pop(path, None)
        return self

    def set_shell(self, path: str) -> "World":
        """$SHELL = `path`, adding a fake shell there if the world has none."""
        absolute = self.interpreter_path(path) if "/" in path else os.path.join("/bin", path)
        if absolute not in self.shells:
            self.add_shell(absolute)
        return self.set_env(SHELL=absolute)

    # --- activation ----------------------------------------------------------------------------------

    def activate(self, kernel: Any = None) -> WorldSession:
        """Start one fake filesystem with this world in it; `kernel` defaults to protoprimer.primer_kernel.
        The same as `protoprimer_harness.session.activate(world, kernel)`."""
        return activate_world(self, kernel=kernel)
