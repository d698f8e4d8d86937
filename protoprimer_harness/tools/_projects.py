"""Local projects as the fake pip and uv see them: DIR/pyproject.toml's [project] table.

Read: `name`, `version` (or a dynamic version from `[tool.setuptools.dynamic] version = { attr = "m.__version__" }`,
found as a `__version__ = "..."` line in DIR/m.py, DIR/m/__init__.py or under DIR/src/; else "0.0.0"),
`dependencies`, `optional-dependencies` (the extras) and `requires-python`. Not modelled: build backends
and their hooks, setup.py-only projects, dynamic dependencies.
"""

import os
import re
from typing import Any, Dict, Optional, Tuple

from .._scenario_toml import toml_module
from ._index import Project, parse_requirement

_EXTRAS = re.compile(r"^(?P<path>.*?)\[(?P<extras>[^\[\]]*)\]$")
_VERSION_LINE = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


class ProjectError(Exception):
    """A project pip/uv cannot install: `message` is the tool-neutral reason."""


def split_extras(spec: str) -> Tuple[str, Tuple[str, ...]]:
    """ "DIR[a,b]" -> ("DIR", ("a", "b")); "DIR" -> ("DIR", ())."""
    match = _EXTRAS.match(spec)
    if not match:
        return spec, ()
    extras = tuple(e.strip() for e in match.group("extras").split(",") if e.strip())
    return match.group("path"), extras


def _toml_loads(text: str) -> Dict[str, Any]:
    return toml_module("pyproject.toml files").loads(text)


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _dynamic_version(directory: str, data: Dict[str, Any]) -> str:
    attr = (((data.get("tool") or {}).get("setuptools") or {}).get("dynamic") or {}).get("version") or {}
    target = attr.get("attr") if isinstance(attr, dict) else None
    if not isinstance(target, str) or "." not in target:
        return "0.0.0"
    module = target.rsplit(".", 1)[0].replace(".", "/")
    for base in (directory, os.path.join(directory, "src")):
        for rel in (module + ".py", os.path.join(module, "__init__.py")):
            text = _read_text(os.path.join(base, rel))
            if text is not None:
                match = _VERSION_LINE.search(text)
                if match:
                    return match.group(1)
    return "0.0.0"


def read_project(directory: str) -> Project:
    """The project at `directory` (absolute). Raises ProjectError."""
    if not os.path.isdir(directory):
        raise ProjectError("not_a_dir")
    pyproject = os.path.join(directory, "pyproject.toml")
    text = _read_text(pyproject)
    if text is None:
        if os.path.isfile(os.path.join(directory, "setup.py")):
            raise ProjectError("setup_py_only")
        raise ProjectError("no_project")
    try:
        data = _toml_loads(text)
    except Exception as error:  # tomllib.TOMLDecodeError
        raise ProjectError("bad_toml: %s" % error)
    project = data.get("project")
    if not isinstance(project, dict):
        raise ProjectError("no_project_table")
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError("no_name")
    version = project.get("version")
    if not isinstance(version, str):
        version = _dynamic_version(directory, data) if "version" in (project.get("dynamic") or []) else "0.0.0"
    dependencies = tuple(project.get("dependencies") or ())
    optional = {str(k): tuple(v) for k, v in (project.get("optional-dependencies") or {}).items()}
    for req in list(dependencies) + [r for reqs in optional.values() for r in reqs]:
        try:
            parse_requirement(req)
        except ValueError as error:
            raise ProjectError("bad_requirement: %s" % error)
    requires_python = project.get("requires-python")
    return Project(directory, name, version, dependencies, optional,
                   requires_python if isinstance(requires_python, str) else None)


def project_error_text(error: ProjectError, directory: str, tool: str) -> str:
    """How pip ("pip") or uv ("uv") words a ProjectError for `directory`."""
    reason = str(error)
    code, _, detail = reason.partition(": ")
    pyproject = os.path.join(directory, "pyproject.toml")
    if tool == "uv":
        if code == "not_a_dir":
            return "error: Distribution not found at: file://%s\n" % directory
        if code in ("no_project", "setup_py_only"):
            return ("error: %s does not appear to be a Python project, as neither `pyproject.toml` nor "
                    "`setup.py` are present in the directory\n" % directory)
        return "error: Failed to parse metadata from built wheel of %s: %s (%s)\n" % (directory, code, detail or pyproject)
    if code == "not_a_dir":
        return ("ERROR: %s is not a valid editable requirement. It should either be a path to a local project "
                "or a VCS URL (beginning with bzr+http, bzr+https, bzr+ssh, bzr+sftp, bzr+ftp, bzr+lp, "
                "bzr+file, git+http, git+https, git+ssh, git+git, git+file, hg+file, hg+http, hg+https, "
                "hg+ssh, hg+static-http, svn+ssh, svn+http, svn+https, svn+svn, svn+file).\n" % directory)
    if code == "no_project":
        return ("ERROR: file://%s does not appear to be a Python project: neither 'setup.py' nor "
                "'pyproject.toml' found.\n" % directory)
    if code == "setup_py_only":
        return ("ERROR: the harness's fake pip cannot install %s: it has only a setup.py (it reads "
                "[project] from pyproject.toml)\n" % directory)
    if code == "bad_toml":
        return "ERROR: %s: invalid pyproject.toml: %s\n" % (pyproject, detail)
    if code == "no_project_table":
        return ("ERROR: the harness's fake pip cannot install %s: pyproject.toml has no [project] table\n"
                % directory)
    if code == "no_name":
        return ("ERROR: invalid pyproject.toml config: `project` must contain ['name'] properties (%s)\n"
                % pyproject)
    return "ERROR: %s: %s\n" % (pyproject, detail or code)
