"""A snapshot of a filesystem tree and the difference between two snapshots.

Works on whichever filesystem `os` is (the fake one inside a session). A snapshot maps absolute paths to
`Entry` values; two entries are equal when their kind, file content and symlink target are equal.
"""

import os
import stat
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple


@dataclass(frozen=True)
class Entry:
    """One filesystem node: kind is "file", "dir" or "symlink"; `data` the file bytes; `target` the link text."""

    kind: str
    data: Optional[bytes] = None
    target: Optional[str] = None
    executable: bool = False

    def text(self) -> str:
        return (self.data or b"").decode("utf-8", "replace")


Snapshot = Dict[str, Entry]


def take_snapshot(top: str = "/", excluded: Iterable[str] = ()) -> Snapshot:
    """Every node under `top` (symlinks not followed), except those at or under an `excluded` path.

    On a pyfakefs filesystem the tree of its file objects is read directly: the same nodes as walking it
    through `os`, without resolving a path per call (the most expensive part of a harness run)."""
    excluded_paths = tuple(os.path.normpath(path) for path in excluded)
    fake = _fake_directory(top)
    if fake is not None:
        return _object_snapshot(fake, os.path.normpath(top), excluded_paths)
    return _walk_snapshot(top, excluded_paths)


def _is_excluded(path: str, excluded_paths: Tuple[str, ...]) -> bool:
    return any(path == ex or path.startswith(ex.rstrip("/") + "/") for ex in excluded_paths)


def _fake_directory(top: str):
    """The pyfakefs directory object at `top` when `os` is pyfakefs' (inside a session), else None."""
    filesystem = getattr(os, "filesystem", None)
    if filesystem is None or not hasattr(filesystem, "resolve"):
        return None
    directory = filesystem.resolve(top)
    return directory if hasattr(directory, "entries") else None


def _object_snapshot(directory, top: str, excluded_paths: Tuple[str, ...]) -> Snapshot:
    snapshot: Snapshot = {}
    pending = [(top, directory)]
    while pending:
        dir_path, current = pending.pop()
        for name, node in current.entries.items():
            path = os.path.join(dir_path, name)
            if excluded_paths and _is_excluded(path, excluded_paths):
                continue
            mode = node.st_mode
            if stat.S_ISLNK(mode):
                snapshot[path] = Entry("symlink", target=node.contents)
            elif stat.S_ISDIR(mode):
                snapshot[path] = Entry("dir")
                pending.append((path, node))
            else:
                snapshot[path] = Entry("file", data=node.byte_contents or b"", executable=bool(mode & 0o111))
    return snapshot


def _entry(path: str) -> "Entry":
    """The entry of one path as the disk has it now: a symlink (never followed), a directory or a file."""
    if os.path.islink(path):
        return Entry("symlink", target=os.readlink(path))
    if os.path.isdir(path):
        return Entry("dir")
    with open(path, "rb") as f:
        data = f.read()
    return Entry("file", data=data, executable=os.access(path, os.X_OK))


def _walk_snapshot(top: str, excluded_paths: Tuple[str, ...]) -> Snapshot:
    snapshot: Snapshot = {}
    for dir_path, dir_names, file_names in os.walk(top):
        kept = []
        for name in dir_names + file_names:
            path = os.path.join(dir_path, name)
            if _is_excluded(path, excluded_paths):
                continue
            snapshot[path] = _entry(path)
            if name in dir_names and snapshot[path].kind == "dir":
                kept.append(name)
        dir_names[:] = kept
    return snapshot


@dataclass(frozen=True)
class Changes:
    """Absolute paths created, modified and deleted between two snapshots (each sorted).

    Files and symlinks are always listed. A directory is listed (with a trailing "/") only when it was
    created or deleted and no listed file or symlink lies beneath it, so `mkdir -p a/b/c` shows as
    "a/b/c/" and writing "a/b/f" shows as "a/b/f" alone.
    """

    created: List[str]
    modified: List[str]
    deleted: List[str]


def _leaf_dirs(dirs: List[str], others: List[str]) -> List[str]:
    everything_below = others + dirs
    return [
        d + "/"
        for d in dirs
        if not any(other.startswith(d + "/") for other in everything_below)
    ]


def diff_snapshots(before: Snapshot, after: Snapshot) -> Changes:
    created_nodes = sorted(path for path in after if path not in before)
    deleted_nodes = sorted(path for path in before if path not in after)
    modified = sorted(
        path
        for path in after
        if path in before and before[path] != after[path] and not (before[path].kind == after[path].kind == "dir")
    )

    def split(paths: List[str], snapshot: Snapshot) -> Tuple[List[str], List[str]]:
        dirs = [path for path in paths if snapshot[path].kind == "dir"]
        others = [path for path in paths if snapshot[path].kind != "dir"]
        return dirs, others

    created_dirs, created_others = split(created_nodes, after)
    deleted_dirs, deleted_others = split(deleted_nodes, before)
    return Changes(
        created=sorted(created_others + _leaf_dirs(created_dirs, created_others + modified)),
        modified=modified,
        deleted=sorted(deleted_others + _leaf_dirs(deleted_dirs, deleted_others)),
    )
