"""The install logic pip and uv share: gathering requirements, editables and constraints from the command
line and files, resolving them against the world's index, and the changes that makes to site-packages.
The tools word the results their own way (`protoprimer_harness.tools._pip`, `protoprimer_harness.tools._uv`)."""

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .base import ToolRefusal
from ._dists import InstalledDist, canonical_name, installed_dists, remove_dist, write_dist
from ._index import Candidate, Project, install_order, parse_requirement, resolve
from ._projects import ProjectError, project_error_text, read_project, split_extras


class InstallFailure(Exception):
    """The tool fails: exit `code`, `stderr` worded as the tool would."""

    def __init__(self, code: int, stderr: str):
        super().__init__(stderr)
        self.code = code
        self.stderr = stderr


@dataclass
class InstallInputs:
    requirements: List[str] = field(default_factory=list)
    editables: List[str] = field(default_factory=list)
    constraint_files: List[str] = field(default_factory=list)
    requirement_files: List[str] = field(default_factory=list)
    upgrade: bool = False


@dataclass
class Collected:
    roots: List[Any] = field(default_factory=list)
    editables: Dict[str, Project] = field(default_factory=dict)
    editable_extras: Dict[str, List[str]] = field(default_factory=dict)
    constraints: Dict[str, List[Any]] = field(default_factory=dict)
    root_keys: List[str] = field(default_factory=list)


def install_inputs(options) -> InstallInputs:
    """What pip install and uv pip install take from their parsed options (the same for both)."""
    return InstallInputs(
        requirements=options.positionals,
        editables=options.all("editable"),
        constraint_files=options.all("constraint"),
        requirement_files=options.all("requirement"),
        upgrade=options.flag("upgrade"),
    )


def _missing_file(path: str, tool: str) -> InstallFailure:
    if tool == "uv":
        return InstallFailure(2, "error: File not found: `%s`\n" % path)
    return InstallFailure(1, "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '%s'\n"
                          % path)


def _invalid(text: str, tool: str, where: str = "") -> InstallFailure:
    if tool == "uv":
        return InstallFailure(2, "error: Failed to parse: `%s`%s\n" % (text, where))
    return InstallFailure(1, "ERROR: Invalid requirement: '%s'%s\n" % (text, where))


