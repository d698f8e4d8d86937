"""Guards: take a snapshot of what a test must leave as it found it, compare at the end, undo, report.

Plain Python, no pytest: the plugin's fixtures `protoprimer_env_guard`, `protoprimer_cwd_guard`,
`protoprimer_fs_guard` and `world` are these classes used as context managers, and any test runner can
use them the same way:

    from protoprimer_harness.guards import CwdGuard, EnvGuard, FsGuard

    with EnvGuard(), CwdGuard(), FsGuard("/path/to/repo"):
        ...   # leaving the block restores os.environ and the cwd, then raises GuardViolation listing
              # every change (files are only listed: nothing can put them back)

Each guard has `start()` (the snapshot) and `finish()` (compare, restore what can be restored, return the
report: "" when nothing changed). As a context manager it raises `GuardViolation` (an `AssertionError`)
with the report when the block left something changed; when the block itself raises, the guard still
restores but lets that exception through alone.

`SessionGuard` is the odd one out: it closes the world sessions (`protoprimer_harness.session`) that were
started inside it and are still active at its end, and by default does not treat that as a violation.

Invariant: importing this module imports only the standard library (the pytest plugin imports it in every
pytest run of every venv that has protoprimer installed).
"""

import os

# pytest rewrites it between a test's phases: not a change the test made.
VOLATILE_ENV = frozenset({"PYTEST_CURRENT_TEST"})
# Directories FsGuard does not look into (by name, at any depth; so are `*.egg-info` directories).
FS_SKIPPED_DIR_NAMES = frozenset({"venv", ".venv", ".git", "__pycache__", ".pytest_cache", ".tox", ".nox"})


class GuardViolation(AssertionError):
    """A guarded block left something changed; the message lists the changes (undone where possible)."""


class Guard:
    """Base of the guards: `start()`, `finish() -> report`, and the context manager over them."""

    # Whether leaving the `with` block with a non-empty report raises GuardViolation.
    fail = True

    def start(self) -> "Guard":
        raise NotImplementedError

    def finish(self) -> str:
        raise NotImplementedError

    def __enter__(self) -> "Guard":
        return self.start()

    def __exit__(self, exc_type, exc_value, traceback) -> bool:
        report = self.finish()
        if report and self.fail and exc_type is None:
            raise GuardViolation(report)
        return False


def _headline(what: str, hint: str) -> str:
    return "%s (%s):" % (what, hint) if hint else "%s:" % what


# region: environment


def env_changes(before, after, ignored=VOLATILE_ENV):
    """The lines describing how the mapping `after` differs from `before` (names in `ignored` aside)."""
    changes = []
    for name in sorted(set(before) | set(after)):
        if name in ignored or before.get(name) == after.get(name):
            continue
        if name not in before:
            changes.append("  added    %s=%r" % (name, after[name]))
        elif name not in after:
            changes.append("  removed  %s (was %r)" % (name, before[name]))
        else:
            changes.append("  changed  %s: %r -> %r" % (name, before[name], after[name]))
    return changes


class EnvGuard(Guard):
    """os.environ must end as it started (`ignored` names aside); a change is undone and reported."""

    def __init__(self, hint: str = "", ignored=VOLATILE_ENV, environ=None):
        self.hint = hint
        self.ignored = frozenset(ignored)
        self.environ = os.environ if environ is None else environ
        self._before = None

    def start(self) -> "EnvGuard":
        self._before = dict(self.environ)
        return self

    def finish(self) -> str:
        before, after = self._before, dict(self.environ)
        changes = env_changes(before, after, self.ignored)
        if not changes:
            return ""
        for name in set(after) - set(before) - self.ignored:
            del self.environ[name]
        for name, value in before.items():
            if name not in self.ignored and self.environ.get(name) != value:
                self.environ[name] = value
        restored = "restored now; " + self.hint if self.hint else "restored now"
        return "\n".join([_headline("the test left os.environ changed", restored)] + changes)


# endregion: environment

# region: working directory


