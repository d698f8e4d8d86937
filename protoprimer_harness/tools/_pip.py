"""`python -m pip install|freeze|--version` (and VENV/bin/pip, which runs the same) in a simulated venv.

pip runs only for an interpreter whose site-packages holds a pip distribution (every venv made by the fake
`python -m venv`, and venv interpreters added with `World.add_interpreter(..., venv=True)`); otherwise
"No module named pip", exit 1.

install: `[-q|-v]... [--disable-pip-version-check] [--no-input] [-c|--constraint FILE]... [-r FILE]...
[-U|--upgrade] [--force-reinstall] [--no-deps] [-e|--editable DIR[extras]]... [REQUIREMENT]...`; a few
options are accepted without effect (--no-cache-dir, --index-url, --no-build-isolation, ...); any other
option stops the run (a `ToolRefusal`: the miss report lists the simulated ones). Resolution:
`protoprimer_harness.tools._index`.
Output (stdout) is pip's, abbreviated: "Obtaining file://DIR" per editable, "Collecting X" /
"Requirement already satisfied: ...", "Installing collected packages: ...", uninstall lines, "Successfully
installed a-1.0 b-2.0"; nothing with -q. Errors go to stderr in pip's words, exit 1. A script installed
into a venv bin directory that is not on the command's PATH gets pip's warning.

freeze: "name==version" per distribution, sorted case-insensitively, without pip/setuptools/wheel/distribute
(--all keeps them); editables as "# Editable install with no version control (name==version)" + "-e DIR"
unless --exclude-editable; in a venv with `include-system-site-packages = true` the base interpreter's
distributions too, unless -l/--local.
"""

import os
import shlex
from typing import List, Optional

from .._fake_interpreters import identify_interpreter
from .base import ToolCall, ToolResult, interpreter_refusal, runs_module
from .common import BadOption, OptionTable, parse_options, perform, unsupported
from ._dists import installed_dists
from ._index import ResolutionError
from ._install import InstallFailure, change_steps, collect, install_inputs, plan_install, scripts_of
from ._venv import PIP_SCRIPT_MARKER

GLOBAL_COUNTS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
GLOBAL_FLAGS = {"--disable-pip-version-check": "no_version_check", "--no-input": "no_input",
                "--isolated": "isolated", "--no-color": "no_color", "--no-cache-dir": "no_cache"}
GLOBAL_VALUES = {"--cache-dir": "cache_dir", "--timeout": "timeout", "--retries": "retries",
                 "--progress-bar": "progress_bar", "--root-user-action": "root_user_action"}

INSTALL_OPTIONS = OptionTable(
    counts=dict(GLOBAL_COUNTS),
    flags=dict(GLOBAL_FLAGS, **{"-U": "upgrade", "--upgrade": "upgrade", "--force-reinstall": "force",
                                "--no-deps": "no_deps", "--no-build-isolation": "ignored",
                                "--prefer-binary": "ignored", "--no-warn-script-location": "no_warn_script",
                                "--pre": "pre"}),
    values=dict(GLOBAL_VALUES, **{"-c": "constraint", "--constraint": "constraint", "-r": "requirement",
                                  "--requirement": "requirement", "-e": "editable", "--editable": "editable",
                                  "-i": "index_url", "--index-url": "index_url",
                                  "--extra-index-url": "extra_index_url"}),
)
FREEZE_OPTIONS = OptionTable(
    counts=dict(GLOBAL_COUNTS),
    flags=dict(GLOBAL_FLAGS, **{"--exclude-editable": "exclude_editable", "--all": "all", "-l": "local",
                                "--local": "local"}),
    values=dict(GLOBAL_VALUES),
)
FREEZE_SKIP = ("pip", "setuptools", "wheel", "distribute")
SUBCOMMANDS = ("install", "freeze", "--version")


def pip_usage_error(option: str, missing: bool) -> ToolResult:
    if missing:
        return ToolResult(2, "", "\nUsage:   \n  python -m pip install [options] <requirement specifier> ...\n\n"
                                 "%s option requires 1 argument\n" % option)
    return ToolResult(2, "", "\nUsage:   \n  python -m pip <command> [options]\n\nno such option: %s\n" % option)


def resolution_error_text(error: ResolutionError, python_version: str) -> str:
    if error.kind == "python":
        return "ERROR: Package '%s' requires a different Python: %s\n" % (error.requirement, error.detail)
    if error.kind == "unsupported":
        return "ERROR: %s (%s)\n" % (error.requirement, error.detail)
    shown = error.requirement + (" (from %s)" % error.parent if error.parent else "")
    if error.kind == "conflict":
        lines = [
            "ERROR: Cannot install %s because these package versions have conflicting dependencies." % shown,
            "",
            "The conflict is caused by:",
            "    The user requested %s" % error.requirement,
        ]
        if error.constraint:
            lines.append("    The user requested (constraint) %s" % error.constraint)
        if error.detail:
            lines.append("    (%s)" % error.detail)
        lines += [
            "",
            "To fix this you could try to:",
            "1. loosen the range of package versions you've specified",
            "2. remove package versions to allow pip to attempt to solve the dependency conflict",
            "",
            "ERROR: ResolutionImpossible: for help visit "
            "https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts",
        ]
        return "\n".join(lines) + "\n"
    return (
        "ERROR: Could not find a version that satisfies the requirement %s (from versions: %s)\n"
        "ERROR: No matching distribution found for %s\n"
        % (shown, ", ".join(error.versions) or "none", error.requirement)
    )


