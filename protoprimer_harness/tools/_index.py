"""The package index of a world and the resolver the fake pip and uv share.

The index is world data: releases (name, version, dependencies, extras) added with `World.add_package`,
plus a default index (unless `World.default_index = False`) holding `protoprimer` at the kernel's
`__version__` and `uv` at `DEFAULT_UV_VERSION`.

The resolver is deliberately simple and deterministic: it repeats "pick a version for every wanted name"
until the picks stop changing. For each name it intersects the specifiers of every requirement naming it
with the constraint (`--constraint` file) for it, keeps an installed version that satisfies them (pip's
default "only-if-needed" strategy; `--upgrade` picks the newest instead), else picks the newest release
that satisfies them. Editable projects always win for their name. Pre-releases are only picked when no
final release satisfies a specifier (packaging's `SpecifierSet.filter`), so the default index's
`protoprimer 0.x.dev0` installs without `--pre`. It does not backtrack: a conflict is reported, never
worked around. Markers are evaluated for the simulated interpreter's version on Linux/CPython.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ._dists import InstalledDist, canonical_name

DEFAULT_UV_VERSION = "0.5.11"
MAX_ROUNDS = 50


def _packaging():
    try:
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - the harness extra installs it
        raise ImportError("the harness's fake pip/uv need `packaging`: pip install 'protoprimer[harness]'")
    return Requirement, InvalidRequirement, SpecifierSet, Version, InvalidVersion


def parse_requirement(text: str):
    Requirement, InvalidRequirement, _, _, _ = _packaging()
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise ValueError("invalid requirement %r: %s" % (text, error)) from None


def check_release(spec: Any) -> None:
    """Raise ValueError naming what is wrong with a `PackageSpec` (bad version or requirement)."""
    _, _, _, Version, InvalidVersion = _packaging()
    try:
        Version(spec.version)
    except InvalidVersion:
        raise ValueError("package %s: invalid version %r (PEP 440, e.g. 1.2.3)" % (spec.name, spec.version))
    for req in list(spec.dependencies) + [r for _, reqs in spec.extras for r in reqs]:
        try:
            parse_requirement(req)
        except ValueError as error:
            raise ValueError("package %s %s: %s" % (spec.name, spec.version, error)) from None


@dataclass(frozen=True)
class Release:
    name: str
    version: str
    dependencies: Tuple[str, ...] = ()
    extras: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    @property
    def parsed_version(self):
        return _packaging()[3](self.version)


class PackageIndex:
    """Releases by canonical name, oldest first."""

    def __init__(self, releases: Iterable[Release] = ()):
        self._releases: Dict[str, Dict[str, Release]] = {}
        for release in releases:
            self.add(release)

    def add(self, release: Release) -> None:
        self._releases.setdefault(release.key, {})[release.version] = release

    def releases(self, name: str) -> List[Release]:
        found = list(self._releases.get(canonical_name(name), {}).values())
        return sorted(found, key=lambda r: r.parsed_version)

    def names(self) -> List[str]:
        return sorted(self._releases)

    @classmethod
    def from_world(cls, world: Any, kernel_version: str, seeded: Iterable[Tuple[str, str]] = ()) -> "PackageIndex":
        """The default index (unless the world has none), then the `seeded` (name, version) releases (from
        the world's constraints files: no dependencies), then the world's own releases: a release of the
        same name and version as one before it replaces it."""
        index = cls()
        if getattr(world, "default_index", True):
            index.add(Release("protoprimer", kernel_version))
            index.add(Release("uv", DEFAULT_UV_VERSION))
        for name, version in seeded:
            index.add(Release(name, version))
        for spec in getattr(world, "packages", ()):
            index.add(Release(spec.name, spec.version, tuple(spec.dependencies), tuple(spec.extras)))
        return index


# region: resolving


@dataclass
class Project:
    """A local project installed editable: what the fake pip reads from DIR/pyproject.toml."""

    dir: str
    name: str
    version: str
    dependencies: Tuple[str, ...] = ()
    optional: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    requires_python: Optional[str] = None

    @property
    def key(self) -> str:
        return canonical_name(self.name)


@dataclass
class Candidate:
    """The version picked for one name: from the index, an editable project, or kept as installed."""

    name: str
    version: str
    requires: Tuple[str, ...]
    extras: Tuple[Tuple[str, Tuple[str, ...]], ...]
    source: str  # "index" | "editable" | "installed"
    editable_dir: Optional[str] = None
    installed: Optional[InstalledDist] = None
    parents: Tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    def same_pick(self, other: "Candidate") -> bool:
        return (self.version, self.source, self.editable_dir) == (other.version, other.source, other.editable_dir)


class ResolutionError(Exception):
    """No version satisfies a requirement. `kind` is "missing" (nothing in the index satisfies the
    requirement itself), "conflict" (the requirements and constraints together rule out every version),
    "python" (an editable project requires another Python) or "unsupported"."""

    def __init__(self, kind: str, requirement: str, versions: Sequence[str] = (), parent: Optional[str] = None,
                 constraint: Optional[str] = None, detail: str = ""):
        super().__init__("%s: %s" % (kind, requirement))
        self.kind = kind
        self.requirement = requirement
        self.versions = list(versions)
        self.parent = parent
        self.constraint = constraint
        self.detail = detail


def marker_environment(python_version: str) -> Dict[str, str]:
    parts = (python_version.split(".") + ["0", "0"])[:3]
    return {
        "python_version": "%s.%s" % (parts[0], parts[1]),
        "python_full_version": ".".join(parts),
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": ".".join(parts),
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
    }


@dataclass
class _Wanted:
    requirements: List[Any] = field(default_factory=list)
    parents: List[Optional[str]] = field(default_factory=list)
    extras: Set[str] = field(default_factory=set)


def _evaluates(req, env: Dict[str, str], extra: str) -> bool:
    if req.marker is None:
        return True
    values = dict(env)
    values["extra"] = extra
    return bool(req.marker.evaluate(values))


def resolve(
    roots: Sequence[Any],
    editables: Dict[str, Project],
    constraints: Dict[str, List[Any]],
    index: PackageIndex,
    installed: Dict[str, InstalledDist],
    python_version: str,
    upgrade: bool = False,
) -> Dict[str, Candidate]:
    """canonical name -> Candidate for everything `roots` (parsed requirements) need. Raises ResolutionError."""
    _, _, SpecifierSet, Version, _ = _packaging()
    env = marker_environment(python_version)
    for project in editables.values():
        if project.requires_python and not SpecifierSet(project.requires_python).contains(
                Version(env["python_full_version"]), prereleases=True):
            raise ResolutionError("python", project.name, detail="%s not in %r" % (env["python_full_version"],
                                                                                  project.requires_python))
    chosen: Dict[str, Candidate] = {}
    for _ in range(MAX_ROUNDS):
        wanted: Dict[str, _Wanted] = {}

        def want(req, parent: Optional[str], extra: str = "") -> None:
            if not _evaluates(req, env, extra):
                return
            if req.url:
                raise ResolutionError("unsupported", str(req), detail="direct URL requirements are not simulated")
            entry = wanted.setdefault(canonical_name(req.name), _Wanted())
            entry.requirements.append(req)
            entry.parents.append(parent)
            entry.extras.update(req.extras)

        for req in roots:
            want(req, None)
        for _ in range(2):  # a second pass picks up extras requested by the first
            for key, cand in chosen.items():
                requested = sorted(wanted.get(key, _Wanted()).extras)
                seen = set()
                for text in cand.requires:
                    req = parse_requirement(text)
                    for extra in [""] + requested:
                        if text not in seen and _evaluates(req, env, extra):
                            seen.add(text)
                            want(req, cand.name, extra)
                for extra, reqs in cand.extras:
                    if extra in requested:
                        for text in reqs:
                            if text not in seen:
                                seen.add(text)
                                want(parse_requirement(text), cand.name)
            if not chosen:
                break
        picks: Dict[str, Candidate] = {}
        for key in sorted(wanted):
            picks[key] = _pick(key, wanted[key], editables, constraints, index, installed, upgrade,
                               SpecifierSet, Version)
        if set(picks) == set(chosen) and all(picks[k].same_pick(chosen[k]) for k in picks):
            return picks
        chosen = picks
    raise ResolutionError("conflict", ", ".join(sorted(chosen)), detail="the resolution did not settle")


def _pick(key, wanted: _Wanted, editables, constraints, index, installed, upgrade, SpecifierSet, Version):
    spec = SpecifierSet()
    for req in wanted.requirements:
        spec &= req.specifier
    constraint_spec = SpecifierSet()
    constraint_reqs = constraints.get(key, [])
    for req in constraint_reqs:
        constraint_spec &= req.specifier
    parents = tuple(sorted({p for p in wanted.parents if p}))
    first = wanted.requirements[0]
    shown = first.name + (str(spec) if str(spec) else "")
    parent = wanted.parents[0]
    constraint_text = ", ".join(str(r) for r in constraint_reqs) or None
    if key in editables:
        project = editables[key]
        version = Version(project.version)
        if not spec.contains(version, prereleases=True) or not constraint_spec.contains(version, prereleases=True):
            raise ResolutionError("conflict", shown, [project.version], parent, constraint_text,
                                  detail="the editable project %s is version %s" % (project.dir, project.version))
        return Candidate(project.name, project.version, project.dependencies, tuple(sorted(project.optional.items())),
                         "editable", editable_dir=project.dir, parents=parents)
    current = installed.get(key)
    if current is not None and not upgrade:
        version = Version(current.version)
        if spec.contains(version, prereleases=True) and constraint_spec.contains(version, prereleases=True):
            return Candidate(current.name, current.version, tuple(current.requires), (), "installed",
                             editable_dir=current.editable_dir, installed=current, parents=parents)
    releases = index.releases(key)
    by_version = {r.parsed_version: r for r in releases}
    matching = list(spec.filter(list(by_version)))
    both = list((spec & constraint_spec).filter(list(by_version)))
    if not both:
        versions = [r.version for r in releases]
        if matching:
            raise ResolutionError("conflict", shown, versions, parent, constraint_text)
        raise ResolutionError("missing", shown, versions, parent, constraint_text)
    release = by_version[max(both)]
    return Candidate(release.name, release.version, release.dependencies, release.extras, "index",
                     installed=current, parents=parents)


def install_order(picks: Dict[str, Candidate]) -> List[Candidate]:
    """Dependencies before dependents (ties by name), as pip installs them."""
    order: List[Candidate] = []
    done: Set[str] = set()

    def visit(key: str, stack: Tuple[str, ...]) -> None:
        if key in done or key in stack or key not in picks:
            return
        cand = picks[key]
        deps = []
        for text in list(cand.requires) + [r for _, reqs in cand.extras for r in reqs]:
            try:
                deps.append(canonical_name(parse_requirement(text).name))
            except ValueError:
                continue
        for dep in sorted(set(deps)):
            visit(dep, stack + (key,))
        done.add(key)
        order.append(cand)

    for key in sorted(picks):
        visit(key, ())
    return order


# endregion: resolving
