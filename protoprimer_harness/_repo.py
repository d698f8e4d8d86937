"""A client repo as committed, copied into a world (`World.add_repo`), and the fake package index seeded
from its constraints files.

What belongs to a repo (`repo_files`):

- in a git work tree: what `git ls-files --cached --others --exclude-standard` lists, run in the repo's
  directory: the tracked files and the untracked ones git does not ignore. Ignored files never come in, so
  `venv/`, `log/`, `tmp/`, `cache/` (the kernel writes a `.gitignore` of `*` into each), `lconf`,
  `__pycache__/` stay out. The work tree's content is copied (an edit not yet committed is in the world,
  a file deleted from the work tree is not). A listed directory (a submodule, a nested repo) is walked
  with the rules below. A repo directory its enclosing work tree ignores (a copy under an ignored `tmp/`)
  is walked too: git would list nothing of it.
- elsewhere (no git, not a work tree): a walk that skips, at any depth, `.git`, `__pycache__`,
  `.pytest_cache`, `.mypy_cache`, `.tox`, `.nox`, `*.egg-info`, `*.pyc`, every directory holding a
  `.gitignore` whose content is `*` (what the kernel generates) or a `pyvenv.cfg` (a venv), and, at the top,
  `venv`, `.venv`, `venv.*`, `log`, `tmp`, `cache` and an `lconf` symlink.

Symlinks stay symlinks (their text as it is), executable files stay executable. Everything is read when the
session is planned, before the fake filesystem starts.

Constraints (`parse_pins`): each `name==version` line of a constraints file is a pin; comments, blank lines,
option lines (`-c`, `-r`, `-e`, `--...`) and lines that pin no single version (`>=`, `==1.*`, `name @ url`)
are skipped; an environment marker (`; python_version < "3.9"`) does not matter here: the release goes in
the index whatever it says (the fake pip evaluates the marker when it applies the constraint).

This module reads the real disk; it imports nothing of the harness but its errors.
"""

import fnmatch
import json
import os
import re
import shutil
import subprocess
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .errors import HarnessError

# (absolute path, kind, payload, executable), as protoprimer_harness.session plans them.
Node = Tuple[str, str, Any, bool]

DEFAULT_CONSTRAINTS_BASENAME = "constraints.txt"
CONSTRAINTS_FIELD = "version_constraints_file_basename"