def run_pip(call: ToolCall, interpreter, args: List[str]) -> ToolResult:
    """pip's answer for `args` (what follows `-m pip`), run by `interpreter` (a RunningInterpreter)."""
    site = interpreter.site_packages
    dists = installed_dists(site)
    if "pip" not in dists:
        return ToolResult(1, "", "%s: No module named pip\n" % interpreter.executable)
    words = [a for a in args if not a.startswith("-")]
    if "--version" in args and (not words or args.index("--version") < args.index(words[0])):
        return ToolResult(0, "pip %s from %s (python %d.%d)\n" % (
            dists["pip"].version, os.path.join(site, "pip"), interpreter.version_info[0],
            interpreter.version_info[1]), "")
    if not words:
        return ToolResult(0, "\nUsage:   \n  python -m pip <command> [options]\n", "")
    command = words[0]
    index = args.index(command)
    rest = args[:index] + args[index + 1:]
    if command == "install":
        return _install(call, interpreter, site, rest)
    if command == "freeze":
        return _freeze(call, interpreter, site, rest)
    raise unsupported("the sub-command %r" % command, "pip", SUBCOMMANDS, "sub-commands")


def _global_site(interpreter) -> Optional[str]:
    """The base interpreter's site-packages when the venv sees it (`include-system-site-packages = true`)."""
    if not interpreter.is_venv:
        return None
    try:
        with open(os.path.join(interpreter.prefix, "pyvenv.cfg"), encoding="utf-8") as f:
            cfg = f.read()
    except OSError:
        return None
    if "include-system-site-packages = true" not in cfg:
        return None
    major, minor, _ = interpreter.version_info
    return os.path.join(interpreter.base_prefix, "lib", "python%d.%d" % (major, minor), "site-packages")


def _freeze(call: ToolCall, interpreter, site: str, args: List[str]) -> ToolResult:
    try:
        options = parse_options(args, FREEZE_OPTIONS)
    except BadOption as bad:
        if bad.option in INSTALL_OPTIONS.known():
            return pip_usage_error(bad.option, bad.missing)
        raise unsupported("the option %s" % bad.option, "pip freeze", FREEZE_OPTIONS.known())
    lines = []
    dists = installed_dists(site)
    global_site = None if options.flag("local") else _global_site(interpreter)
    if global_site is not None:  # pip lists what the venv sees, global packages included, unless --local
        dists = dict(installed_dists(global_site), **dists)
    for dist in sorted(dists.values(), key=lambda d: d.name.lower()):
        if dist.key in FREEZE_SKIP and not options.flag("all"):
            continue
        if dist.editable:
            if options.flag("exclude_editable"):
                continue
            lines.append("# Editable install with no version control (%s==%s)" % (dist.name, dist.version))
            lines.append("-e %s" % dist.editable_dir)
        else:
            lines.append("%s==%s" % (dist.name, dist.version))
    return ToolResult(0, "".join(line + "\n" for line in lines), "")


