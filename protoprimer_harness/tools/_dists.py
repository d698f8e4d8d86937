"""Installed distributions in a site-packages directory, as pip and uv leave them.

A distribution is a `NAME-VERSION.dist-info/` directory with `METADATA` (Name, Version, Requires-Dist),
`INSTALLER`, `RECORD` (every file it installed, relative to site-packages) and, for an editable install,
`direct_url.json` with `dir_info.editable = true`. Its payload is small marker files: `<name>/__init__.py`
with its version, except for the packages the kernel cares about:

- `protoprimer`: `protoprimer/__init__.py` and `protoprimer/primer_kernel.py` = the real kernel source
  (its `__version__` line set to the installed version), so the kernel can update its copy from it;
- `uv`: `VENV/bin/uv`, an executable fake uv (`protoprimer_harness.tools._uv`) of the installed version;
- `pip`: `pip/__init__.py` (the fake pip only runs for an interpreter whose site-packages has a pip dist).

An editable install writes `__editable__.NAME-VERSION.pth` naming the project directory instead of a payload.
"""

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .._fake_fs import read_file, write_file

UV_FILE_MARKER = "harness-fake-uv"
_SAFE = re.compile(r"[-_.]+")
_VERSION_LINE = re.compile(r'^__version__\s*=\s*["\']([^"\']*)["\']', re.MULTILINE)


def canonical_name(name: str) -> str:
    """PEP 503 normalised name: "Foo_Bar.baz" -> "foo-bar-baz"."""
    return _SAFE.sub("-", name).lower()


def safe_name(name: str) -> str:
    """The name as it appears in file names: runs of -_. become _."""
    return _SAFE.sub("_", name)


def dist_info_dir_name(name: str, version: str) -> str:
    return "%s-%s.dist-info" % (safe_name(name), version)


def uv_file_text(version: str) -> str:
    return "%s\nversion = %s\n" % (UV_FILE_MARKER, version)


def kernel_source_as_version(source: str, version: str) -> str:
    """The kernel source with its `__version__` line set to `version`."""
    match = _VERSION_LINE.search(source)
    if match is None or match.group(1) == version:
        return source
    return source[: match.start(1)] + version + source[match.end(1):]


def version_of_source(text: str) -> Optional[str]:
    match = _VERSION_LINE.search(text)
    return match.group(1) if match else None


PROTOPRIMER_INIT_TEXT = '''"""protoprimer (installed by the harness's fake pip)."""

__all__ = ["__version__"]


def __getattr__(name):
    if name == "__version__":
        from protoprimer.primer_kernel import __version__

        return __version__
    raise AttributeError("module 'protoprimer' has no attribute %r" % name)
'''


def metadata_text(name: str, version: str, requires: Sequence[str] = (),
                  extras: Sequence[Tuple[str, Sequence[str]]] = ()) -> str:
    lines = ["Metadata-Version: 2.1", "Name: %s" % name, "Version: %s" % version]
    lines += ["Requires-Dist: %s" % req for req in requires]
    for extra, reqs in extras:
        lines.append("Provides-Extra: %s" % extra)
        for req in reqs:
            base, sep, marker = req.partition(";")
            marker = marker.strip()
            condition = 'extra == "%s"' % extra if not marker else '(%s) and extra == "%s"' % (marker, extra)
            lines.append("Requires-Dist: %s; %s" % (base.strip(), condition))
    return "\n".join(lines) + "\n\n"


@dataclass
class Payload:
    """Files a distribution installs: `files` relative to site-packages (text), `scripts` relative to the
    venv's bin directory (executable text)."""

    files: Dict[str, str] = field(default_factory=dict)
    scripts: Dict[str, str] = field(default_factory=dict)


def payload_of(name: str, version: str, kernel_source: str = "") -> Payload:
    key = canonical_name(name)
    if key == "protoprimer":
        return Payload(files={
            "protoprimer/__init__.py": PROTOPRIMER_INIT_TEXT,
            "protoprimer/primer_kernel.py": kernel_source_as_version(kernel_source, version),
        })
    if key == "uv":
        return Payload(files={"uv/__init__.py": '__version__ = "%s"\n' % version},
                       scripts={"uv": uv_file_text(version)})
    return Payload(files={"%s/__init__.py" % safe_name(name).lower(): '__version__ = "%s"\n' % version})


