"""What a world holds at a path: a file, a symlink, a directory, or a real directory tree copied in.

`protoprimer_harness.world.World`'s builders write these (pure data: nothing touches a disk), and
`protoprimer_harness.session` materialises them on the fake filesystem. Both import this module; it
imports nothing of the harness.
"""

from dataclasses import dataclass
from typing import Optional, Sequence, Union


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