SKIPPED_ANYWHERE = (".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".tox", ".nox")
SKIPPED_PATTERNS = ("*.egg-info", "*.pyc")
SKIPPED_AT_TOP = ("venv", ".venv", "venv.*", "log", "tmp", "cache")
LOCAL_CONF_SYMLINK = "lconf"
GIT_TIMEOUT = 60

_PIN = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,#=<>!~*]+)\s*(?:;.*)?$")
_OPTION_TAIL = re.compile(r"\s+--?[A-Za-z].*$")


# region: what belongs to a repo


def repo_files(real_root: str) -> Tuple[str, List[str]]:
    """How the files were found ("git" or "walk") and the repo's files, relative to `real_root`, sorted.
    A directory in the list (a submodule, a nested repo) is copied with the walk's rules."""
    real_root = os.path.abspath(real_root)
    if not os.path.isdir(real_root):
        raise HarnessError("add_repo: %s is not a directory" % real_root)
    listed = _git_files(real_root)
    if listed is not None:
        return "git", listed
    return "walk", _walk_files(real_root, top=True)


def _git_env():
    """The environment git runs with: without GIT_* variables (a hook's GIT_INDEX_FILE, GIT_DIR, ...), which
    would point it at another repository or index."""
    return dict((name, value) for name, value in os.environ.items() if not name.startswith("GIT_"))


def _git(real_root: str, *args: str) -> Optional[subprocess.CompletedProcess]:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run([git] + list(args), cwd=real_root, env=_git_env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None


def _git_files(real_root: str) -> Optional[List[str]]:
    """The files git lists for the repo directory, or None when it is not in a work tree (or git is absent,
    or the work tree ignores the directory itself)."""
    inside = _git(real_root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != b"true":
        return None
    ignored = _git(real_root, "check-ignore", "-q", ".")
    if ignored is not None and ignored.returncode == 0:
        return None
    listed = _git(real_root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None or listed.returncode != 0:
        raise HarnessError("add_repo: `git ls-files` failed in %s: %s" % (
            real_root, (listed.stderr if listed is not None else b"").decode("utf-8", "replace").strip()))
    paths = set()
    for raw in listed.stdout.split(b"\0"):
        if not raw:
            continue
        rel = os.fsdecode(raw).rstrip("/")
        if os.path.lexists(os.path.join(real_root, rel)):  # a tracked file deleted from the work tree is not
            paths.add(rel)
    return sorted(paths)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def is_generated_dir(path: str) -> bool:
    """A directory the kernel generated (a `.gitignore` of `*` in it) or a venv (a `pyvenv.cfg`)."""
    if os.path.isfile(os.path.join(path, "pyvenv.cfg")):
        return True
    try:
        with open(os.path.join(path, ".gitignore"), "r", encoding="utf-8") as f:
            return f.read().strip() == "*"
    except (OSError, UnicodeDecodeError):
        return False


def _skipped(parent: str, name: str, top: bool) -> bool:
    path = os.path.join(parent, name)
    if name in SKIPPED_ANYWHERE or _matches(name, SKIPPED_PATTERNS):
        return True
    if top and (_matches(name, SKIPPED_AT_TOP) or (name == LOCAL_CONF_SYMLINK and os.path.islink(path))):
        return True
    return os.path.isdir(path) and not os.path.islink(path) and is_generated_dir(path)


def _walk_files(real_dir: str, top: bool) -> List[str]:
    """The files (and symlinks) under `real_dir` the walk keeps, relative to it, sorted."""
    found = []
    for dir_path, dir_names, file_names in os.walk(real_dir):
        at_top = top and dir_path == real_dir
        rel_dir = os.path.relpath(dir_path, real_dir)
        kept_dirs = []
        for name in sorted(dir_names):
            if _skipped(dir_path, name, at_top):
                continue
            if os.path.islink(os.path.join(dir_path, name)):
                found.append(os.path.normpath(os.path.join(rel_dir, name)))
            else:
                kept_dirs.append(name)
        dir_names[:] = kept_dirs
        for name in sorted(file_names):
            if not _skipped(dir_path, name, at_top):
                found.append(os.path.normpath(os.path.join(rel_dir, name)))
    return sorted(found)


def real_node(source: str, target: str) -> "Node":
    """The node for the real file or symlink `source` placed at `target`, its content read now."""
    if os.path.islink(source):
        return (target, "symlink", os.readlink(source), False)
    with open(source, "rb") as f:
        return (target, "file", f.read(), os.access(source, os.X_OK))


def repo_nodes(real_root: str, dst: str) -> List[Node]:
    """The nodes of the repo at `real_root` placed at `dst` (read from the real disk, now)."""
    real_root = os.path.abspath(real_root)
    _, listed = repo_files(real_root)
    nodes: List[Node] = [(dst, "dir", None, False)]
    for rel in listed:
        source = os.path.join(real_root, rel)
        target = os.path.normpath(os.path.join(dst, rel))
        if os.path.isdir(source) and not os.path.islink(source):
            nodes.append((target, "dir", None, False))
            nodes.extend(real_node(os.path.join(source, inner), os.path.join(target, inner))
                         for inner in _walk_files(source, top=False))
        elif os.path.islink(source) or os.path.isfile(source):
            nodes.append(real_node(source, target))
    return nodes


# endregion: what belongs to a repo

# region: constraints


def canonical_name(name: str) -> str:
    """PEP 503: lower case, runs of `-`, `_`, `.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _logical_lines(text: str) -> Iterable[Tuple[int, str]]:
    """(first line number, line) with backslash continuations joined."""
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def parse_pins(text: str, where: str = "constraints") -> List[Tuple[str, str]]:
    """The exact pins of a constraints text, (name as written, version), in file order. A pin whose version
    is not a PEP 440 version raises ValueError naming `where` and the line."""
    pins = []
    for number, line in _logical_lines(text):
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line or line.startswith("-"):
            continue
        line = _OPTION_TAIL.sub("", line)  # `name==1.0 --hash=sha256:...`
        match = _PIN.match(line)
        if match is None:
            continue
        name, version = match.group(1), match.group(2)
        _check_version(version, "%s, line %d: %s" % (where, number, line))
        pins.append((name, version))
    return pins


def _check_version(version: str, where: str) -> None:
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - the harness extra installs it
        return
    try:
        Version(version)
    except InvalidVersion:
        raise ValueError("%s: %r is not a version (PEP 440, e.g. 1.2.3)" % (where, version)) from None


def constraints_basenames(nodes: Sequence[Node], under: str) -> List[str]:
    """`constraints.txt` and every other basename the repo's JSON files name in their
    `version_constraints_file_basename` field (files of `nodes` under the directory `under`)."""
    names = [DEFAULT_CONSTRAINTS_BASENAME]
    prefix = under.rstrip("/") + "/"
    for path, kind, payload, _ in nodes:
        if kind != "file" or not path.startswith(prefix) or not path.endswith(".json"):
            continue
        try:
            data = json.loads(payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        value = data.get(CONSTRAINTS_FIELD) if isinstance(data, dict) else None
        if isinstance(value, str) and value and os.path.basename(value) == value and value not in names:
            names.append(value)
    return names


def final_files(nodes: Sequence[Node], removed: Sequence[str] = ()) -> Dict[str, bytes]:
    """Path -> the bytes of the file there once every node is made and the `removed` paths are deleted, as
    `protoprimer_harness.session.materialise` does it (a later node replaces an earlier one at its path)."""
    files: Dict[str, bytes] = {}
    dirs = set()

    def drop(path: str) -> None:
        files.pop(path, None)
        if path in dirs:
            under = path.rstrip("/") + "/"
            for known in [p for p in files if p.startswith(under)]:
                del files[known]
            dirs.difference_update([d for d in dirs if d == path or d.startswith(under)])

    for path, kind, payload, _ in nodes:
        if kind == "dir":
            files.pop(path, None)
            dirs.add(path)
            continue
        drop(path)
        parent = os.path.dirname(path)
        while parent not in dirs and parent != os.path.dirname(parent):
            dirs.add(parent)
            parent = os.path.dirname(parent)
        if kind == "file":
            files[path] = payload
    for path in removed:
        drop(path)
    return files


def seeded_pins(repo_dirs: Sequence[str], constraint_paths: Sequence[str], constraint_texts: Sequence[str],
                nodes: Sequence[Node], removed: Sequence[str], explicit: Iterable[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """The (name, version) releases to add to the index: the pins of every constraints file under each of
    `repo_dirs` (the world's repos), of the files at `constraint_paths` and of `constraint_texts`, in that
    order, without duplicates and without those `explicit` already has (same name and version: the world's
    own release, with its dependencies, stays)."""
    files = final_files(nodes, removed)
    sources: List[Tuple[str, str]] = []  # (where, text)
    for repo_dir in repo_dirs:
        basenames = constraints_basenames(nodes, repo_dir)
        prefix = repo_dir.rstrip("/") + "/"
        for path in sorted(files):
            if path.startswith(prefix) and os.path.basename(path) in basenames:
                sources.append((path, files[path].decode("utf-8", "replace")))
    for path in constraint_paths:
        if path not in files:
            raise HarnessError("the index is to be seeded from the constraints file %s, but the world has no file "
                               "there" % path)
        sources.append((path, files[path].decode("utf-8", "replace")))
    for i, text in enumerate(constraint_texts):
        sources.append(("constraints text #%d" % (i + 1), text))
    taken = set((canonical_name(name), version) for name, version in explicit)
    seeded = []
    for where, text in sources:
        try:
            pins = parse_pins(text, where)
        except ValueError as error:
            raise HarnessError("cannot seed the package index: %s" % error) from None
        for name, version in pins:
            key = (canonical_name(name), version)
            if key not in taken:
                taken.add(key)
                seeded.append((name, version))
    return seeded


# endregion: constraints