def dist_files(name: str, version: str, installer: str, requires: Sequence[str] = (),
               extras: Sequence[Tuple[str, Sequence[str]]] = (), editable_dir: Optional[str] = None,
               payload: Optional[Payload] = None) -> Dict[str, str]:
    """Every non-script file of an installed distribution, relative to site-packages (RECORD included)."""
    info = dist_info_dir_name(name, version)
    files: Dict[str, str] = {}
    if editable_dir is not None:
        files["__editable__.%s-%s.pth" % (safe_name(name), version)] = editable_dir + "\n"
    else:
        files.update((payload or payload_of(name, version)).files)
    files[info + "/METADATA"] = metadata_text(name, version, requires, extras)
    files[info + "/INSTALLER"] = installer + "\n"
    if editable_dir is not None:
        files[info + "/direct_url.json"] = json.dumps(
            {"dir_info": {"editable": True}, "url": "file://" + editable_dir}, sort_keys=True) + "\n"
    scripts = (payload.scripts if payload and editable_dir is None else {})
    record = sorted(list(files) + ["../../../bin/%s" % script for script in scripts] + [info + "/RECORD"])
    files[info + "/RECORD"] = "".join("%s,,\n" % path for path in record)
    return files


@dataclass
class InstalledDist:
    """A distribution found in site-packages."""

    name: str
    version: str
    dist_info: str
    requires: List[str]
    editable_dir: Optional[str] = None
    installer: str = ""

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    @property
    def editable(self) -> bool:
        return self.editable_dir is not None


def _read(path: str) -> Optional[str]:
    try:
        return read_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def installed_dists(site_packages: str) -> Dict[str, InstalledDist]:
    """canonical name -> the distribution installed in `site_packages` (an empty dict when none)."""
    found: Dict[str, InstalledDist] = {}
    try:
        names = sorted(os.listdir(site_packages))
    except OSError:
        return found
    for entry in names:
        if not entry.endswith(".dist-info"):
            continue
        info = os.path.join(site_packages, entry)
        metadata = _read(os.path.join(info, "METADATA"))
        if metadata is None:
            continue
        fields: Dict[str, List[str]] = {}
        for line in metadata.split("\n\n", 1)[0].splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip(), []).append(value.strip())
        if "Name" not in fields or "Version" not in fields:
            continue
        editable_dir = None
        direct = _read(os.path.join(info, "direct_url.json"))
        if direct:
            try:
                data = json.loads(direct)
            except ValueError:
                data = {}
            if data.get("dir_info", {}).get("editable"):
                url = data.get("url", "")
                editable_dir = url[len("file://"):] if url.startswith("file://") else url
        dist = InstalledDist(
            name=fields["Name"][0],
            version=fields["Version"][0],
            dist_info=info,
            requires=fields.get("Requires-Dist", []),
            editable_dir=editable_dir,
            installer=(_read(os.path.join(info, "INSTALLER")) or "").strip(),
        )
        found[dist.key] = dist
    return found


def write_dist(site_packages: str, name: str, version: str, installer: str, requires: Sequence[str] = (),
               extras: Sequence[Tuple[str, Sequence[str]]] = (), editable_dir: Optional[str] = None,
               kernel_source: str = "") -> List[str]:
    """Install a distribution's files into `site_packages` (scripts into the venv's bin); the paths written."""
    payload = payload_of(name, version, kernel_source)
    files = dist_files(name, version, installer, requires, extras, editable_dir, payload)
    written = []
    for rel, text in files.items():
        path = os.path.join(site_packages, rel)
        write_file(path, text)
        written.append(path)
    if editable_dir is None:
        bin_dir = os.path.normpath(os.path.join(site_packages, "..", "..", "..", "bin"))
        for script, text in payload.scripts.items():
            path = os.path.join(bin_dir, script)
            write_file(path, text, 0o755)
            written.append(path)
    return written


def remove_dist(site_packages: str, dist: InstalledDist) -> None:
    """Uninstall: every file in RECORD, the package directories left empty, then the dist-info directory."""
    record = _read(os.path.join(dist.dist_info, "RECORD")) or ""
    dirs = set()
    for line in record.splitlines():
        rel = line.split(",", 1)[0]
        if not rel:
            continue
        path = os.path.normpath(os.path.join(site_packages, rel))
        if os.path.lexists(path) and not os.path.isdir(path):
            os.remove(path)
        parent = os.path.dirname(path)
        if parent.startswith(site_packages + os.sep):
            dirs.add(parent)
    for directory in sorted(dirs, key=len, reverse=True):
        if os.path.isdir(directory) and not os.listdir(directory) and directory != dist.dist_info:
            os.rmdir(directory)
    if os.path.isdir(dist.dist_info):
        shutil.rmtree(dist.dist_info)
