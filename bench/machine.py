"""The machine the benchmarks run on, the same for every contender.

- the interpreter: the base interpreter of the venv running the bench (Python 3.11 here), reached
  through a bin dir of links (`python3`, `python3.X`) that comes first on PATH, so no pyenv shim sits
  between a shebang and the interpreter; and, for the figures through a shim, a dir of pyenv-style shims
  (`python3`, `python3.X`: bash scripts that exec the real interpreter) that `env(shim=True)` puts first;
- an environment built from scratch: that PATH, a HOME of the run (pip's and uv's caches are shared by
  all contenders), no PYTHONDONTWRITEBYTECODE (bytecode is cached as on a user's machine; the kernel
  import figure measures both), NO_COLOR;
- offline installs: one wheelhouse (setuptools, wheel, uv) downloaded once into bench/cache/, and
  PIP_NO_INDEX/PIP_FIND_LINKS, UV_OFFLINE/UV_FIND_LINKS for everyone, so the network never dominates;
- the reference kernel: protoprimer 0.13.0's sdist, downloaded once, its `main/protoprimer/primer_kernel.py`;
- uv for the plain `uv venv` contender, in a tool venv of its own (the kernel keeps its own copy in the
  sample repo's cache dir);
- a clean interpreter (a venv without pip or any .pth file) for the kernel import figure.

The package index is used only when something is missing from bench/cache/ (gitignored).
"""

import glob
import os
import shutil
import subprocess
import sys
import tarfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
CACHE_DIR = os.path.join(BENCH_DIR, "cache")
SOURCE_KERNEL = os.path.join(REPO_ROOT, "protoprimer", "primer_kernel.py")

REFERENCE_VERSION = "0.13.0"
REFERENCE_KERNEL_IN_SDIST = "main/protoprimer/primer_kernel.py"
WHEELHOUSE_PACKAGES = ("setuptools", "wheel", "uv")


# A pyenv-style shim: what `python3` on PATH is for many users (pyenv's are bash scripts that run `pyenv exec`,
# more work still). It costs a bash start before every interpreter started through PATH.
SHIM = """#!/usr/bin/env bash
# pyenv-style shim (bench): a shell script between the command and the interpreter
exec "%s" "$@"
"""


class SetupError(Exception):
    pass


def _check(argv, what, **kwargs):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, **kwargs)
    if result.returncode != 0:
        raise SetupError("%s failed (exit %d): %s\n%s%s" % (what, result.returncode, " ".join(argv), result.stdout[-2000:], result.stderr[-2000:]))
    return result


def base_interpreter():
    """The real file of the interpreter behind the running one (the bench runs in the repo's venv)."""
    candidate = os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2])
    if not os.path.isfile(candidate):
        candidate = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(candidate)


