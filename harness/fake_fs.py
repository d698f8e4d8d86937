"""Writing files on whichever filesystem `os` is, fast on the fake one.

Inside a session `os` and `open` are pyfakefs' patched versions; each call resolves its path and `open`
also inspects the caller's stack. Worlds and the fake tools write hundreds of files per run (a venv's
layout, distributions' dist-info), so a new file is created through pyfakefs' own API when it is active:
the same file (content, mode, parent directories), a fraction of the time. Anywhere else (the real disk,
or a path that already exists, where `open` semantics matter), it is the plain `os` way.
"""

import os
import stat
from typing import Any, Optional, Union


def active_fake_filesystem() -> Optional[Any]:
    """pyfakefs' FakeFilesystem when `os` is patched by it (inside a session), else None."""
    filesystem = getattr(os, "filesystem", None)
    return filesystem if hasattr(filesystem, "create_file") else None


def write_file(path: str, data: Union[str, bytes], mode: int = 0o644) -> None:
    """Write `data` (text as UTF-8) to `path`, creating its parent directories; the file gets `mode`."""
    filesystem = active_fake_filesystem()
    if filesystem is not None and not os.path.lexists(path):
        filesystem.create_file(path, st_mode=stat.S_IFREG | mode, contents=data, encoding="utf-8")
        return
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.chmod(path, mode)


def make_dirs(path: str) -> None:
    """`os.makedirs(path, exist_ok=True)`."""
    filesystem = active_fake_filesystem()
    if filesystem is not None and not os.path.lexists(path):
        filesystem.create_dir(path)
        return
    os.makedirs(path, exist_ok=True)


def make_symlink(target: str, path: str) -> None:
    """A symlink at `path` to `target` (text kept as given), replacing a file or link already there."""
    if os.path.lexists(path):
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
    filesystem = active_fake_filesystem()
    if filesystem is not None and not os.path.lexists(path):
        filesystem.create_symlink(path, target, create_missing_dirs=True)
        return
    os.symlink(target, path)
