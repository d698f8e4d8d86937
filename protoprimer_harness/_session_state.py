"""What a session simulates beyond files: fault points, lock holders, live processes, the package index.

The world declares these as data (`World.add_fault`, `World.hold_lock`, `World.add_package`); activating
it builds one `SessionState` per session, whose state carries over from one run of the session to the next:
a fault with `times=1` fires once per session, a lock released in one run stays released.

- Faults (`FaultSpec`, `FsFaultSpec`, `FaultTable`): a `run` command line or a `replace` argv that matches a
  fault's `command` (a substring, or a glob when it has `*` or `?`) fails with the fault's exit code and
  output, or kills the simulated process (`ProcessKilled`: exit 137) before, during or after the command's
  effects; a filesystem port operation (`fs_op`) on a path that matches a fault's `path` raises an `OSError`
  with the fault's errno, or kills the process before or after the operation.
- Locks (`LockSpec`, `LockTable`): pyfakefs makes `fcntl.flock` a no-op, so the lock port is modelled
  here: which simulated process holds which lock file, and simulated other processes (holders declared by
  the world) that hold a lock, are alive or dead, and may finish their work (a nested run) and release it.

Everything here uses `os` on whichever filesystem is active (the fake one inside a session).
"""

import errno
import fnmatch
import os
import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

DIE_POINTS = ("before", "during", "after")
# The filesystem port's operations that change files, which a filesystem fault can target, and its kill points.
FS_OPS = ("write_text", "make_symlink", "append_text", "make_dirs", "remove", "remove_tree", "move", "copy")
# Reads a fault can fail (error= only: a file or directory the user cannot read); they are not recorded.
FS_READ_OPS = ("read_text", "list_dir")
FS_DIE_POINTS = ("before", "after")
DEFAULT_LOCK_HOLDER_PID = 4242
# How long (simulated seconds of env.sleep) a process may wait for a lock whose holder never releases it.
DEFAULT_LOCK_WAIT_LIMIT = 1800.0
# And how many sleeps (a loop of sleep(0) would never reach the time limit).
LOCK_WAIT_MAX_SLEEPS = 100000
KILLED_EXIT_CODE = 137


# region: faults


@dataclass(frozen=True)
class FaultSpec:
    """One fault point. `command` matches a command line (shlex-joined argv): a substring of it, or, when
    it has `*` or `?`, a glob over the whole line. `exit` makes the command end with that code and
    `stdout`/`stderr` (its effects do not happen); `die` kills the simulated process "before" the command
    runs, "during" it (tools that work in steps do half of them) or "after" its effects happened.
    `times` limits how many matches fire (per session); None means every match."""

    command: str
    exit: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    die: Optional[str] = None
    times: Optional[int] = None

    def __post_init__(self):
        if not self.command:
            raise ValueError("a fault needs a non-empty command pattern")
        if self.die is not None and self.die not in DIE_POINTS:
            raise ValueError("fault %r: die must be one of %s, got %r" % (self.command, ", ".join(DIE_POINTS),
                                                                          self.die))
        if self.die is not None and self.exit is not None:
            raise ValueError("fault %r: give exit= or die=, not both" % self.command)
        if self.die is None and self.exit is None:
            raise ValueError("fault %r: give exit=N (the command fails) or die=%s" % (self.command,
                                                                                     "|".join(DIE_POINTS)))
        if self.times is not None and self.times < 1:
            raise ValueError("fault %r: times must be 1 or more, got %r" % (self.command, self.times))

    @property
    def is_glob(self) -> bool:
        return "*" in self.command or "?" in self.command

    def matches(self, lines: Sequence[str]) -> bool:
        return line_matches(self.command, lines)

    def describe(self) -> str:
        what = "exit %d" % self.exit if self.exit is not None else "die %s" % self.die
        return "%s at %r" % (what, self.command)


