"""Real interpreters on this machine, found at test time: pyenv's versions when pyenv is there, and
`python3.X` executables on PATH. Nothing is hard-coded; callers skip what is absent."""

import os
import subprocess
from typing import Dict, Optional, Tuple

Version = Tuple[int, int]


def _pyenv_root() -> Optional[str]:
    root = os.environ.get("PYENV_ROOT")
    if root and os.path.isdir(root):
        return root
    try:
        result = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    root = result.stdout.strip()
    return root if result.returncode == 0 and os.path.isdir(root) else None


def find_real_interpreters() -> Dict[Version, str]:
    """(major, minor) -> the path of one real interpreter of that version (pyenv's first, then PATH)."""
    found: Dict[Version, str] = {}
    root = _pyenv_root()
    versions = os.path.join(root, "versions") if root else None
    if versions and os.path.isdir(versions):
        for name in sorted(os.listdir(versions)):
            parts = name.split(".")
            python = os.path.join(versions, name, "bin", "python")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() and os.access(python, os.X_OK):
                found.setdefault((int(parts[0]), int(parts[1])), python)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for minor in range(0, 30):
            python = os.path.join(directory, "python3.%d" % minor)
            if os.path.isfile(python) and os.access(python, os.X_OK) and "/shims/" not in python:
                found.setdefault((3, minor), python)
    return found
