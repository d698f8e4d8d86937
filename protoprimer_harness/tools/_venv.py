"""`python -m venv DIR`, and the venv layout uv builds too.

What `python -m venv VENV` leaves (as CPython 3.11 on Linux, trimmed to what matters):
- VENV/pyvenv.cfg: home = the directory of the base interpreter's real file, include-system-site-packages,
  version, executable = its real path, command;
- VENV/bin/python: a symlink to the base interpreter (a copy with --copies), python3 and python3.Y
  symlinks to "python": a simulated interpreter of the base's version that runs as a venv because of
  pyvenv.cfg (see protoprimer_harness._fake_interpreters);
- VENV/bin/activate (a short script setting VIRTUAL_ENV and PATH);
- VENV/lib/pythonX.Y/site-packages/ with pip installed (pip dist-info, pip/__init__.py) and VENV/bin/pip,
  pip3, pip3.Y (unless --without-pip).
Run from a venv interpreter, the new venv's base is that venv's base. Not modelled: include/, lib64,
activate.csh/.fish, --system-site-packages' effect, --upgrade-deps (accepted, no effect), ensurepip missing.
"""

import os
import shutil
from typing import Callable, List, Optional, Tuple

from .._fake_fs import make_dirs, make_symlink, real_path, write_file
from .._fake_interpreters import identify_interpreter, parse_key_values, read_interpreter_facts
from .base import ToolCall, ToolRefusal, ToolResult, interpreter_refusal, runs_module
from .common import BadOption, OptionTable, parse_options, perform
from ._dists import dist_files

PIP_SCRIPT_MARKER = "harness-fake-pip-script"

ACTIVATE_TEXT = """# This file must be used with "source bin/activate" *from bash or zsh* (written by the harness's fake {tool})
deactivate () {{
    if [ -n "${{_OLD_VIRTUAL_PATH:-}}" ] ; then PATH="${{_OLD_VIRTUAL_PATH:-}}"; export PATH; unset _OLD_VIRTUAL_PATH; fi
    unset VIRTUAL_ENV
    unset -f deactivate
}}
VIRTUAL_ENV="{venv}"
export VIRTUAL_ENV
_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH
"""

VENV_OPTIONS = OptionTable(
    flags={
        "--clear": "clear",
        "--without-pip": "without_pip",
        "--copies": "copies",
        "--symlinks": "symlinks",
        "--upgrade-deps": "upgrade_deps",
        "--upgrade": "upgrade",
        "--system-site-packages": "system_site_packages",
    },
    values={"--prompt": "prompt"},
)


def pip_script_text(venv: str) -> str:
    return "#!%s/bin/python\n# %s\n" % (venv, PIP_SCRIPT_MARKER)


def base_interpreter(program: str) -> Tuple[str, str]:
    """(the path the new venv's bin/python links to, the base's real file) for the interpreter `program`:
    itself for a base interpreter, its venv's base for a venv interpreter."""
    interpreter = identify_interpreter(program)
    real = real_path(program)
    if interpreter is None or not interpreter.is_venv:
        return program, real
    cfg_path = os.path.join(interpreter.prefix, "pyvenv.cfg")
    try:
        with open(cfg_path, "r", encoding="utf-8") as f:
            cfg = parse_key_values(f.read())
    except OSError:
        cfg = {}
    home = cfg.get("home", "")
    major, minor, _ = interpreter.version_info
    candidates = [cfg.get("executable", "")]
    candidates += [os.path.join(home, name) for name in (os.path.basename(real), "python%d.%d" % (major, minor),
                                                         "python3", "python")] if home else []
    for candidate in candidates:
        if candidate and read_interpreter_facts(candidate) is not None and not os.path.isfile(
                os.path.join(os.path.dirname(os.path.dirname(candidate)), "pyvenv.cfg")):
            return candidate, real_path(candidate)
    return real, real


def venv_site_packages(venv: str, version: str) -> str:
    major, minor = version.split(".")[:2]
    return os.path.join(venv, "lib", "python%s.%s" % (major, minor), "site-packages")


def clear_dir(path: str) -> None:
    for name in os.listdir(path):
        child = os.path.join(path, name)
        if os.path.isdir(child) and not os.path.islink(child):
            shutil.rmtree(child)
        else:
            os.remove(child)