@dataclass(frozen=True)
class FsFaultSpec:
    """One fault point of the filesystem port: the operation `fs_op` (one of `FS_OPS`, or of `FS_READ_OPS` with
    `error` only) on a path that matches
    `path`. A `path` with `*`, `?` or `[` is a glob over the whole path, otherwise the path itself; either is
    matched against the absolute path and, under the repo root, the path relative to it ("constraints.txt",
    "*/constraints.txt", "venv/*"); `move` and `copy` match on their source or their destination,
    `make_symlink` on the link. `error` (an errno name: "ENOSPC", "EACCES", "EROFS", ...) makes the call
    raise `OSError(errno, strerror, path)` without its effect; `die` kills the simulated process "before"
    the call (no effect) or "after" it (its effect done). `skip` lets the first N matches pass (to reach the
    N+1-th time a run does the same operation); `times` then limits how many fire (per session, as for
    commands)."""

    fs_op: str
    path: str
    error: Optional[str] = None
    die: Optional[str] = None
    times: Optional[int] = None
    skip: int = 0

    def __post_init__(self):
        where = "fs fault %s %r" % (self.fs_op, self.path)
        if self.fs_op not in FS_OPS + FS_READ_OPS:
            raise ValueError("%s: fs_op must be one of %s, got %r" % (where, ", ".join(FS_OPS + FS_READ_OPS), self.fs_op))
        if self.fs_op in FS_READ_OPS and self.die is not None:
            raise ValueError("%s: a read fails with error=ERRNO_NAME; kills are for the operations that change files" % where)
        if not self.path:
            raise ValueError("%s: a filesystem fault needs a non-empty path pattern" % where)
        if self.die is not None and self.die not in FS_DIE_POINTS:
            raise ValueError("%s: die must be one of %s (a filesystem call has no middle), got %r"
                             % (where, ", ".join(FS_DIE_POINTS), self.die))
        if self.error is not None and not isinstance(getattr(errno, str(self.error), None), int):
            raise ValueError("%s: error must be an errno name (ENOSPC, EACCES, EROFS, ...), got %r"
                             % (where, self.error))
        if self.die is not None and self.error is not None:
            raise ValueError("%s: give error= or die=, not both" % where)
        if self.die is None and self.error is None:
            raise ValueError("%s: give error=ERRNO_NAME (the call fails) or die=%s" % (where, "|".join(FS_DIE_POINTS)))
        if self.times is not None and self.times < 1:
            raise ValueError("%s: times must be 1 or more, got %r" % (where, self.times))
        if self.skip < 0:
            raise ValueError("%s: skip must be 0 or more, got %r" % (where, self.skip))

    def matches(self, fs_op: str, paths: Sequence[str]) -> bool:
        if fs_op != self.fs_op:
            return False
        if any(char in self.path for char in "*?["):
            return any(fnmatch.fnmatchcase(path, self.path) for path in paths)
        return self.path in paths

    def os_error(self, filename: str, filename2: Optional[str] = None) -> OSError:
        """The OSError the real call would raise for this fault's errno."""
        code = getattr(errno, self.error)
        if filename2 is not None:
            return OSError(code, os.strerror(code), filename, None, filename2)
        return OSError(code, os.strerror(code), filename)

    def describe(self) -> str:
        what = "error %s" % self.error if self.error is not None else "die %s" % self.die
        return "%s at %s %r" % (what, self.fs_op, self.path)


def make_fault(command: Optional[str] = None, exit: Optional[int] = None, stderr: str = "", stdout: str = "",
               die: Optional[str] = None, times: Optional[int] = None, fs_op: Optional[str] = None,
               path: Optional[str] = None, error: Optional[str] = None,
               skip: int = 0) -> Union[FaultSpec, FsFaultSpec]:
    """The fault `World.add_fault` / `WorldSession.add_fault` declare: a command fault (`command`, with
    `exit` or `die`) or a filesystem fault (`fs_op` and `path`, with `error` or `die`)."""
    if fs_op is None and path is None:
        if error is not None or skip:
            raise ValueError("error= and skip= are for filesystem faults: give fs_op= and path= too")
        return FaultSpec(command or "", exit=exit, stdout=stdout, stderr=stderr, die=die, times=times)
    if command is not None or exit is not None or stdout or stderr:
        raise ValueError("a fault targets a command (command=, exit=, stdout=, stderr=) or a filesystem "
                         "operation (fs_op=, path=, error=), not both")
    if fs_op is None or path is None:
        raise ValueError("a filesystem fault needs both fs_op= (one of %s) and path=" % ", ".join(FS_OPS))
    return FsFaultSpec(fs_op, path, error=error, die=die, times=times, skip=skip)


@dataclass
class FaultHit:
    """A fault that fired: where (`kind` "run", "replace" or "fs"; the command `line`, or for "fs" the
    operation and its path) and which fault."""

    kind: str
    line: str
    fault: Union[FaultSpec, FsFaultSpec]

    def describe(self) -> str:
        return "%s: %s (%s)" % (self.kind, self.line, self.fault.describe())