def _read_lines(path: str, tool: str) -> List[Tuple[int, str]]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        raise _missing_file(path, tool) from None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~", "file:")) or os.sep in text.split(";")[0].split("[")[0]


def collect(inputs: InstallInputs, cwd: str, tool: str) -> Collected:
    """Parse everything the command line names. Raises InstallFailure (or ToolRefusal for what the
    harness does not model: local paths without --editable, VCS or URL requirements)."""
    collected = Collected()
    editables = list(inputs.editables)
    requirements: List[Tuple[str, str]] = [(text, "") for text in inputs.requirements]
    constraint_files = [os.path.normpath(os.path.join(cwd, p)) for p in inputs.constraint_files]
    pending = [os.path.normpath(os.path.join(cwd, p)) for p in inputs.requirement_files]
    seen_files = set()
    while pending:
        path = pending.pop(0)
        if path in seen_files:
            continue
        seen_files.add(path)
        base = os.path.dirname(path)
        for number, line in _read_lines(path, tool):
            word, _, rest = line.partition(" ")
            rest = rest.strip()
            if word in ("-e", "--editable"):
                editables.append(os.path.normpath(os.path.join(base, rest)) if not rest.startswith("/") else rest)
            elif word in ("-c", "--constraint"):
                constraint_files.append(os.path.normpath(os.path.join(base, rest)))
            elif word in ("-r", "--requirement"):
                pending.append(os.path.normpath(os.path.join(base, rest)))
            else:
                requirements.append((line, " (from line %d of %s)" % (number, path)))
    for spec in editables:
        raw_path, extras = split_extras(spec)
        if raw_path.startswith("file://"):
            raw_path = raw_path[len("file://"):]
        directory = os.path.normpath(os.path.join(cwd, raw_path))
        try:
            project = read_project(directory)
        except ProjectError as error:
            raise InstallFailure(1 if tool == "pip" else 2, project_error_text(error, directory, tool)) from None
        key = project.key
        if key not in collected.editables:
            collected.editables[key] = project
            collected.root_keys.append(key)
        merged = collected.editable_extras.setdefault(key, [])
        merged.extend(e for e in extras if e not in merged)
    for key, project in collected.editables.items():
        extras = collected.editable_extras.get(key, [])
        collected.roots.append(parse_requirement(project.name + ("[%s]" % ",".join(extras) if extras else "")))
    for text, where in requirements:
        if _looks_like_path(text) or "://" in text:
            raise ToolRefusal(
                "the requirement %r is not simulated: the fake %s installs requirements by name from the "
                "world's index, and local projects with --editable" % (text, tool))
        try:
            req = parse_requirement(text)
        except ValueError:
            raise _invalid(text, tool, where) from None
        collected.roots.append(req)
        collected.root_keys.append(canonical_name(req.name))
    for path in constraint_files:
        for number, line in _read_lines(path, tool):
            try:
                req = parse_requirement(line)
            except ValueError:
                raise _invalid(line, tool, " (from line %d of %s)" % (number, path)) from None
            collected.constraints.setdefault(canonical_name(req.name), []).append(req)
    return collected


@dataclass
class Change:
    """One distribution to (re)install, replacing `old` when set."""

    candidate: Candidate
    old: Optional[InstalledDist]


def plan_install(collected: "Collected", site: str, index: Any, python_version: str, upgrade: bool, force: bool,
                 no_deps: bool, tool: str) -> Tuple[Dict[str, Candidate], List["Change"]]:
    """What an install into `site` does, as pip and uv decide it alike: the candidates picked (`--force`
    reinstalls the roots, `--no-deps` keeps only them) and the changes to the site. Raises ResolutionError."""
    installed = installed_dists(site)
    if force:
        for key in collected.root_keys:
            installed.pop(key, None)
    picks = resolve(collected.roots, collected.editables, collected.constraints, index, installed, python_version,
                    upgrade=upgrade)
    if no_deps:
        picks = {k: v for k, v in picks.items() if k in collected.root_keys}
    changes = planned_changes(picks, installed_dists(site), tool, force=collected.root_keys if force else ())
    return picks, changes


def planned_changes(picks: Dict[str, Candidate], installed: Dict[str, InstalledDist], tool: str,
                    force: Sequence[str] = ()) -> List[Change]:
    """What to (re)install: everything picked that is not kept as installed; a distribution already installed
    at the picked version is left alone unless its name is in `force` (--force-reinstall / --reinstall).
    pip always reinstalls the editables it is given; uv leaves one installed from the same directory at the
    same version alone."""
    changes = []
    for cand in install_order(picks):
        if cand.source == "installed":
            continue
        old = installed.get(cand.key)
        if cand.key in force:
            changes.append(Change(cand, old))
            continue
        if cand.source == "index" and old is not None and not old.editable and old.version == cand.version:
            continue
        if (cand.source == "editable" and tool == "uv" and old is not None and old.editable_dir == cand.editable_dir
                and old.version == cand.version):
            continue
        changes.append(Change(cand, old))
    return changes


def change_steps(changes: Sequence[Change], site: str, installer: str, kernel_source: str) -> List[Callable[[], None]]:
    """One step per change: uninstall the old distribution, install the new one."""

    def step(change: Change) -> Callable[[], None]:
        def apply() -> None:
            if change.old is not None:
                remove_dist(site, change.old)
            cand = change.candidate
            write_dist(site, cand.name, cand.version, installer, cand.requires, cand.extras,
                       editable_dir=cand.editable_dir, kernel_source=kernel_source)

        return apply

    return [step(change) for change in changes]


def scripts_of(changes: Sequence[Change]) -> List[str]:
    """The console scripts the changes install (only the fake uv has one: bin/uv)."""
    return ["uv" for c in changes if c.candidate.key == "uv" and c.candidate.editable_dir is None]
