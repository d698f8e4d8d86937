"""Identical sample repos, one per contender.

Every twin holds the same sample project (a tiny pyproject.toml with the setuptools backend and no
dependencies, a package `sample` with `main()` and `app()`) and `.python-version`, and is a git repo of
its own (pip asks git about editable projects; the twins must not see the repo the bench lives in).
They differ only in what bootstraps them:

- ours-pip / ours-uv: this project's kernel copied as `proto_kernel.py`, `proto_kernel.json` naming the
  driver, and entry scripts written by the kernel's own `wrap`: in its default form on POSIX (the shell
  front and its fast path), `./prime` (boot_env of sample.main:main), `./boot` (boot_env without a main)
  and `./app` (start_app of sample.main:app); in the Python form (`wrap --plain`), `./prime-plain` and
  `./app-plain`;
- ref-pip: the 0.13.0 kernel copied as `proto_kernel.py`, the same `proto_kernel.json`, and its entry
  scripts in the reference style (written by the 0.13.0 kernel's own `wrap`: load proto_kernel.py by
  path, call boot_env/start_app). The driver is venv_pip: 0.13's default (uv) runs `uv python install`
  when it creates a venv, which downloads a managed CPython;
- plain-pip / plain-uv: nothing but the project; booted by `python3 -m venv venv` + `venv/bin/python -m
  pip install -e .`, or `uv venv --python <python3> venv` + `uv pip install --python venv/bin/python -e .`.
"""

import json
import os
import shutil
import subprocess

from timing import BenchError, run

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "sample"
version = "0.1"
requires-python = ">=3.7"
dependencies = []

[project.scripts]
# the venv's own console scripts: the baselines of ./prime (with its main) and of start_app
sample-main = "sample.main:main"
sample-app = "sample.main:app"

[tool.setuptools]
packages = ["sample"]
"""

SAMPLE_MAIN = '''\
"""The sample client: boot_env's main and start_app's app, both do nothing."""


def main():
    return 0


def app():
    return 0
'''

APP_CODE = "from sample.main import app; app()"
# What a cold boot leaves behind and a fresh clone does not have. The pins (constraints.txt) stay, as
# committed pins would; so does the cache dir (the uv tool venv: "uv already in its tool venv").
COLD_REMOVE = ("venv", "log", "tmp", "build", "sample.egg-info")


def write_sample(root):
    os.makedirs(os.path.join(root, "sample"))
    files = {
        "pyproject.toml": PYPROJECT,
        "sample/__init__.py": "",
        "sample/main.py": SAMPLE_MAIN,
        ".python-version": "3.11\n",
    }
    for rel, text in files.items():
        with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
            f.write(text)
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q", root], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Twin(object):
    """A sample repo and how its contender boots it."""

    def __init__(self, machine, name, kind, driver):
        self.machine = machine
        self.name = name
        self.kind = kind  # "ours", "reference", "plain"
        self.driver = driver  # "venv_pip", "venv_uv"
        self.root = os.path.join(machine.work, "repos", name)
        self.venv_python = os.path.join(self.root, "venv", "bin", "python")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def env(self, **extra):
        return self.machine.env(**extra)

    def run(self, argv, **kwargs):
        return run(argv, cwd=self.root, env=kwargs.pop("env", None) or self.env(), **kwargs)

    # --- the commands

    def prime(self, *args):
        return ["./prime"] + list(args)

    def app(self):
        return ["./app"]

    def shebang(self):
        """The interpreter line of the Python-form ./prime, as argv words (`/usr/bin/env python3`)."""
        with open(self.path("prime-plain" if self.kind == "ours" else "prime"), encoding="utf-8") as f:
            first = f.readline()
        return first[2:].split()

    def cold_commands(self):
        """The commands of one cold boot (run in order, timed together)."""
        m = self.machine
        if self.kind != "plain":
            return [self.prime()]
        if self.driver == "venv_pip":
            return [["python3", "-m", "venv", "venv"], [self.venv_python, "-m", "pip", "install", "-e", "."]]
        return [[m.uv, "venv", "--python", m.python, "venv"], [m.uv, "pip", "install", "--python", self.venv_python, "-e", "."]]

    def cold_boot(self):
        for argv in self.cold_commands():
            self.run(argv)

    def reset_cold(self):
        """Back to a fresh clone (with its pins): no venv, no logs, no build artefacts."""
        for rel in COLD_REMOVE:
            path = self.path(rel)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)


SCRIPTS = (("boot_env", "prime", "sample.main:main"), ("start_app", "app", "sample.main:app"))
# ours besides: the boot_env script without a main (its warm no-op starts no interpreter), the Python form
OUR_SCRIPTS = (("boot_env", "boot", None, ()), ("boot_env", "prime-plain", "sample.main:main", ("--plain",)),
               ("start_app", "app-plain", "sample.main:app", ("--plain",)))


def _wrap(twin, scripts):
    for entry_func, script, main, options in scripts:
        twin.run(["python3", "proto_kernel.py", "wrap", entry_func, "-s", script] + (["-m", main] if main else []) + list(options))
        if not os.path.isfile(twin.path(script)):
            raise BenchError("%s: wrap did not write %s" % (twin.name, script))


def make_kernel_twin(machine, name, kind, driver, kernel_file):
    twin = Twin(machine, name, kind, driver)
    write_sample(twin.root)
    shutil.copyfile(kernel_file, twin.path("proto_kernel.py"))
    os.chmod(twin.path("proto_kernel.py"), 0o755)
    with open(twin.path("proto_kernel.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"venv_driver": driver}, indent=4) + "\n")
    _wrap(twin, [(entry, script, main, ()) for entry, script, main in SCRIPTS] + (list(OUR_SCRIPTS) if kind == "ours" else []))
    return twin


def make_plain_twin(machine, name, driver):
    twin = Twin(machine, name, "plain", driver)
    write_sample(twin.root)
    return twin


def make_uv_sync_twin(machine):
    """The sample as a uv project, synced once (.venv and uv.lock): the baseline of `uv sync`'s no-op."""
    twin = Twin(machine, "uv-sync", "plain", "venv_uv")
    write_sample(twin.root)
    twin.run([machine.uv, "sync", "--python", machine.python])
    return twin


def make_twins(machine, source_kernel):
    return {
        "ours-pip": make_kernel_twin(machine, "ours-pip", "ours", "venv_pip", source_kernel),
        "ours-uv": make_kernel_twin(machine, "ours-uv", "ours", "venv_uv", source_kernel),
        "ref-pip": make_kernel_twin(machine, "ref-pip", "reference", "venv_pip", machine.reference_kernel),
        "plain-pip": make_plain_twin(machine, "plain-pip", "venv_pip"),
        "plain-uv": make_plain_twin(machine, "plain-uv", "venv_uv"),
        "uv-sync": make_uv_sync_twin(machine),
    }
