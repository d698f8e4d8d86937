"""The recipes of the committed tapes and the real client repos they are recorded in.

A recipe is plain data (it is stored in the tape's [recipe] table, so every tape says how it was made and
can be re-recorded alone: `pytest --protoprimer-tape-mode=rewrite <tape>`, the drift check):

- `layout`: "instant" (the kernel copy at the root, `.python-version`) or "max" (the copy in
  cmd/proto_code/ with its primer file, gconf/proto_kernel.json with the required version, `envs`);
- `files`: more files ({path relative to the repo: text}; they replace the layout's);
- `wraps`: the entry scripts written with the kernel's own `wrap --plain` before the run ([entry, script, main]);
  the Python form, whose first process (python3) is the one a tape records;
- `setup`: real commands run to completion before the recorded run (each must exit 0), e.g. ["./prime"]
  for a warm boot;
- `argv`, `entry`, `cwd`, `env` (added to the base environment), `python` (the name on PATH that starts
  the process: its sys.executable is `{tmp}/bin/<python>`), `isolated`.

Every recording is made in a new temporary directory `{tmp}`: `{tmp}/repo` (the client repo: the kernel
copy made with `generated_copy_text`, a project `client` with no dependencies, the layout's files),
`{tmp}/home` ($HOME), `{tmp}/bin` (PATH: python3 and python3.X linked to the recording interpreter, sh) and
`{tmp}/wheelhouse` (setuptools and wheel, so pip works offline: PIP_NO_INDEX=1).

The command line that records them is `protoprimer_harness._tape_cli` (`python -m protoprimer_harness.tape`).
"""

import copy
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from typing import Any, Dict, List, Optional, Tuple

from ._tape_errors import TapeError
from ._tape_format import Tape, load_tape, plain
from ._tape_host import TapeRun
from ._tape_record import default_python, interpreter_facts, record_tape

WHEELHOUSE_ENV_VAR = "PROTOPRIMER_TAPE_WHEELHOUSE"
SETUP_TIMEOUT = 300

CLIENT_PYPROJECT = textwrap.dedent(
    """\
    [build-system]
    requires = ["setuptools>=64"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "client"
    version = "0.1"
    requires-python = ">=3.7"
    dependencies = []

    [tool.setuptools]
    packages = ["client"]
    """
)

CLIENT_MAIN = textwrap.dedent(
    '''\
    """The client's code: a boot_env main and a start_app app."""


    def main():
        print("client main")
        return 0


    def app():
        print("client app")
        return 0
    '''
)

DEFAULT_WRAPS = [["boot_env", "prime", "client.main:main"], ["start_app", "cmd/app", "client.main:app"]]

RECIPE_DEFAULTS: Dict[str, Any] = {
    "layout": "instant",
    "files": {},
    "envs": {},
    "default_env": "",
    "wraps": DEFAULT_WRAPS,
    "setup": [],
    "cwd": ".",
    "env": {},
    "python": "python3",
    "isolated": False,
}

BUILTIN_RECIPES: Dict[str, Dict[str, Any]] = {
    "eval_default": {
        "title": "eval run from the kernel copy prints the five leaps, one JSON document each",
        "argv": ["./proto_kernel.py", "eval"],
        "entry": "main",
    },
    "eval_json": {
        "title": "eval --json through the entry script prints one JSON document and builds nothing",
        "argv": ["./prime", "eval", "--json"],
        "entry": ["boot_env", "client.main:main"],
    },
    "eval_max_envs": {
        "title": "eval --json --env dst/other in the max layout reads that env's file, not the default env's",
        "layout": "max",
        "envs": {"dst/default": {"local_venv_dir_rel_path": "venv.default"},
                 "dst/other": {"local_venv_dir_rel_path": "venv.other", "local_log_dir_rel_path": "log.other"}},
        "default_env": "dst/default",
        "argv": ["./prime", "eval", "--json", "--env", "dst/other"],
        "entry": ["boot_env", "client.main:main"],
    },
    "usage_error": {
        "title": "an unknown option is a usage error (exit 2) and touches nothing",
        "argv": ["./prime", "eval", "--no-such-option"],
        "entry": ["boot_env", "client.main:main"],
    },
    "malformed_config": {
        "title": "malformed JSON in the global config stops eval naming the file, line and column",
        "layout": "max",
        "files": {"gconf/proto_kernel.json": '{\n    "required_python_version": "3",\n    "venv_driver": venv_pip\n}\n'},
        "argv": ["./prime", "eval"],
        "entry": ["boot_env", "client.main:main"],
    },
    "cold_boot": {
        "title": "a cold boot's first process selects the python, makes the venv, installs, then replaces itself with the venv's python",
        "argv": ["./prime"],
        "entry": ["boot_env", "client.main:main"],
    },
    "warm_boot": {
        "title": "a warm boot's first process finds the venv good, runs no installer and replaces itself at once",
        "setup": [["./prime"]],
        "argv": ["./prime"],
        "entry": ["boot_env", "client.main:main"],
    },
    "start_app": {
        "title": "start_app's first process hops into the existing venv (one replacement, the app's own arguments kept)",
        "setup": [["./prime"]],
        "argv": ["cmd/app", "--verbose-app", "input.txt"],
        "entry": ["start_app", "client.main:app"],
    },
    "start_app_missing_venv": {
        "title": "start_app without a venv stops with the command that makes it, and builds nothing",
        "argv": ["cmd/app"],
        "entry": ["start_app", "client.main:app"],
    },
    "wrap": {
        "title": "wrap writes an entry script that loads the kernel copy (0755) and says so",
        "wraps": [],
        "argv": ["./proto_kernel.py", "wrap", "boot_env", "-s", "prime", "-m", "client.main:main"],
        "entry": "main",
    },
}