def _write(path: str, text: str, executable: bool = False) -> None:
    write_file(path, text, 0o755 if executable else 0o644)


def _link(target: str, path: str) -> None:
    make_symlink(target, path)


def venv_steps(venv: str, version: str, link_target: str, cfg_text: str, copies: bool, with_pip: bool,
               pip_version: str, tool: str) -> List[Callable[[], None]]:
    """The effects of creating a venv, in the order the real tools produce them."""
    major, minor = version.split(".")[:2]
    bin_dir = os.path.join(venv, "bin")
    site = venv_site_packages(venv, version)

    def layout() -> None:
        make_dirs(bin_dir)
        make_dirs(site)
        _write(os.path.join(venv, "pyvenv.cfg"), cfg_text)

    def interpreter() -> None:
        python = os.path.join(bin_dir, "python")
        if copies:
            if os.path.lexists(python):
                os.remove(python)
            shutil.copyfile(link_target, python)
            os.chmod(python, 0o755)
        else:
            _link(link_target, python)
        for name in ("python3", "python%s.%s" % (major, minor)):
            _link("python", os.path.join(bin_dir, name))

    def activate() -> None:
        _write(os.path.join(bin_dir, "activate"), ACTIVATE_TEXT.format(venv=venv, tool=tool))

    def pip() -> None:
        for rel, text in dist_files("pip", pip_version, installer="pip").items():
            _write(os.path.join(site, rel), text)
        for name in ("pip", "pip3", "pip%s.%s" % (major, minor)):
            _write(os.path.join(bin_dir, name), pip_script_text(venv), executable=True)

    steps = [layout, interpreter, activate]
    if with_pip:
        steps.append(pip)
    return steps


class VenvTool:
    """`<python> [flags] -m venv [options] DIR`: creates a venv based on that interpreter."""

    name = "python -m venv"
    usage = "<python> [-I ...] -m venv [--clear] [--without-pip] [--copies|--symlinks] [--upgrade-deps] DIR"

    def accepts(self, call: ToolCall) -> bool:
        return (call.interpreter is not None and call.python is not None and call.python.mode == "module"
                and call.python.target == "venv")

    def refusal(self, call: ToolCall) -> Optional[str]:
        return interpreter_refusal(call) if runs_module(call, "venv") else None

    def run(self, call: ToolCall) -> ToolResult:
        args = call.python.args
        try:
            options = parse_options(args, VENV_OPTIONS)
        except BadOption as bad:
            problem = ("argument %s: expected one argument" % bad.option if bad.missing
                       else "unrecognized arguments: %s" % bad.option)
            return ToolResult(2, "", "usage: venv [-h] [--system-site-packages] [--symlinks | --copies] [--clear] "
                                     "[--upgrade] [--without-pip] [--prompt PROMPT] [--upgrade-deps] "
                                     "ENV_DIR [ENV_DIR ...]\nvenv: error: %s\n" % problem)
        if len(options.positionals) != 1:
            if not options.positionals:
                return ToolResult(2, "", "usage: venv [-h] ... ENV_DIR [ENV_DIR ...]\nvenv: error: the following "
                                         "arguments are required: ENV_DIR\n")
            raise ToolRefusal("more than one ENV_DIR is not simulated (the fake `python -m venv` makes one venv "
                              "a call)")
        venv = os.path.normpath(os.path.join(call.cwd, options.positionals[0]))
        if os.path.lexists(venv) and not os.path.isdir(venv):
            return ToolResult(1, "", "Error: [Errno 17] File exists: '%s'\n" % venv)
        link_target, real = base_interpreter(call.program)
        version = call.interpreter.version
        cfg = (
            "home = %s\ninclude-system-site-packages = %s\nversion = %s\nexecutable = %s\ncommand = %s -m venv %s\n"
            % (os.path.dirname(real), "true" if options.flag("system_site_packages") else "false",
               "%d.%d.%d" % call.interpreter.version_info, real, real, venv)
        )
        session_state = call.session_state
        steps = venv_steps(venv, version, link_target, cfg, options.flag("copies"), not options.flag("without_pip"),
                           session_state.pip_version if session_state else "24.0", "venv")
        if options.flag("clear") and os.path.isdir(venv):
            steps.insert(0, lambda: clear_dir(venv))
        perform(call, steps, "python -m venv %s" % venv)
        return ToolResult(0, "", "")