def _install(call: ToolCall, interpreter, site: str, args: List[str]) -> ToolResult:
    try:
        options = parse_options(args, INSTALL_OPTIONS)
    except BadOption as bad:
        if bad.missing or bad.option in ("--compile-bytecode", "--python", "-p"):
            return pip_usage_error(bad.option, bad.missing)
        raise unsupported("the option %s" % bad.option, "pip install", INSTALL_OPTIONS.known())
    quiet, verbose = options.count("quiet"), options.count("verbose")
    inputs = install_inputs(options)
    if not (inputs.requirements or inputs.editables or inputs.requirement_files):
        return ToolResult(1, "", 'ERROR: You must give at least one requirement to install (see "pip help install")\n')
    try:
        collected = collect(inputs, call.cwd, "pip")
    except InstallFailure as failure:
        return ToolResult(failure.code, "", failure.stderr if quiet < 3 else "")
    try:
        picks, changes = plan_install(collected, site, call.session_state.index, interpreter.version, inputs.upgrade,
                                      options.flag("force"), options.flag("no_deps"), "pip")
    except ResolutionError as error:
        return ToolResult(1, "", resolution_error_text(error, interpreter.version) if quiet < 3 else "")
    out: List[str] = []
    for key in collected.root_keys:
        if key in collected.editables:
            out.append("Obtaining file://%s" % collected.editables[key].dir)
    changing = {c.candidate.key for c in changes}
    order = [k for k in collected.root_keys if k in picks] + sorted(k for k in picks if k not in collected.root_keys)
    for key in order:
        cand = picks[key]
        if key in collected.editables:
            continue
        origin = "" if key in collected.root_keys else " (from %s)" % ", ".join(cand.parents)
        if key in changing:
            out.append("Collecting %s%s" % (cand.name, origin))
            if verbose:
                out.append("  Using cached %s-%s-py3-none-any.whl" % (cand.name, cand.version))
        else:
            out.append("Requirement already satisfied: %s in %s%s (%s)" % (cand.name, site, origin, cand.version))
    if changes:
        out.append("Installing collected packages: %s" % ", ".join(c.candidate.name for c in changes))
        for change in changes:
            if change.old is not None:
                old = change.old
                out += ["  Attempting uninstall: %s" % old.name,
                        "    Found existing installation: %s %s" % (old.name, old.version),
                        "    Uninstalling %s-%s:" % (old.name, old.version),
                        "      Successfully uninstalled %s-%s" % (old.name, old.version)]
        out.append("Successfully installed %s" % " ".join(
            "%s-%s" % (c.candidate.name, c.candidate.version)
            for c in sorted(changes, key=lambda c: c.candidate.name.lower())))
    steps = change_steps(changes, site, "pip", call.session_state.kernel_source)
    perform(call, steps, "pip install")
    stderr = ""
    bin_dir = os.path.normpath(os.path.join(site, "..", "..", "..", "bin"))
    scripts = scripts_of(changes)
    path_dirs = [os.path.normpath(p) for p in call.env.get("PATH", "").split(os.pathsep) if p]
    if scripts and bin_dir not in path_dirs and not options.flag("no_warn_script") and quiet < 2:
        stderr = ("  WARNING: The script %s is installed in '%s' which is not on PATH.\n  Consider adding this "
                  "directory to PATH or, if you prefer to suppress this warning, use --no-warn-script-location.\n"
                  % (", ".join(scripts), bin_dir))
    return ToolResult(0, "" if quiet else "".join(line + "\n" for line in out), stderr)


class PipModuleTool:
    """`<python> [flags] -m pip ...`."""

    name = "python -m pip"
    usage = ("<venv python> [-I ...] -m pip install [-q|-v] [--disable-pip-version-check] [--no-input] "
             "[--constraint FILE] [--editable DIR[extras]]... [REQ]... | freeze [--exclude-editable] | --version")

    def accepts(self, call: ToolCall) -> bool:
        return (call.interpreter is not None and call.python is not None and call.python.mode == "module"
                and call.python.target == "pip")

    def refusal(self, call: ToolCall) -> Optional[str]:
        return interpreter_refusal(call) if runs_module(call, "pip") else None

    def run(self, call: ToolCall) -> ToolResult:
        return run_pip(call, call.interpreter, list(call.python.args))


def script_interpreter(head: str) -> Optional[str]:
    """The interpreter of a console script: its `#!` line, or in the sh+Python form that pip (and the
    kernel's pip seeding) writes when a plain `#!` would not do, the program its `exec` line starts."""
    lines = head.split("\n")
    if lines[0] == "#!/bin/sh" and len(lines) > 1 and lines[1].startswith("'''exec' "):
        words = shlex.split(lines[1][len("'''exec' "):])
        return words[0] if words else None
    if not lines[0].startswith("#!"):
        return None
    return lines[0][2:].strip().split(" ")[0] or None


class PipScriptTool:
    """`VENV/bin/pip ...` (the script the fake venv writes, or the kernel's copy of it in the sh+Python
    form): pip run by the interpreter the script names."""

    name = "VENV/bin/pip"
    usage = "VENV/bin/pip install|freeze|--version ..."

    def _interpreter(self, call: ToolCall):
        return self._read(call)[0]

    def _read(self, call: ToolCall):
        """(the interpreter the pip script names, None) or (None, why `call` is not such a script)."""
        if call.interpreter is not None:
            return None, "%s is an interpreter, not a pip script" % call.program
        try:
            with open(call.program, "r", encoding="utf-8") as f:
                head = f.read(4096)
        except (OSError, UnicodeDecodeError):
            return None, "%s is not a text file" % call.program
        if PIP_SCRIPT_MARKER not in head:
            return None, "%s is not a pip script the fake venv or pip wrote" % call.program
        named = script_interpreter(head) or ""
        interpreter = identify_interpreter(named)
        if interpreter is None:
            return None, "its interpreter %s is not a simulated interpreter" % (named or "(none named)")
        return interpreter, None

    def accepts(self, call: ToolCall) -> bool:
        return self._interpreter(call) is not None

    def refusal(self, call: ToolCall) -> Optional[str]:
        if call.interpreter is not None or not os.path.basename(call.program).startswith("pip"):
            return None
        return self._read(call)[1]

    def run(self, call: ToolCall) -> ToolResult:
        interpreter = self._interpreter(call)
        if interpreter.broken:
            return ToolResult(1, "", interpreter.failure_message())
        return run_pip(call, interpreter, list(call.argv[1:]))

