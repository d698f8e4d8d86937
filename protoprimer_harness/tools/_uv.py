"""A fake uv: an executable file (`protoprimer_harness.tools._dists.uv_file_text`) that `pip install uv` writes into a
venv's bin directory; its version is the installed one.

- `uv --version` -> "uv X.Y.Z";
- `uv venv [-q|-v] [--no-python-downloads] [--seed] [--python SEL] [VENV]` (VENV defaults to .venv): a venv
  like `python -m venv`'s but without pip (unless --seed), pyvenv.cfg with "uv = X.Y.Z" and version_info;
  an existing target is refused unless --clear/UV_VENV_CLEAR=1, --allow-existing or --force says what to
  do (uv 0.13's rules); the activation hint follows $SHELL; SEL is a path, or a name/version found on PATH;
- `uv pip install [-q|-v] --python VPY [--compile-bytecode] [-c FILE] [-r FILE] [-U] [-e DIR[extras]]...
  [REQ]...`: the same resolution as the fake pip (`protoprimer_harness.tools._index`); output on stderr in uv's words
  ("Resolved N packages", "Installed N packages", " + a==1.0", "Audited N packages"); an editable already
  installed from the same directory at the same version is left alone; without --python, $VIRTUAL_ENV;
- `uv pip freeze [--exclude-editable] --python VPY`: "name==version" lines, pip included when present.
Not modelled: uv's cache, bytecode compilation, python downloads, lock files, `uv run`/`uv sync`.
"""

import os
from typing import List, Optional

from .._fake_interpreters import identify_interpreter, read_interpreter_facts
from .._launch import find_executable
from .base import ToolCall, ToolResult
from .common import BadOption, OptionTable, parse_options, perform, plural, unsupported
from ._dists import UV_FILE_MARKER, installed_dists
from ._index import ResolutionError
from ._install import InstallFailure, change_steps, collect, install_inputs, plan_install
from ._venv import base_interpreter, clear_dir, venv_steps

