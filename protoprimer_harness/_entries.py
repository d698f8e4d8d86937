"""What a world holds at a path: a file, a symlink, a directory, a real directory tree copied in, or a client
repo as committed; and where its package index is seeded from (`ConstraintsSource`).

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


@dataclass(frozen=True)
class RealRepoEntry:
    """A client repo as committed (protoprimer_harness._repo: what git lists, or the walk's rules), copied in at
    activation; with `seed_index`, the pins of its constraints files become releases of the package index."""

    real_src: str
    seed_index: bool = True


@dataclass(frozen=True)
class ConstraintsSource:
    """Pins to seed the package index with: a constraints `text`, or the file at the world `path` (absolute)
    as the world holds it at activation."""

    text: Optional[str] = None
    path: Optional[str] = None


Entry = Union[FileEntry, SymlinkEntry, DirEntry, RealDirEntry, RealRepoEntry]