def ensure_wheelhouse(log):
    """setuptools, wheel (the sample's build backend) and uv, as wheels in bench/cache/wheelhouse."""
    wheelhouse = os.path.join(CACHE_DIR, "wheelhouse")
    os.makedirs(wheelhouse, exist_ok=True)
    missing = [name for name in WHEELHOUSE_PACKAGES if not glob.glob(os.path.join(wheelhouse, "%s-*.whl" % name))]
    if missing:
        log("downloading %s into %s (once)" % (", ".join(missing), wheelhouse))
        _check([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", wheelhouse] + missing,
               "pip download " + " ".join(missing))
    return wheelhouse


def ensure_reference_kernel(log):
    """The reference tool's kernel file, extracted from its sdist (downloaded once)."""
    kernel = os.path.join(CACHE_DIR, "reference", REFERENCE_VERSION, "primer_kernel.py")
    if os.path.isfile(kernel):
        return kernel
    dl = os.path.join(CACHE_DIR, "dl")
    sdist = os.path.join(dl, "protoprimer-%s.tar.gz" % REFERENCE_VERSION)
    if not os.path.isfile(sdist):
        log("downloading the protoprimer %s sdist into %s (once)" % (REFERENCE_VERSION, dl))
        _check([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                "--dest", dl, "protoprimer==%s" % REFERENCE_VERSION], "pip download protoprimer==%s" % REFERENCE_VERSION)
    with tarfile.open(sdist) as archive:
        member = [m for m in archive.getmembers() if m.name.endswith("/" + REFERENCE_KERNEL_IN_SDIST)]
        if len(member) != 1:
            raise SetupError("%s has no %s" % (sdist, REFERENCE_KERNEL_IN_SDIST))
        text = archive.extractfile(member[0]).read().decode("utf-8")
    if '__version__ = "%s"' % REFERENCE_VERSION not in text:
        raise SetupError("the kernel in %s is not version %s" % (sdist, REFERENCE_VERSION))
    os.makedirs(os.path.dirname(kernel), exist_ok=True)
    with open(kernel, "w", encoding="utf-8") as f:
        f.write(text)
    return kernel


class Machine(object):
    def __init__(self, work, log):
        self.work = work
        self.log = log
        self.python = base_interpreter()
        self.version = tuple(sys.version_info[:3])
        self.short = "%d.%d" % self.version[:2]
        self.home = os.path.join(work, "home")
        self.bin_dir = os.path.join(work, "bin")
        for path in (self.home, self.bin_dir):
            os.makedirs(path, exist_ok=True)
        self.shim_dir = os.path.join(work, "shims")
        os.makedirs(self.shim_dir, exist_ok=True)
        for name in ("python3", "python" + self.short):
            os.symlink(self.python, os.path.join(self.bin_dir, name))
            with open(os.path.join(self.shim_dir, name), "w", encoding="utf-8") as f:
                f.write(SHIM % self.python)
            os.chmod(os.path.join(self.shim_dir, name), 0o755)
        self.wheelhouse = ensure_wheelhouse(log)
        self.reference_kernel = ensure_reference_kernel(log)
        self.uv = self._ensure_uv_tool()
        self.clean_python = self._clean_interpreter()
        self.strace = self._strace()

    def env(self, shim=False, **extra):
        env = {
            "PATH": os.pathsep.join([self.shim_dir if shim else self.bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": self.wheelhouse,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "UV_OFFLINE": "1",
            "UV_FIND_LINKS": self.wheelhouse,
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
        }
        env.update(extra)
        return dict((k, v) for k, v in env.items() if v is not None)

    def _ensure_uv_tool(self):
        """uv in a tool venv of its own for the plain `uv venv` contender (kept in bench/cache/tools)."""
        tool = os.path.join(CACHE_DIR, "tools", "uv.venv")
        uv = os.path.join(tool, "bin", "uv")
        if os.path.isfile(uv) and subprocess.run([uv, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return uv
        shutil.rmtree(tool, ignore_errors=True)
        self.log("installing uv into %s (once)" % tool)
        _check([self.python, "-m", "venv", tool], "python -m venv (uv tool venv)", env=self.env())
        _check([os.path.join(tool, "bin", "python"), "-m", "pip", "install", "--quiet", "uv"], "pip install uv", env=self.env())
        return uv

    def _clean_interpreter(self):
        """A venv without pip: an interpreter start with nothing in site-packages (no .pth files)."""
        venv = os.path.join(self.work, "tools", "clean.venv")
        _check([self.python, "-m", "venv", "--without-pip", venv], "python -m venv --without-pip", env=self.env())
        return os.path.join(venv, "bin", "python")

    def _strace(self):
        strace = shutil.which("strace")
        if strace is None:
            return None
        probe = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", os.devnull, "true"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return strace if probe.returncode == 0 else None

    def tool_versions(self):
        versions = {"python": "%d.%d.%d (%s)" % (self.version + (self.python,))}
        uv = subprocess.run([self.uv, "--version"], stdout=subprocess.PIPE, universal_newlines=True)
        versions["uv"] = uv.stdout.strip()
        bundled = glob.glob(os.path.join(os.path.dirname(os.path.dirname(self.python)), "lib", "python" + self.short, "ensurepip", "_bundled", "pip-*.whl"))
        versions["pip"] = "pip %s (ensurepip's)" % os.path.basename(bundled[0]).split("-")[1] if bundled else "pip (version unknown)"
        versions["wheelhouse"] = ", ".join(sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.wheelhouse, "*.whl"))))
        return versions