class CwdGuard(Guard):
    """The working directory must end as it started; a change is undone and reported."""

    def __init__(self, hint: str = ""):
        self.hint = hint
        self._before = None

    def start(self) -> "CwdGuard":
        self._before = os.getcwd()
        return self

    def finish(self) -> str:
        try:
            after = os.getcwd()
        except OSError:
            after = "(a deleted directory)"
        if after == self._before:
            return ""
        os.chdir(self._before)
        restored = "restored now; " + self.hint if self.hint else "restored now"
        return "%s\n  before: %s\n  after:  %s" % (
            _headline("the test left the working directory changed", restored), self._before, after)


# endregion: working directory

# region: files


def snapshot_tree(root, skipped_paths=(), skipped_names=FS_SKIPPED_DIR_NAMES):
    """path -> (mtime_ns, size) of every file and symlink under `root` (directories: path + os.sep ->
    None). Directories named in `skipped_names` or ending in `.egg-info`, and the directories at
    `skipped_paths` (absolute), are not looked into."""
    skipped_paths = set(skipped_paths)
    snapshot = {}
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        name = entry.name
                        if name in skipped_names or name.endswith(".egg-info") or entry.path in skipped_paths:
                            continue
                        snapshot[entry.path + os.sep] = None
                        pending.append(entry.path)
                        continue
                    stat = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                snapshot[entry.path] = (stat.st_mtime_ns, stat.st_size)
    return snapshot


def tree_changes(before, after, root):
    """The lines describing how the snapshot `after` differs from `before` (paths relative to `root`)."""
    changes = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            changes.append("  deleted  %s" % os.path.relpath(path, root))
        elif path not in before:
            changes.append("  created  %s" % os.path.relpath(path, root))
        elif before[path] != after[path]:
            changes.append("  modified %s" % os.path.relpath(path, root))
    return changes


class FsGuard(Guard):
    """No file under `root` may be created, modified or deleted (compared by a `path -> (mtime, size)`
    walk, so it also sees what anything else running in `root` at the same time writes). Changes are
    reported, not undone."""

    def __init__(self, root, hint: str = "", skipped_paths=(), skipped_names=FS_SKIPPED_DIR_NAMES):
        self.root = os.fspath(root)
        self.hint = hint
        self.skipped_paths = tuple(os.path.abspath(os.fspath(path)) for path in skipped_paths)
        self.skipped_names = frozenset(skipped_names)
        self._before = None

    def _snapshot(self):
        return snapshot_tree(self.root, self.skipped_paths, self.skipped_names)

    def start(self) -> "FsGuard":
        self._before = self._snapshot()
        return self

    def finish(self) -> str:
        after = self._snapshot()
        if after == self._before:
            return ""
        changes = tree_changes(self._before, after, self.root)
        return "\n".join([_headline("the test changed files under %s" % self.root, self.hint)] + changes)


# endregion: files

# region: world sessions


class SessionGuard(Guard):
    """Closes, at its end, every world session started inside it and still active (newest first), so no
    fake filesystem outlives a test. With `fail=True` a session left active is also a violation."""

    def __init__(self, fail: bool = False):
        self.fail = fail
        self._tracker = None

    def start(self) -> "SessionGuard":
        self._tracker = _SessionTracker()
        return self

    def finish(self) -> str:
        tracker, self._tracker = self._tracker, None
        left = tracker.stop()
        for session in reversed(left):
            session.close()
        if not left:
            return ""
        return "the test left %d world session%s active (closed now; use `with world.activate() as session:`)" % (
            len(left), "" if len(left) == 1 else "s")


class _SessionTracker:
    """The world sessions started between its creation and `stop()` and still active then, oldest first
    (from `protoprimer_harness.session.active_sessions()`: the test may have dropped its last reference to a
    session whose fake filesystem is still on)."""

    def __init__(self):
        import importlib

        # from sys.modules, not the package's attribute (which may be a module pyfakefs no longer patches)
        self._registry = importlib.import_module("protoprimer_harness.session").active_sessions
        self._before = tuple(self._registry())

    def stop(self):
        return [session for session in self._registry() if not any(session is old for old in self._before)]


# endregion: world sessions