def builtin_recipe(name: str) -> Dict[str, Any]:
    """The complete recipe `name` (defaults filled in), as stored in its tape."""
    if name not in BUILTIN_RECIPES:
        raise TapeError("no built-in recipe %r (there are: %s)" % (name, ", ".join(sorted(BUILTIN_RECIPES))))
    return complete_recipe(name, BUILTIN_RECIPES[name])


def complete_recipe(name: str, recipe: Dict[str, Any]) -> Dict[str, Any]:
    full: Dict[str, Any] = {"name": name}
    full.update(copy.deepcopy(RECIPE_DEFAULTS))
    full.update(copy.deepcopy(recipe))
    unknown = sorted(set(full) - set(RECIPE_DEFAULTS) - {"name", "title", "argv", "entry"})
    missing = [key for key in ("title", "argv", "entry") if key not in full]
    if unknown or missing:
        raise TapeError("recipe %s: %s" % (name, "; ".join(
            (["unknown keys: %s" % ", ".join(unknown)] if unknown else []) +
            (["missing: %s" % ", ".join(missing)] if missing else []))))
    return plain(full)


# region: recording a recipe


def ensure_wheelhouse(directory: Optional[str] = None, python: Optional[str] = None) -> str:
    """A directory with setuptools and wheel wheels (what pip needs to build the client's editable
    install offline): `directory`, $PROTOPRIMER_TAPE_WHEELHOUSE, or a cache in the temp dir, downloaded
    with `pip download setuptools wheel` the first time."""
    directory = directory or os.environ.get(WHEELHOUSE_ENV_VAR) or os.path.join(
        tempfile.gettempdir(), "protoprimer-tape-wheelhouse")
    if _has_wheels(directory):
        return directory
    os.makedirs(directory, exist_ok=True)
    python = python or default_python()
    version = ".".join(str(part) for part in interpreter_facts(python)["version"][:2])
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--python-version", version, "--dest", directory, "setuptools", "wheel"],
        capture_output=True, text=True, timeout=SETUP_TIMEOUT,
    )
    if result.returncode != 0 or not _has_wheels(directory):
        raise TapeError("cannot make the wheelhouse %s (pip download setuptools wheel needs the package index "
                        "once; or give one with --wheelhouse / $%s):\n%s"
                        % (directory, WHEELHOUSE_ENV_VAR, result.stderr[-2000:]))
    return directory


def _has_wheels(directory: str) -> bool:
    return bool(glob.glob(os.path.join(directory, "setuptools-*.whl"))) and bool(
        glob.glob(os.path.join(directory, "wheel-*.whl")))


