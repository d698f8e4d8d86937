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


def copy_tree_objects(filesystem: Any, src: str, dst: str) -> None:
    """`shutil.copytree(src, dst, symlinks=True)` on pyfakefs, object by object: the same tree (contents,
    modes, modification times, links kept as links) without the patched `open`/`os` calls per file."""
    if os.path.lexists(dst):
        raise FileExistsError(17, "File exists", dst)
    source = filesystem.resolve(src)  # FileNotFoundError like os.scandir
    if not stat.S_ISDIR(source.st_mode):
        raise NotADirectoryError(20, "Not a directory", src)
    pending = [(source, dst)]
    while pending:
        directory, target = pending.pop()
        filesystem.create_dir(target, perm_bits=directory.st_mode & 0o7777)
        for name, node in directory.entries.items():
            path = os.path.join(target, name)
            if stat.S_ISLNK(node.st_mode):
                filesystem.create_symlink(path, node.contents)
            elif stat.S_ISDIR(node.st_mode):
                pending.append((node, path))
            else:
                filesystem.create_file(path, st_mode=node.st_mode, contents=node.byte_contents or b"")
                _same_times(filesystem.resolve(path), node)
        _same_times(filesystem.resolve(target), directory)


def _same_times(copy: Any, original: Any) -> None:
    copy.st_atime, copy.st_mtime = original.st_atime, original.st_mtime


def fast_copytree(original):
    """A stand-in for `shutil.copytree` while a session is active: `copy_tree_objects` for the plain
    symlink-keeping copy the kernel makes, `original` for anything else."""

    def copytree(src, dst, symlinks=False, ignore=None, copy_function=None, ignore_dangling_symlinks=False,
                 dirs_exist_ok=False):
        filesystem = active_fake_filesystem()
        if filesystem is None or not symlinks or ignore is not None or copy_function is not None or dirs_exist_ok:
            kwargs = {} if copy_function is None else {"copy_function": copy_function}
            return original(src, dst, symlinks=symlinks, ignore=ignore, ignore_dangling_symlinks=ignore_dangling_symlinks,
                            dirs_exist_ok=dirs_exist_ok, **kwargs)
        copy_tree_objects(filesystem, os.fspath(src), os.fspath(dst))
        return dst

    return copytree
