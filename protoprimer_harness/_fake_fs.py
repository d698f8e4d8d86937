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
        _new_fake_file(filesystem, path, stat.S_IFREG | mode, data)
        return
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.chmod(path, mode)


def _new_fake_file(filesystem: Any, path: str, st_mode: int, data: Union[str, bytes]) -> None:
    """A new file at `path` (nothing is there): added to its parent directory object when that exists (one
    path resolution), else through `create_file` (which makes the parents)."""
    from pyfakefs.fake_file import FakeDirectory, FakeFile

    try:
        parent = filesystem.resolve(os.path.dirname(path))
    except OSError:
        parent = None
    if not isinstance(parent, FakeDirectory):
        filesystem.create_file(path, st_mode=st_mode, contents=data, encoding="utf-8")
        return
    new = FakeFile(os.path.basename(path), st_mode, filesystem=filesystem)
    new.set_initial_contents(data.encode("utf-8") if isinstance(data, str) else data)
    parent.add_entry(new)


def make_dirs(path: str) -> None:
    """`os.makedirs(path, exist_ok=True)`."""
    filesystem = active_fake_filesystem()
    if filesystem is not None and not os.path.lexists(path):
        filesystem.create_dir(path)
        return
    os.makedirs(path, exist_ok=True)


def make_symlink(target: str, path: str) -> None:
    """A symlink at `path` to `target` (text kept as given), replacing a file or link already there."""
    taken = os.path.lexists(path)
    if taken and (os.path.islink(path) or os.path.isfile(path)):
        os.remove(path)
        taken = False
    filesystem = active_fake_filesystem()
    if filesystem is not None and not taken:
        filesystem.create_symlink(path, target, create_missing_dirs=True)
        return
    os.symlink(target, path)  # over a directory: fails as os.symlink does


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
                _new_fake_file(filesystem, path, node.st_mode, node.byte_contents or b"")
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


def read_file(path: str) -> bytes:
    """The bytes of the file at `path` (symlinks followed), as `open(path, "rb").read()` gives them, with
    its errors (FileNotFoundError, IsADirectoryError...). On pyfakefs: the file object's contents, one
    path resolution instead of the patched `open`'s work."""
    filesystem = active_fake_filesystem()
    if filesystem is not None:
        from pyfakefs.fake_file import FakeDirectory

        try:
            node = filesystem.resolve(path)
        except OSError:
            node = None
        if node is not None and not isinstance(node, FakeDirectory) and node.st_mode & 0o444 == 0o444:
            return node.byte_contents or b""  # readable by anyone (else `open` says whether by this user)
    with open(path, "rb") as f:
        return f.read()


def real_path(path: str) -> str:
    """`os.path.realpath(path)`; on pyfakefs, for a path that resolves, the path of the object it reaches
    (one resolution instead of an lstat per component)."""
    filesystem = active_fake_filesystem()
    if filesystem is not None and os.path.isabs(path):
        try:
            return filesystem.resolve(path).path
        except OSError:
            pass
    return os.path.realpath(path)
