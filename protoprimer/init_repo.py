"""`protoprimer init`: seed a repo in one command so that `./prime` works right after it (docs/meta-tools.md).

What it writes, for the layout chosen (docs/config.md, "Layouts"):

- the kernel copy (instant, min: `proto_kernel.py`; max: `cmd/proto_code/proto_kernel.py`), the installed
  `protoprimer.primer_kernel` in its generated-copy form (what the copy's self-refresh writes), 0755;
- `prime`: the boot_env entry script of that copy, as `wrap boot_env -s prime` writes it (on POSIX, with its
  shell front: a warm `./prime` with nothing to do starts no interpreter), 0755;
- the config files of the layout (instant: none; min: `proto_kernel.json`; max: primer, gconf, default env);
- `.python-version`, `pyproject.toml` (only when the repo has no project yet), `.gitignore` entries;
- with a new project, its package with an example function and `cmd/app`, a start_app script running it.

Every file is checked before any is written: one that exists with other content stops the run (exit 8,
nothing written) unless --force; one with the same content is left alone, so a second init does nothing.
"""

import json
import os
import re
import sys

from protoprimer import primer_kernel as kernel

ENTRY_SCRIPT = "prime"
KERNEL_COPY = {"instant": "proto_kernel.py", "min": "proto_kernel.py", "max": "cmd/proto_code/proto_kernel.py"}
CONF_BASENAME = "proto_kernel.json"  # found by the copy's stem (docs/config.md, "The basename")
MAX_GLOBAL_CONF_DIR = "gconf"
MAX_DEFAULT_ENV = "dst/default_env"
MIN_PYTHON = (3, 7)
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")  # any of them: the repo has a project already
# (entry, equivalent lines already doing its work); `/lconf/` would not do: git sees the link as a file
GITIGNORE_ENTRIES = (
    ("/lconf", ("/lconf", "lconf")),
    ("__pycache__/", ("__pycache__/", "__pycache__", "**/__pycache__/", "**/__pycache__")),
    ("*.egg-info/", ("*.egg-info/", "*.egg-info", "**/*.egg-info/", "**/*.egg-info")),
)

APP_SCRIPT = "cmd/app"
APP_TEMPLATE = """\
\"\"\"An example written by `protoprimer init`: `cmd/app` (a start_app script) runs main() in the venv.\"\"\"
import sys


def main():
    print("hello from %s (Python %d.%d)" % (sys.prefix, sys.version_info[0], sys.version_info[1]))
    return 0
"""

PYPROJECT_TEMPLATE = """\
# Written by `protoprimer init`: a minimal project, so that ./prime has something to install (editable).
# Put your code in the package `{package}` (a directory {package}/ with an __init__.py): it is found and
# installed as it is; list your dependencies below. Replace this file as you see fit.
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">={python}"
dependencies = []

[tool.setuptools.packages.find]
include = ["{package}", "{package}.*"]
namespaces = false
"""


def json_text(data):
    """Config files as the harness's layouts write them: 4-space indent, a final newline."""
    return json.dumps(data, indent=4) + "\n"


class Item(object):
    """One file init takes care of: where (relative to the repo), its text, whether it is executable, a
    few words on what it is; `kept` decides, given the existing text, whether that text is kept as it is
    (the reason) instead of being a conflict."""

    def __init__(self, rel, text, what, executable=False, kept=None):
        self.rel = rel
        self.text = text
        self.what = what
        self.executable = executable
        self.kept = kept
        self.action = None  # "write", "overwrite", "chmod", "up to date", "kept", "append"
        self.note = what