class FaultTable:
    """The world's faults (of commands and of the filesystem port) with how often each has fired in this
    session."""

    def __init__(self, faults: Sequence[Union[FaultSpec, FsFaultSpec]]):
        self._faults = list(faults)
        self._fired = [0] * len(self._faults)
        self._passed = [0] * len(self._faults)

    def add(self, fault: Union[FaultSpec, FsFaultSpec]) -> None:
        """A fault point from now on (what fired before it does not count for its `times`)."""
        self._faults.append(fault)
        self._fired.append(0)
        self._passed.append(0)

    def match(self, lines: Sequence[str]) -> Optional[FaultSpec]:
        """The first command fault that matches one of `lines` and has not used up its `times`; it counts as
        fired."""
        for index, fault in enumerate(self._faults):
            if not isinstance(fault, FaultSpec):
                continue
            if fault.times is not None and self._fired[index] >= fault.times:
                continue
            if fault.matches(lines):
                self._fired[index] += 1
                return fault
        return None

    def match_fs(self, fs_op: str, paths: Sequence[str]) -> Optional[FsFaultSpec]:
        """The first filesystem fault for `fs_op` on one of `paths` that has let its `skip` matches pass and
        not used up its `times`; it counts as fired. Every fault that matches counts the match."""
        hit = None
        for index, fault in enumerate(self._faults):
            if not isinstance(fault, FsFaultSpec) or not fault.matches(fs_op, paths):
                continue
            if fault.times is not None and self._fired[index] >= fault.times:
                continue
            if self._passed[index] < fault.skip:
                self._passed[index] += 1
                continue
            if hit is None:
                self._fired[index] += 1
                hit = fault
        return hit


def line_matches(pattern: str, lines: Sequence[str]) -> bool:
    """Whether `pattern` matches one of the forms of a command line: a substring of it, or, when the pattern
    has `*` or `?`, a glob over the whole line."""
    if "*" in pattern or "?" in pattern:
        return any(fnmatch.fnmatchcase(line, pattern) for line in lines)
    return any(pattern in line for line in lines)


def command_lines(argv: Sequence[str], abbreviated: Sequence[str]) -> List[str]:
    """The lines a fault pattern is matched against: the exact shlex-joined argv and its abbreviated form."""
    full = shlex.join(list(argv))
    short = shlex.join(list(abbreviated))
    return [full] if short == full else [full, short]


# endregion: faults

# region: locks


@dataclass(frozen=True)
class LockSpec:
    """A lock file held by a simulated process that is not part of any run: `pid` is written in the file;
    `alive` says whether that process still runs (a dead holder's lock is free, its pid stale); `finish` is
    the command that process is completing (run as a nested run at the first `env.sleep` of a waiting
    process, after which the lock is free). A live holder without `finish` never releases the lock."""

    path: str
    pid: int = DEFAULT_LOCK_HOLDER_PID
    alive: bool = True
    finish: Union[None, str, Tuple[str, ...]] = None


class LockHandle:
    """What `try_lock` returns: opaque to the kernel."""

    def __init__(self, path: str, pid: int):
        self.path = path
        self.pid = pid
        self.released = False

    def __repr__(self) -> str:
        return "<fake lock %s held by pid %d%s>" % (self.path, self.pid, " (released)" if self.released else "")


@dataclass
class ExternalHolder:
    """A world-declared holder, as its state changes during the session."""

    spec: LockSpec
    alive: bool
    finishing: bool = False
    finished: bool = False

    @property
    def holds(self) -> bool:
        return self.alive and not self.finished


@dataclass
class _Wait:
    seconds: float = 0.0
    sleeps: int = 0