COUNTS = {"-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}
COMMON_FLAGS = {"--no-cache": "no_cache", "-n": "no_cache", "--offline": "offline", "--no-progress": "no_progress",
                "--native-tls": "native_tls", "--no-config": "no_config", "--color": "color"}
COMMON_VALUES = {"--cache-dir": "cache_dir", "--python": "python", "-p": "python"}

VENV_OPTIONS = OptionTable(
    counts=dict(COUNTS),
    flags=dict(COMMON_FLAGS, **{"--no-python-downloads": "no_downloads", "--seed": "seed",
                                "--allow-existing": "allow_existing",
                                "--clear": "clear", "--force": "force", "--system-site-packages": "system_site"}),
    values=dict(COMMON_VALUES, **{"--prompt": "prompt"}),
)
INSTALL_OPTIONS = OptionTable(
    counts=dict(COUNTS),
    flags=dict(COMMON_FLAGS, **{"--compile-bytecode": "compile", "--compile": "compile", "-U": "upgrade",
                                "--upgrade": "upgrade", "--no-deps": "no_deps", "--reinstall": "force",
                                "--no-build-isolation": "ignored", "--system": "system"}),
    values=dict(COMMON_VALUES, **{"-c": "constraint", "--constraint": "constraint", "-r": "requirement",
                                  "--requirement": "requirement", "-e": "editable", "--editable": "editable",
                                  "-i": "index_url", "--index-url": "index_url", "--extra-index-url": "extra"}),
)
FREEZE_OPTIONS = OptionTable(
    counts=dict(COUNTS),
    flags=dict(COMMON_FLAGS, **{"--exclude-editable": "exclude_editable", "--strict": "strict",
                                "--system": "system"}),
    values=dict(COMMON_VALUES),
)


# uv names the activation command for the shell it detects: from a shell's own variable (BASH_VERSION...)
# first, then $SHELL (the real one then asks the parent process, which a fake process does not have: then
# no hint); other shells get none.
ACTIVATION = {"bash": "source %s/bin/activate", "zsh": "source %s/bin/activate", "ksh": ". %s/bin/activate",
              "fish": "source %s/bin/activate.fish", "csh": "source %s/bin/activate.csh", "pwsh": "%s/bin/activate"}


def activation_hint(shown: str, env) -> str:
    running = [name for var, name in (("FISH_VERSION", "fish"), ("BASH_VERSION", "bash"), ("ZSH_VERSION", "zsh"),
                                      ("KSH_VERSION", "ksh")) if env.get(var)]  # a shell that exported them
    command = ACTIVATION.get(running[0] if running else os.path.basename(env.get("SHELL", "")))
    return "Activate with: %s\n" % (command % (shown[2:] if shown.startswith("./") else shown)) if command else ""


def shown_path(typed: str, cwd: str) -> str:
    """uv shows an absolute path under the cwd relative to it, any other path as typed."""
    if os.path.isabs(typed) and typed.startswith(cwd.rstrip(os.sep) + os.sep):
        return typed[len(cwd.rstrip(os.sep)) + 1:]
    return typed


def _existing_target_refusal(venv: str, shown: str, options, env) -> Optional[ToolResult]:
    """uv 0.13 refuses an existing target unless told what to do with it: `--clear` (or UV_VENV_CLEAR=1)
    replaces a venv or an empty directory, `--allow-existing` writes over anything, `--force` clears any
    directory; a file in the way is always an error."""
    if not os.path.lexists(venv):
        return None
    failed = "error: Failed to create virtual environment\n  cause: "
    if not os.path.isdir(venv):
        return ToolResult(2, "", failed + "File exists at `%s`\n" % shown)
    if options.flag("allow_existing") or options.flag("force") or not os.listdir(venv):
        return None
    is_venv = os.path.isfile(os.path.join(venv, "pyvenv.cfg"))
    clear = options.flag("clear") or env.get("UV_VENV_CLEAR", "").lower() in ("1", "true", "yes", "y", "on")
    if clear and is_venv:
        return None
    if clear:
        return ToolResult(2, "", failed + "uv will not clear a directory that is not a virtual environment\n\n"
                                          "hint: Use the `--force` flag to remove the existing directory anyway\n")
    what = "virtual environment" if is_venv else "directory"
    return ToolResult(2, "", failed + "A %s already exists at: %s\n\nhint: Use the `--clear` flag or set "
                                      "`UV_VENV_CLEAR=1` to replace the existing %s\n" % (what, shown, what))


def read_uv_version(path: str) -> Optional[str]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            head = f.read(256)
    except (OSError, UnicodeDecodeError):
        return None
    if not head.startswith(UV_FILE_MARKER):
        return None
    for line in head.splitlines()[1:]:
        key, sep, value = line.partition("=")
        if sep and key.strip() == "version":
            return value.strip()
    return "0.0.0"


def uv_usage_error(argv: List[str], option: str, missing: bool, usage: str) -> ToolResult:
    if missing:
        return ToolResult(2, "", "error: a value is required for '%s <%s>' but none was supplied\n\nFor more "
                                 "information, try '--help'.\n" % (option, option.strip("-").upper()))
    return ToolResult(2, "", "error: unexpected argument '%s' found\n\nUsage: %s\n\nFor more information, try "
                             "'--help'.\n" % (option, usage))


def _inspect_failure(path: str, cause: str) -> ToolResult:
    return ToolResult(2, "", "error: Failed to inspect Python interpreter from provided path at `%s`\n"
                             "  Caused by: %s\n" % (path, cause))


def find_interpreter(selector: str, call: ToolCall):
    """(path, RunningInterpreter) for uv's --python value, or a ToolResult error."""
    if "/" in selector:
        path = os.path.normpath(os.path.join(call.cwd, selector))
    else:
        name = selector if not selector[:1].isdigit() else "python" + selector
        found = find_executable(name, call.env.get("PATH", ""))
        if found is None:
            return ToolResult(2, "", "error: No interpreter found for %s in virtual environments, managed "
                                     "installations, or search path\n" % selector)
        path = os.path.normpath(os.path.join(call.cwd, found))
    if not os.path.exists(path):
        return _inspect_failure(path, "Failed to query Python interpreter\n  Caused by: No such file or "
                                      "directory (os error 2)")
    interpreter = identify_interpreter(path)
    if interpreter is None or read_interpreter_facts(path) is None:
        return _inspect_failure(path, "Querying Python at `%s` did not return the expected data" % path)
    if interpreter.broken:
        return _inspect_failure(path, "Querying Python at `%s` failed with exit status exit status: 1\n\n"
                                      "[stderr]\n%s" % (path, interpreter.failure_message()))
    return path, interpreter


class UvTool:
    """The fake uv executable."""

    name = "uv"
    usage = ("UV --version | UV venv [-q|-v] [--no-python-downloads] --python SEL VENV | UV pip install [-q|-v] "
             "--python VPY [--compile-bytecode] [--constraint FILE] [--editable DIR[extras]]... | "
             "UV pip freeze --exclude-editable --python VPY")

    def accepts(self, call: ToolCall) -> bool:
        return call.interpreter is None and read_uv_version(call.program) is not None

    def refusal(self, call: ToolCall) -> Optional[str]:
        if call.interpreter is not None or os.path.basename(call.program) != "uv":
            return None
        return "%s is not the fake uv (the executable `pip install uv` writes into a simulated venv)" % call.program

    def run(self, call: ToolCall) -> ToolResult:
        version = read_uv_version(call.program)
        args = list(call.argv[1:])
        if args in (["--version"], ["-V"], ["version"]):
            return ToolResult(0, "uv %s\n" % version, "")
        if args[:1] == ["venv"]:
            return self._venv(call, version, args[1:])
        if args[:2] == ["pip", "install"]:
            return self._install(call, args[2:])
        if args[:2] == ["pip", "freeze"]:
            return self._freeze(call, args[2:])
        raise unsupported("the command %r" % " ".join(args[:2]), "uv", ("--version", "venv", "'pip install'",
                                                                      "'pip freeze'"), "commands")

    # -- uv venv

    def _venv(self, call: ToolCall, uv_version: str, args: List[str]) -> ToolResult:
        try:
            options = parse_options(args, VENV_OPTIONS)
        except BadOption as bad:
            return uv_usage_error(call.argv, bad.option, bad.missing, "uv venv [OPTIONS] [PATH]")
        if len(options.positionals) > 1:
            return uv_usage_error(call.argv, options.positionals[1], False, "uv venv [OPTIONS] [PATH]")
        quiet = options.count("quiet")
        selector = options.value("python")
        if selector is None:
            found = find_executable("python3", call.env.get("PATH", ""))
            if found is None:
                return ToolResult(2, "", "error: No interpreter found in virtual environments, managed "
                                         "installations, or search path\n")
            selector = found
        found_interpreter = find_interpreter(selector, call)
        if isinstance(found_interpreter, ToolResult):
            return found_interpreter
        path, interpreter = found_interpreter
        typed = options.positionals[0] if options.positionals else ".venv"
        venv = os.path.normpath(os.path.join(call.cwd, typed))
        refused = _existing_target_refusal(venv, shown_path(typed, call.cwd), options, call.env)
        if refused is not None:
            return refused
        clear = os.path.isdir(venv) and bool(os.listdir(venv)) and not options.flag("allow_existing")
        link_target, real = base_interpreter(path)
        full = "%d.%d.%d" % interpreter.version_info
        cfg = ("home = %s\nimplementation = CPython\nuv = %s\nversion_info = %s\ninclude-system-site-packages = %s\n"
               % (os.path.dirname(real), uv_version, full, "true" if options.flag("system_site") else "false"))
        steps = venv_steps(venv, interpreter.version, link_target, cfg, copies=False, with_pip=options.flag("seed"),
                           pip_version=call.session_state.pip_version, tool="uv")
        if clear:
            steps.insert(0, lambda: clear_dir(venv))
        perform(call, steps, "uv venv %s" % venv)
        shown = shown_path(typed, call.cwd)
        stderr = "Using CPython %s interpreter at: %s\nCreating virtual environment %sat: %s\n%s" % (
            full, path, "with seed packages " if options.flag("seed") else "", shown, activation_hint(shown, call.env))
        return ToolResult(0, "", "" if quiet else stderr)

    # -- uv pip

    def _target(self, call: ToolCall, options):
        selector = options.value("python")
        if selector is None:
            venv = call.env.get("VIRTUAL_ENV")
            if not venv:
                return ToolResult(2, "", "error: No virtual environment found; run `uv venv` to create an "
                                         "environment, or pass `--system` to install into a non-virtual "
                                         "environment\n")
            selector = os.path.join(venv, "bin", "python")
        return find_interpreter(selector, call)

    def _freeze(self, call: ToolCall, args: List[str]) -> ToolResult:
        try:
            options = parse_options(args, FREEZE_OPTIONS)
        except BadOption as bad:
            return uv_usage_error(call.argv, bad.option, bad.missing, "uv pip freeze [OPTIONS]")
        target = self._target(call, options)
        if isinstance(target, ToolResult):
            return target
        _, interpreter = target
        lines = []
        for dist in sorted(installed_dists(interpreter.site_packages).values(), key=lambda d: d.name.lower()):
            if dist.editable:
                if not options.flag("exclude_editable"):
                    lines.append("-e file://%s" % dist.editable_dir)
                continue
            lines.append("%s==%s" % (dist.name, dist.version))
        return ToolResult(0, "".join(line + "\n" for line in lines), "")

    def _install(self, call: ToolCall, args: List[str]) -> ToolResult:
        try:
            options = parse_options(args, INSTALL_OPTIONS)
        except BadOption as bad:
            if bad.missing or bad.option in ("--disable-pip-version-check", "--no-input"):
                return uv_usage_error(call.argv, bad.option, bad.missing,
                                      "uv pip install [OPTIONS] <PACKAGE|--requirement <REQUIREMENT>|--editable "
                                      "<EDITABLE>>")
            raise unsupported("the option %s" % bad.option, "uv pip install", INSTALL_OPTIONS.known())
        quiet = options.count("quiet")
        inputs = install_inputs(options)
        if not (inputs.requirements or inputs.editables or inputs.requirement_files):
            return ToolResult(2, "", "error: the following required arguments were not provided:\n  <PACKAGE|--"
                                     "requirement <REQUIREMENT>|--editable <EDITABLE>>\n")
        target = self._target(call, options)
        if isinstance(target, ToolResult):
            return target
        _, interpreter = target
        site = interpreter.site_packages
        try:
            collected = collect(inputs, call.cwd, "uv")
        except InstallFailure as failure:
            return ToolResult(failure.code, "", failure.stderr)
        try:
            picks, changes = plan_install(collected, site, call.session_state.index, interpreter.version, inputs.upgrade,
                                          options.flag("force"), options.flag("no_deps"), "uv")
        except ResolutionError as error:
            return ToolResult(1, "", self._resolution_text(error, interpreter))
        lines = ["Resolved %s in 1ms" % plural(len(picks), "package")]
        if changes:
            removed = [c.old for c in changes if c.old is not None]
            lines.append("Prepared %s in 1ms" % plural(len(changes), "package"))
            if removed:
                lines.append("Uninstalled %s in 1ms" % plural(len(removed), "package"))
            lines.append("Installed %s in 1ms" % plural(len(changes), "package"))
            entries = []
            for change in changes:
                cand = change.candidate
                if change.old is not None:
                    entries.append((change.old.name.lower(), 0, " - %s==%s" % (change.old.name, change.old.version)))
                origin = " (from file://%s)" % cand.editable_dir if cand.editable_dir else ""
                entries.append((cand.name.lower(), 1, " + %s==%s%s" % (cand.name, cand.version, origin)))
            lines += [text for _, _, text in sorted(entries)]
        else:
            lines = ["Audited %s in 1ms" % plural(len(picks), "package")]
        perform(call, change_steps(changes, site, "uv", call.session_state.kernel_source), "uv pip install")
        return ToolResult(0, "", "" if quiet else "".join(line + "\n" for line in lines))

    def _resolution_text(self, error: ResolutionError, interpreter) -> str:
        if error.kind == "python":
            because = ("the current Python version (%s) does not satisfy Python%s and %s depends on Python%s"
                       % (error.detail.split(" ")[0], error.detail.split("'")[1] if "'" in error.detail else "",
                          error.requirement, error.detail.split("'")[1] if "'" in error.detail else ""))
        elif error.kind == "missing":
            because = ("there is no version of %s and you require %s" % (error.requirement, error.requirement)
                       if error.versions else "%s was not found in the package registry and you require %s"
                       % (error.requirement.split("[")[0], error.requirement))
        elif error.kind == "conflict" and error.constraint:
            because = "you require %s and %s (constraint)" % (error.requirement, error.constraint)
        else:
            because = "%s: %s" % (error.requirement, error.detail or "conflicting requirements")
        return ("  × No solution found when resolving dependencies:\n  ╰─▶ Because %s, we can conclude that your "
                "requirements are unsatisfiable.\n" % because)