def parse_python_arg(text):
    """--python X.Y (or X.Y.Z): digits only, 3.7 or newer."""
    if not re.match(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$", text or ""):
        raise kernel.UsageError("--python %s: expected a version X.Y of digits, for example 3.11" % text)
    version = tuple(int(part) for part in text.split("."))
    if version[0] != 3 or version[:2] < MIN_PYTHON:
        raise kernel.UsageError("--python %s: protoprimer needs Python %d.%d or newer (3.x)" % ((text,) + MIN_PYTHON))
    return ".".join(str(part) for part in version)


def project_names(directory):
    """(distribution name, package name) for a minimal project named after the repo's directory."""
    base = os.path.basename(os.path.normpath(directory))
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-._")
    if not name or not name[0].isalpha():
        name = "app" if not name else "app-" + name
    package = re.sub(r"[^A-Za-z0-9_]+", "_", name).lower()
    return name, package


def _read(path):
    """The text of an existing file (links followed), or None when the bytes are not UTF-8 text."""
    try:
        with open(path, "r", encoding="utf-8", newline="") as f:
            return f.read()
    except UnicodeDecodeError:
        return None
    except OSError as e:
        raise kernel.PrimerError("cannot read %s: %s" % (path, e.strerror or e), kernel.ExitCode.file_error)


def _version_line(text):
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return None


def _keep_readable_python_version(text):
    """An existing .python-version is the repo's choice when no --python is given, if the kernel reads it."""
    line = _version_line(text)
    if line is not None and kernel.parse_required_version(line) is not None:
        return "the repo's own (Python %s); pass --python X.Y to change it" % line
    return None


def _keep_entry_script_of(kernel_rel):
    """An existing `prime` that is a boot_env entry script of the same copy (any main, plain or --fast, as
    `wrap` writes them) is kept: it does what init's would, and more."""

    def kept(text):
        lines = (text or "").splitlines()
        if 'PROTO_KERNEL_REL_PATH = "%s"' % kernel_rel in lines and any(
            line.strip().startswith("import_proto_kernel().boot_env(") for line in lines
        ):
            return "a boot_env entry script of %s already (regenerate it with wrap)" % kernel_rel
        return None

    return kept


def entry_script_text(kernel_rel, script_rel="prime", entry_func="boot_env", main_func=None):
    """`script_rel` as `wrap ENTRY_FUNC -s SCRIPT_REL` writes it: with its POSIX-shell front (the fast path)
    on POSIX, the Python form on Windows; the copy and the venv (`venv` at the root in every layout) are
    named relative to the script's directory."""
    here = os.path.dirname(script_rel) or "."
    to_kernel = os.path.relpath(kernel_rel, here)
    if os.name == "nt":
        return kernel.render_entry_script(entry_func, to_kernel, main_func)
    venv = os.path.relpath(kernel.DEFAULT_DIRS["local_venv_dir_rel_path"], here)
    return kernel.render_fast_entry_script(entry_func, to_kernel, main_func, "$here/" + venv)


def plan(args):
    """The items for args (directory, layout, python), with nothing read yet."""
    root = os.path.abspath(args.directory)
    layout = args.layout
    kernel_rel = KERNEL_COPY[layout]
    source_file = kernel.__file__
    try:
        with open(source_file, "r", encoding="utf-8") as f:
            source = f.read()
    except OSError as e:
        raise kernel.PrimerError("cannot read the installed kernel %s: %s" % (source_file, e.strerror or e),
                                 kernel.ExitCode.file_error)
    items = [
        Item(kernel_rel, kernel.generated_copy_text(source), "the kernel copy, protoprimer %s" % kernel.__version__,
             executable=True),
    ]
    conf_dir = os.path.dirname(kernel_rel)
    if layout == "min":
        items.append(Item(CONF_BASENAME, "{}\n", "config: primer and local file in one, no env"))
    elif layout == "max":
        items.append(Item(
            os.path.join(conf_dir, CONF_BASENAME),
            json_text({"ref_root_dir_rel_path": os.path.relpath(".", conf_dir),
                       "global_conf_dir_rel_path": MAX_GLOBAL_CONF_DIR}),
            "config: the primer file (ref root, global config dir)",
        ))
        items.append(Item(
            os.path.join(MAX_GLOBAL_CONF_DIR, CONF_BASENAME),
            json_text({
                "local_conf_symlink_rel_path": kernel.DEFAULT_LOCAL_CONF_SYMLINK,
                "default_env_dir_rel_path": MAX_DEFAULT_ENV,
                "project_descriptors": [{"build_root_dir_rel_path": "."}],
            }),
            "config: the global file (the lconf link, the default env, the projects)",
        ))
        items.append(Item(os.path.join(MAX_DEFAULT_ENV, CONF_BASENAME), json_text({}),
                          "config: the default env (./prime links lconf to it)"))

    if args.python is not None:
        python = parse_python_arg(args.python)
        items.append(Item(kernel.PYTHON_VERSION_FILE, python + "\n", "Python %s" % python))
    else:
        python = "%d.%d" % sys.version_info[:2]
        items.append(Item(kernel.PYTHON_VERSION_FILE, python + "\n", "Python %s (the one running init)" % python,
                          kept=_keep_readable_python_version))

    name, package = project_names(root)
    text = PYPROJECT_TEMPLATE.format(name=name, package=package, python="%d.%d" % MIN_PYTHON)
    existing = [rel for rel in PROJECT_FILES if os.path.lexists(os.path.join(root, rel))]
    items.append(Item(existing[0] if existing else "pyproject.toml", text,
                      'a minimal project "%s": your code goes in %s/' % (name, package),
                      kept=lambda _text: "the repo's own project: init leaves it as it is"))
    if not existing:  # a new project: its package, with the function the start_app example runs
        items.append(Item(os.path.join(package, "__init__.py"), "", "the package of the project"))
        items.append(Item(os.path.join(package, "app.py"), APP_TEMPLATE, "an example function for cmd/app"))
        items.append(Item(APP_SCRIPT, entry_script_text(kernel_rel, APP_SCRIPT, "start_app", "%s.app:main" % package),
                          "a start_app script example: runs %s.app:main in the venv" % package, executable=True))
    items.append(Item(ENTRY_SCRIPT, entry_script_text(kernel_rel), "the boot_env entry script",
                      executable=True, kept=_keep_entry_script_of(kernel_rel)))
    return root, kernel_rel, python, items


def _obstacle(root, rel):
    """Why a file cannot be written at root/rel whatever --force says (a directory in the way), or None."""
    path = os.path.join(root, rel)
    if os.path.isdir(path):
        return "%s is a directory" % rel
    parent = os.path.dirname(path)
    while len(parent) >= len(root):
        if os.path.lexists(parent) and not os.path.isdir(parent):
            return "%s is not a directory" % os.path.relpath(parent, root)
        parent = os.path.dirname(parent)
    return None


def check(root, items, force):
    """Decide every item's action; conflicts and obstacles fail here, before anything is written."""
    conflicts, obstacles = [], []
    for item in items:
        path = os.path.join(root, item.rel)
        obstacle = _obstacle(root, item.rel)
        if obstacle:
            obstacles.append(obstacle)
            continue
        if not os.path.exists(path):
            item.action = "write"
            continue
        text = _read(path)
        executable_ok = not item.executable or os.stat(path).st_mode & 0o111 == 0o111
        reason = item.kept(text) if item.kept is not None else None
        if text == item.text or reason:
            item.action = "up to date" if executable_ok else "chmod"
            if reason and text != item.text:
                item.action, item.note = ("kept" if executable_ok else "chmod"), reason
        elif force:
            item.action = "overwrite"
        else:
            conflicts.append(item.rel)
    if obstacles:
        raise kernel.PrimerError("cannot write into %s: %s (nothing was written)" % (root, "; ".join(obstacles)),
                                 kernel.ExitCode.file_error)
    if conflicts:
        raise kernel.PrimerError(
            "%s: %s exist%s with other content: pass --force to overwrite %s (nothing was written)"
            % (root, ", ".join(conflicts), "s" if len(conflicts) == 1 else "", "it" if len(conflicts) == 1 else "them"),
            kernel.ExitCode.refused,
        )


def gitignore_item(root):
    """The .gitignore with init's entries appended (those missing only; the user's lines kept as they are)."""
    rel = ".gitignore"
    path = os.path.join(root, rel)
    obstacle = _obstacle(root, rel)
    if obstacle:
        raise kernel.PrimerError("cannot write into %s: %s (nothing was written)" % (root, obstacle),
                                 kernel.ExitCode.file_error)
    existing = _read(path) if os.path.exists(path) else ""
    if existing is None:
        raise kernel.PrimerError("%s is not UTF-8 text: add %s to it yourself" % (
            path, ", ".join(entry for entry, _ in GITIGNORE_ENTRIES)), kernel.ExitCode.file_error)
    present = set(line.strip() for line in existing.splitlines())
    missing = [entry for entry, equivalents in GITIGNORE_ENTRIES if not present.intersection(equivalents)]
    text = existing
    if missing:
        text += ("\n" if existing and not existing.endswith("\n") else "") + "".join(entry + "\n" for entry in missing)
    item = Item(rel, text, ", ".join(missing) if missing else "its entries are there")
    if not missing:
        item.action = "up to date"
    else:
        item.action = "append" if existing else "write"
    return item


def write(root, items):
    fs = kernel.RealFileSystem()
    for item in items:
        path = os.path.realpath(os.path.join(root, item.rel))  # into a link's target, as the copy's refresh does
        try:
            if item.action == "chmod":
                os.chmod(path, os.stat(path).st_mode & 0o7777 | 0o755)
            elif item.action in ("write", "overwrite", "append"):
                if item.executable:
                    mode = 0o755
                elif os.path.exists(path):
                    mode = os.stat(path).st_mode & 0o7777
                else:
                    mode = None
                fs.write_text(path, item.text, mode=mode)
        except OSError as e:
            done = [i.rel for i in items[:items.index(item)] if i.action not in ("up to date", "kept")]
            raise kernel.PrimerError("cannot write %s: %s (written before it: %s)" % (
                path, e.strerror or e, ", ".join(done) or "nothing"), kernel.ExitCode.file_error)


LABELS = {"write": "wrote", "overwrite": "overwrote", "append": "appended to", "chmod": "made executable",
          "up to date": "up to date", "kept": "kept"}


def summary(root, layout, kernel_rel, python, items):
    lines = ["protoprimer init: the %s layout in %s" % (layout, root)]
    width = max(len(item.rel) for item in items)
    for item in items:
        lines.append("  %-15s %-*s  %s" % (LABELS[item.action], width, item.rel, item.note))
    if all(item.action in ("up to date", "kept") for item in items):
        lines.append("nothing to do: the repo is set up")
    here = os.path.abspath(os.getcwd())
    go = "./prime" if here == root else "cd %s && ./prime" % kernel.shell_quote(root)
    lines.append("next: %s   (builds venv/ with Python %s and installs the project; then commit these files)"
                 % (go, python))
    if any(item.rel == APP_SCRIPT for item in items):
        lines.append("then: ./%s   (the start_app example: runs main() of the project's app.py in the venv)" % APP_SCRIPT)
    else:
        lines.append("a start_app script for your code: python3 %s wrap start_app -s %s -m MODULE:FUNC" % (kernel_rel, APP_SCRIPT))
    return "\n".join(lines) + "\n"


def run(args):
    root = os.path.abspath(args.directory)
    if os.path.lexists(root) and not os.path.isdir(root):
        raise kernel.UsageError("init %s: not a directory" % args.directory)
    root, kernel_rel, python, items = plan(args)
    check(root, items, args.force)
    items.insert(len(items) - 1, gitignore_item(root))  # before ./prime: the entry script is written last
    write(root, items)
    python = _version_line(_read(os.path.join(root, kernel.PYTHON_VERSION_FILE))) or python  # a kept one's
    sys.stdout.write(summary(root, args.layout, kernel_rel, python, items))
    return 0