class LockTable:
    """Who holds which lock file. Simulated processes are known by pid.

    A lock is taken by writing the taker's pid into the file (created with its parent directories if
    missing); `unlock` empties the file, as the real adapter does. When a simulated process ends (exit,
    kill or replacement: the real lock's descriptor is close-on-exec) its locks are dropped and the file
    keeps its pid, as after a real crash.
    """

    def __init__(self, specs: Sequence[LockSpec], wait_limit: float = DEFAULT_LOCK_WAIT_LIMIT):
        self.external: Dict[str, ExternalHolder] = {
            os.path.normpath(spec.path): ExternalHolder(spec, alive=spec.alive) for spec in specs
        }
        self.held: Dict[str, LockHandle] = {}
        self.wait_limit = wait_limit
        self._refused: Dict[int, Set[str]] = {}
        self._waits: Dict[int, _Wait] = {}

    # -- the port operations

    def try_lock(self, path: str, pid: int) -> Optional[LockHandle]:
        path = os.path.normpath(path)
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if not os.path.exists(path):
            with open(path, "w"):
                pass
        external = self.external.get(path)
        if path in self.held or (external is not None and external.holds):
            self._refused.setdefault(pid, set()).add(path)
            return None
        handle = LockHandle(path, pid)
        self.held[path] = handle
        with open(path, "w") as f:
            f.write("%d\n" % pid)
        return handle

    def unlock(self, handle: Any) -> None:
        if not isinstance(handle, LockHandle) or handle.released or self.held.get(handle.path) is not handle:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF) + " (unlock of %r)" % (handle,))
        with open(handle.path, "w"):
            pass
        handle.released = True
        del self.held[handle.path]

    def lock_holder(self, path: str) -> Optional[int]:
        try:
            with open(path, "r") as f:
                text = f.read().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def is_alive(self, pid: int, live_pids: Set[int]) -> bool:
        if pid in live_pids:
            return True
        return any(h.spec.pid == pid and h.alive and not h.finished for h in self.external.values())

    # -- process life

    def release_process(self, pid: int) -> None:
        """The process `pid` ended or replaced itself: the OS drops its locks; the files keep its pid."""
        for path, handle in list(self.held.items()):
            if handle.pid == pid:
                handle.released = True
                del self.held[path]
        self._refused.pop(pid, None)
        self._waits.pop(pid, None)

    def finishers(self) -> List[ExternalHolder]:
        """Live holders with a `finish` command that has not started yet."""
        return [h for h in self.external.values() if h.holds and h.spec.finish and not h.finishing]

    def start_finishing(self, holder: ExternalHolder) -> None:
        """The holder starts completing its work: from now on its run takes and releases the lock itself."""
        holder.finishing = True
        self.external.pop(os.path.normpath(holder.spec.path), None)

    def end_finishing(self, holder: ExternalHolder) -> None:
        holder.finished = True
        holder.alive = False

    def note_sleep(self, pid: int, seconds: float) -> Optional[str]:
        """Count a sleep of `pid`; a message when it has waited too long for a holder that never releases."""
        stuck = sorted(
            path for path in self._refused.get(pid, ())
            if path in self.external and self.external[path].holds and not self.external[path].spec.finish
        )
        if not stuck:
            return None
        wait = self._waits.setdefault(pid, _Wait())
        wait.seconds += max(float(seconds), 0.0)
        wait.sleeps += 1
        if wait.seconds <= self.wait_limit and wait.sleeps <= LOCK_WAIT_MAX_SLEEPS:
            return None
        holders = ", ".join("%s (held by the simulated live process %d)" % (p, self.external[p].spec.pid)
                            for p in stuck)
        return (
            "process %d slept %d times (%.1f simulated seconds) waiting for the lock %s, whose holder never "
            "releases it (World.hold_lock without finish=): a kernel that waits forever would hang here; "
            "give the holder a finish= command, make it dead (alive=False), or make the kernel give up"
            % (pid, wait.sleeps, wait.seconds, holders)
        )


# endregion: locks


@dataclass
class SessionState:
    """The session-wide simulated state besides files (see the module docstring)."""

    index: Any
    faults: FaultTable
    locks: LockTable
    kernel_source: str = ""
    kernel_version: str = "0"
    pip_version: str = "24.0"
    tick_calls: int = 1
    live_pids: Set[int] = field(default_factory=set)

    @classmethod
    def from_world(cls, world: Any, kernel_source: str, kernel_version: str,
                   seeded: Sequence[Tuple[str, str]] = ()) -> "SessionState":
        from .tools._index import PackageIndex

        return cls(
            index=PackageIndex.from_world(world, kernel_version, seeded),
            faults=FaultTable(world.faults),
            locks=LockTable(list(world.locks.values()), world.lock_wait_limit),
            kernel_source=kernel_source,
            kernel_version=kernel_version,
            pip_version=world.pip_version,
            tick_calls=world.tick_calls,
        )
