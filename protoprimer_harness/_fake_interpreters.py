"""Simulated Python interpreters, as files on the fake filesystem.

Invariant: the fake filesystem is the only record of which interpreters exist. A simulated interpreter is
an executable file whose text starts with `FAKE_PYTHON_MARKER` and names its version (and whether it is
broken). Whether it runs as a venv is decided as CPython decides it: by a `pyvenv.cfg` in the parent of the
directory the interpreter was invoked from. So a fake tool that builds a venv (copying or symlinking a base
interpreter and writing `pyvenv.cfg`) creates a working venv interpreter without telling anyone.

Everything here uses `os` and so works on whichever filesystem is active (pyfakefs inside a session).
"""

import os
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ._fake_fs import read_file, real_path

FAKE_PYTHON_MARKER = "harness-fake-python"


def interpreter_file_text(version: str, broken: bool = False) -> str:
    """The text of a simulated interpreter's executable file."""
    return "%s\nversion = %s\nbroken = %s\n" % (FAKE_PYTHON_MARKER, version, "true" if broken else "false")


def pyvenv_cfg_text(home: str, version: str) -> str:
    """The `pyvenv.cfg` that `python -m venv` writes: `home` is the directory of the base interpreter."""
    return "home = %s\ninclude-system-site-packages = false\nversion = %s\n" % (home, version)


def parse_key_values(text: str) -> Dict[str, str]:
    """`key = value` lines (pyvenv.cfg and interpreter files); other lines are ignored."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def version_tuple(version: str) -> Tuple[int, int, int]:
    """ "3.11.7" -> (3, 11, 7); missing parts are 0."""
    parts = [int(part) for part in version.split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]


@dataclass(frozen=True)
class RunningInterpreter:
    """The facts a simulated interpreter reports about itself, as `sys` would for one invocation.

    `executable` is the absolute path it was invoked by (not resolved: a symlink stays a symlink);
    `prefix`/`base_prefix` differ exactly when it runs as a venv interpreter.
    """

    executable: str
    version: str
    broken: bool
    prefix: str
    base_prefix: str

    @property
    def version_info(self) -> Tuple[int, int, int]:
        return version_tuple(self.version)

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.base_prefix

    @property
    def site_packages(self) -> str:
        major, minor, _ = self.version_info
        return os.path.join(self.prefix, "lib", "python%d.%d" % (major, minor), "site-packages")

    def probe_output(self) -> str:
        """What `python -c PYTHON_PROBE_CODE` prints: version, executable, prefix, base_prefix."""
        return "%d.%d.%d\n%s\n%s\n%s\n" % (self.version_info + (self.executable, self.prefix, self.base_prefix))

    def failure_message(self) -> str:
        """What a broken interpreter prints on stderr when started."""
        major, minor, _ = self.version_info
        return (
            "%s: error while loading shared libraries: libpython%d.%d.so.1.0: cannot open shared object "
            "file: No such file or directory\n" % (self.executable, major, minor)
        )


def read_interpreter_facts(path: str) -> Optional[Dict[str, str]]:
    """The key/values of the simulated interpreter file at `path` (symlinks followed), or None."""
    try:
        head = read_file(path)[:4096]
    except OSError:
        return None
    text = head.decode("utf-8", "replace")
    if not text.startswith(FAKE_PYTHON_MARKER):
        return None
    return parse_key_values(text)


def identify_interpreter(path: str) -> Optional[RunningInterpreter]:
    """The interpreter invoked as the absolute `path`, or None when `path` is not a simulated interpreter."""
    facts = read_interpreter_facts(path)
    if facts is None or "version" not in facts:
        return None
    real = real_path(path)
    home_prefix = os.path.dirname(os.path.dirname(real))
    prefix = base_prefix = home_prefix
    venv_dir = os.path.dirname(os.path.dirname(path))
    cfg_path = os.path.join(venv_dir, "pyvenv.cfg")
    if os.path.isfile(cfg_path):
        try:
            with open(cfg_path, "r", encoding="utf-8") as f:
                cfg = parse_key_values(f.read())
        except (OSError, UnicodeDecodeError):
            cfg = {}
        prefix = venv_dir
        base_prefix = os.path.dirname(cfg["home"]) if cfg.get("home") else home_prefix
    return RunningInterpreter(
        executable=path,
        version=facts["version"],
        broken=facts.get("broken", "false") == "true",
        prefix=prefix,
        base_prefix=base_prefix,
    )