def base_env(tmp: str) -> Dict[str, str]:
    """The environment of every recorded process (plus the recipe's `env`)."""
    return {
        "PATH": os.path.join(tmp, "bin"),
        "HOME": os.path.join(tmp, "home"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": os.path.join(tmp, "wheelhouse"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def prepare_recording_tree(tmp: str, python: str, wheelhouse: Optional[str]) -> None:
    """{tmp}/bin (python3, python3.X, sh), {tmp}/home, {tmp}/wheelhouse (a copy of the wheels)."""
    facts = interpreter_facts(python)
    short = "python%d.%d" % tuple(facts["version"][:2])
    bin_dir = os.path.join(tmp, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    for name in ("python3", short):
        os.symlink(python, os.path.join(bin_dir, name))
    os.symlink(shutil.which("sh") or "/bin/sh", os.path.join(bin_dir, "sh"))
    os.makedirs(os.path.join(tmp, "home"), exist_ok=True)
    house = os.path.join(tmp, "wheelhouse")
    os.makedirs(house, exist_ok=True)
    if wheelhouse:
        for wheel in glob.glob(os.path.join(wheelhouse, "*.whl")):
            shutil.copy(wheel, house)


def write_repo(recipe: Dict[str, Any], repo: str, python: str, kernel: Any) -> str:
    """Write the recipe's client repo at `repo`; return the kernel copy's path relative to it."""
    facts = interpreter_facts(python)
    version = "%d.%d" % tuple(facts["version"][:2])
    files: Dict[str, str] = {"pyproject.toml": CLIENT_PYPROJECT, "client/__init__.py": "", "client/main.py": CLIENT_MAIN}
    if recipe["layout"] == "instant":
        kernel_rel = "proto_kernel.py"
        files[".python-version"] = version + "\n"
    elif recipe["layout"] == "max":
        kernel_rel = "cmd/proto_code/proto_kernel.py"
        files["cmd/proto_code/proto_kernel.json"] = json.dumps(
            {"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"}, indent=4) + "\n"
        conf = {"required_python_version": version, "local_conf_symlink_rel_path": "lconf"}
        if recipe["default_env"]:
            conf["default_env_dir_rel_path"] = recipe["default_env"]
        files["gconf/proto_kernel.json"] = json.dumps(conf, indent=4) + "\n"
        for env_dir, local in recipe["envs"].items():
            files[env_dir + "/proto_kernel.json"] = json.dumps(local, indent=4) + "\n"
    else:
        raise TapeError("recipe %s: layout %r is not instant or max" % (recipe["name"], recipe["layout"]))
    files.update(recipe["files"])
    with open(kernel.__file__, encoding="utf-8") as f:
        files[kernel_rel] = kernel.generated_copy_text(f.read())
    for rel, text in files.items():
        path = os.path.join(repo, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    os.chmod(os.path.join(repo, kernel_rel), 0o755)
    return kernel_rel


def _run_real(argv: List[str], repo: str, env: Dict[str, str], what: str) -> None:
    result = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=SETUP_TIMEOUT,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise TapeError("%s failed (exit %d): %s\n--- stdout\n%s--- stderr\n%s" % (
            what, result.returncode, " ".join(argv), result.stdout[-3000:], result.stderr[-3000:]))


def record_recipe(
    recipe: Dict[str, Any],
    path: Optional[str],
    wheelhouse: Optional[str] = None,
    python: Optional[str] = None,
    workdir: Optional[str] = None,
    keep: bool = False,
    kernel: Any = None,
) -> Tuple[Tape, TapeRun]:
    """Build the recipe's repo in a new temporary directory (under `workdir` if given), run its setup,
    record its run and write the tape to `path` (None: only return it). The directory is removed unless
    `keep`."""
    if kernel is None:
        from protoprimer import primer_kernel as kernel
    recipe = complete_recipe(recipe["name"], recipe)
    python = python or default_python()
    wheelhouse = ensure_wheelhouse(wheelhouse, python)
    tmp = tempfile.mkdtemp(prefix="tape-%s-" % recipe["name"], dir=workdir)
    try:
        prepare_recording_tree(tmp, python, wheelhouse)
        repo = os.path.join(tmp, "repo")
        kernel_rel = write_repo(recipe, repo, python, kernel)
        env = base_env(tmp)
        env.update(recipe["env"])
        for entry_func, script, main in recipe["wraps"]:
            # the Python form: a tape records the process python3 starts from it (a shell front starts none)
            _run_real([python, os.path.join(repo, kernel_rel), "wrap", "--plain", entry_func, "-s", script, "-m", main],
                      repo, env, "recipe %s: writing the entry script %s" % (recipe["name"], script))
        for argv in recipe["setup"]:
            _run_real(list(argv), repo, env, "recipe %s: the setup command" % recipe["name"])
        return record_tape(
            path, repo, recipe["argv"], env, entry=recipe["entry"], python=python,
            cwd=os.path.normpath(os.path.join(repo, recipe["cwd"])), kernel_rel=kernel_rel,
            executable=os.path.join(tmp, "bin", recipe["python"]), isolated=recipe["isolated"],
            title=recipe["title"], tmp=tmp, recipe=recipe, kernel=kernel,
        )
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def rerecord_tape(path: str, wheelhouse: Optional[str] = None, python: Optional[str] = None) -> Tuple[Tape, TapeRun]:
    """Re-record the tape at `path` from the recipe stored in it, replacing the file."""
    tape = load_tape(path)
    if tape.recipe is None:
        raise TapeError("%s has no [recipe]: it was recorded by hand with record_tape() and cannot be "
                        "re-recorded from the file alone" % path)
    return record_recipe(tape.recipe, path, wheelhouse=wheelhouse, python=python)


# endregion: recording a recipe
