"""The filesystem port of one simulated process: the kernel's own `RealFileSystem` (running on the fake
filesystem), wrapped.

- Every call raises `ProcessKilled` once a fault killed the process, so a `finally:` of the kernel cannot
  change files after a SIGKILL.
- The operations that change files (`FS_OPS`: write_text, make_symlink, append_text, make_dirs, remove,
  remove_tree, move, copy) are recorded in the run's `Outcome.fs_ops` (`FsOpRecord`) and go through the
  session's filesystem faults (`FsFaultSpec`): an injected `OSError` instead of the call, or a kill before
  or after it. Two reads (`read_text`, `list_dir`) can be failed by a fault too (an unreadable file or
  directory); they are not recorded. The other operations (kinds, links, signatures) pass through unchanged.

The wrapper's operations have the port's own signatures (tests/harness/test_fs_faults.py compares them).
"""

import errno
import os
from typing import Any, Callable, List, Optional

from ._fake_environment import ProcessState
from .outcome import FsOpRecord
from ._session_state import FaultHit, FaultTable, FsFaultSpec


class ProcessFileSystem:
    """`fs` (the kernel's RealFileSystem) for the process whose `state` is given. `faults` is the session's
    fault table (None: no filesystem faults), `fs_ops`/`faults_hit` the run's records, `root` the repo root
    (a fault's relative `path` is relative to it), `pid` the process's pid (recorded with each operation)."""

    def __init__(self, fs: Any, state: ProcessState, faults: Optional[FaultTable] = None,
                 fs_ops: Optional[List[FsOpRecord]] = None, faults_hit: Optional[List[FaultHit]] = None,
                 root: str = "/", pid: Optional[int] = None):
        self._fs = fs
        self._state = state
        self._faults = faults
        self._fs_ops = fs_ops if fs_ops is not None else []
        self._faults_hit = faults_hit if faults_hit is not None else []
        self._root = os.path.normpath(root)
        self._pid = pid

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._fs, name)
        if not callable(attr):
            return attr
        state = self._state

        def guarded(*args: Any, **kwargs: Any) -> Any:
            state.check()
            return attr(*args, **kwargs)

        guarded.__name__ = name
        return guarded

    # --- the operations that change files ------------------------------------------------------------

    def write_text(self, path, text, mode=None, mtime_ns=None):
        if mtime_ns is None:  # as the kernel calls it almost always (and kernels before `mtime_ns` always)
            return self._effect(FsOpRecord("write_text", path), lambda: self._fs.write_text(path, text, mode=mode))
        return self._effect(FsOpRecord("write_text", path),
                            lambda: self._fs.write_text(path, text, mode=mode, mtime_ns=mtime_ns))

    def make_symlink(self, target, path):
        return self._effect(FsOpRecord("make_symlink", path, target=target),
                            lambda: self._fs.make_symlink(target, path))

    def append_text(self, path, text):
        return self._effect(FsOpRecord("append_text", path), lambda: self._fs.append_text(path, text))

    def make_dirs(self, path):
        return self._effect(FsOpRecord("make_dirs", path), lambda: self._fs.make_dirs(path))

    def remove(self, path):
        return self._effect(FsOpRecord("remove", path), lambda: self._fs.remove(path))

    def remove_tree(self, path):
        return self._effect(FsOpRecord("remove_tree", path), lambda: self._fs.remove_tree(path))

    def move(self, src, dst):
        return self._effect(FsOpRecord("move", src, dst=dst), lambda: self._fs.move(src, dst))

    def copy(self, src, dst):
        return self._effect(FsOpRecord("copy", src, dst=dst), lambda: self._fs.copy(src, dst))

    # --- reads a fault can fail (not recorded: they change nothing) ----------------------------------

    def read_text(self, path):
        self._read_fault("read_text", path)
        return self._fs.read_text(path)

    def list_dir(self, path):
        self._read_fault("list_dir", path)
        return self._fs.list_dir(path)

    def _read_fault(self, op: str, path: Any) -> None:
        self._state.check()
        fault = self._faults.match_fs(op, self._forms(path)) if self._faults is not None else None
        if fault is not None:
            self._faults_hit.append(FaultHit("fs", "%s %s" % (op, path), fault))
            raise fault.os_error(path)

    # --- faults --------------------------------------------------------------------------------------

    def _forms(self, path: Any) -> List[str]:
        """The forms of `path` a fault's pattern is matched against: absolute, and relative to the root."""
        absolute = os.path.normpath(os.path.join(self._root, str(path)))
        forms = [absolute]
        if absolute != self._root and absolute.startswith(self._root.rstrip("/") + "/"):
            forms.append(os.path.relpath(absolute, self._root))
        return forms

    def _effect(self, record: FsOpRecord, call: Callable[[], Any]) -> Any:
        self._state.check()
        record.pid = self._pid
        fault = None
        if self._faults is not None:
            paths = self._forms(record.path) + (self._forms(record.dst) if record.dst is not None else [])
            fault = self._faults.match_fs(record.op, paths)
        self._fs_ops.append(record)
        if fault is not None:
            record.fault = fault.describe()
            self._faults_hit.append(FaultHit("fs", record.line, fault))
            if fault.die == "before":
                record.killed = "before"
                raise self._state.kill("before %s" % record.line)
            if fault.error is not None:
                record.error = fault.error
                raise self._injected_error(record, fault)
        try:
            return call()
        except OSError as error:
            record.error = errno.errorcode.get(error.errno, str(error.errno))
            raise
        finally:
            if fault is not None and fault.die == "after":
                record.killed = "after"
                raise self._state.kill("after %s" % record.line)

    @staticmethod
    def _injected_error(record: FsOpRecord, fault: FsFaultSpec) -> OSError:
        """The OSError the real call would raise: `move` names both paths (as os.rename does), `copy` its
        destination (where the write fails), the others their path."""
        if record.op == "move":
            return fault.os_error(record.path, record.dst)
        if record.op == "copy":
            return fault.os_error(record.dst)
        return fault.os_error(record.path)
