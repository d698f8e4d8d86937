"""What code a simulated Python process runs, decided from its launch and the files it names.

- a file containing `KERNEL_FILE_MARKER` run as a script -> `kernel.main(host)`, kernel_path = the file;
- `-m protoprimer.primer_kernel` -> `kernel.main(host)` as the installed module of the interpreter's
  site-packages (it must exist there, as for the real interpreter);
- an entry script (`PROTO_KERNEL_REL_PATH = "..."` and `.boot_env("...")`/`.start_app("...")`, or a
  script written by the reference's `wrap`, which passes the kernel path relative to the script's directory
  to `import_proto_kernel("...")`, or else whose first quoted "*.py" string is that path) ->
  `kernel.boot_env(main, host)` / `kernel.start_app(main, host)`, kernel_path = the copy; the main is passed
  as written: `boot_env("")` (the reference's "no main") passes "", `boot_env()` passes None;
- what a real interpreter would refuse (missing script, missing module, broken interpreter, Python < 3.7)
  -> a `Refusal` (exit code and message);
- anything else stops the run with a harness signal naming the file.
"""

import os
import re
from dataclasses import dataclass
from typing import Any, List, Optional, Union

from .errors import UnknownCommandError, UnsupportedProgramError
from ._fake_fs import read_file
from ._launch import Launch

KERNEL_FILE_MARKER = "protoprimer-kernel-file"
INSTALLED_KERNEL_MODULE = "protoprimer.primer_kernel"
ENTRY_FUNCS = ("boot_env", "start_app")

_KERNEL_REL_PATH = re.compile(r"""^PROTO_KERNEL_REL_PATH\s*=\s*["']([^"']+)["']""", re.MULTILINE)
# `.boot_env("mod:func")`, `.boot_env("")` (the reference's wrap without a main) or `.boot_env()` (no main:
# the kernel bootstraps and runs -c or nothing).
_ENTRY_CALL = re.compile(r"""\.(boot_env|start_app)\(\s*(?:["']([^"']*)["']|\))""")
# The reference's wrap: `proto_kernel = import_proto_kernel("proto_kernel.py")`.
_IMPORT_PROTO_KERNEL_CALL = re.compile(r"""\bimport_proto_kernel\(\s*["']([^"']+)["']\s*\)""")
# What an entry script of this kernel's wrap says when its kernel copy is missing (the reference's: a traceback).
KERNEL_COPY_CHECK = "is missing or a broken link: restore it"
_FIRST_PY_STRING = re.compile(r"""["']([^"'\n]+\.py)["']""")
_REGISTERS_MODULE = re.compile(r"""sys\.modules\[\s*["']proto_kernel["']\s*\]\s*=""")


@dataclass(frozen=True)
class KernelMain:
    """`kernel.main(host)` running as the kernel file `kernel_path`."""

    kernel_path: str
    installed: bool = False

    def describe(self) -> str:
        module = " (-m %s)" % INSTALLED_KERNEL_MODULE if self.installed else ""
        return "kernel.main() as %s%s" % (self.kernel_path, module)

    def call(self, kernel: Any, host: Any):
        return kernel.main(host=host)


@dataclass(frozen=True)
class EntryCall:
    """`kernel.<entry_func>(main_func, host)` called by the entry script `script_path`.

    `registers_module`: the script puts the kernel in `sys.modules["proto_kernel"]` before running it (this
    kernel's `wrap` does; the reference's does not), so `import proto_kernel` works in the process from the
    start rather than only once the kernel's `call_main` registered it."""

    entry_func: str
    main_func: Optional[str]
    script_path: str
    kernel_path: str
    registers_module: bool = False

    def describe(self) -> str:
        return "kernel.%s(%r) from %s as %s" % (
            self.entry_func, self.main_func, self.script_path, self.kernel_path
        )

    def call(self, kernel: Any, host: Any):
        return getattr(kernel, self.entry_func)(self.main_func, host=host)


@dataclass(frozen=True)
class Refusal:
    """The interpreter ends at once with `exit_code` and `message` on stderr."""

    exit_code: int
    message: str
    what: str

    @property
    def kernel_path(self) -> Optional[str]:
        return None

    def describe(self) -> str:
        return "refused (%s): exit %d" % (self.what, self.exit_code)


Program = Union[KernelMain, EntryCall, Refusal]


def process_argv(launch: Launch, program: Program) -> List[str]:
    """`sys.argv` of the process: the script as given (or the module's file under -m), then the args."""
    line = launch.command_line
    if isinstance(program, KernelMain) and program.installed:
        return [program.kernel_path] + list(line.args)
    return [line.target or ""] + list(line.args)


def _read(path: str) -> str:
    return read_file(path).decode("utf-8", "replace")


def _version_gate(launch: Launch) -> Optional[Refusal]:
    interpreter = launch.interpreter
    if interpreter.version_info < (3, 7):
        return Refusal(
            9,
            "ERROR: protoprimer needs Python 3.7 or newer, but this is Python %d.%d.%d (%s).\n"
            % (interpreter.version_info + (interpreter.executable,)),
            "python < 3.7",
        )
    return None


def entry_call_of(script_path: str, text: str) -> Optional[EntryCall]:
    """The entry call an entry script makes, or None when `text` is not an entry script."""
    call = _ENTRY_CALL.search(text)
    if call is None:
        return None
    rel = _KERNEL_REL_PATH.search(text) or _IMPORT_PROTO_KERNEL_CALL.search(text) or _FIRST_PY_STRING.search(text)
    if rel is None:
        return None
    # this kernel's wrap resolves the script's real path (so a symlink to it works); the reference's does not
    base = os.path.realpath(script_path) if "os.path.realpath(__file__)" in text else script_path
    kernel_path = os.path.normpath(os.path.join(os.path.dirname(base), rel.group(1)))
    return EntryCall(call.group(1), call.group(2), script_path, kernel_path,
                     registers_module=_REGISTERS_MODULE.search(text) is not None)


def identify_program(launch: Launch, cwd: str) -> Program:
    interpreter = launch.interpreter
    if interpreter.broken:
        return Refusal(1, interpreter.failure_message(), "broken interpreter")
    line = launch.command_line
    if line is None or line.mode not in ("script", "module"):
        raise UnknownCommandError(
            "the runner cannot simulate the process %r: it simulates `<python> [-I -S -E -s -B -u] SCRIPT "
            "ARGS` (a kernel file or an entry script) and `<python> [flags] -m %s ARGS`"
            % (launch.exec_argv, INSTALLED_KERNEL_MODULE)
        )
    if line.mode == "module":
        if line.target != INSTALLED_KERNEL_MODULE:
            raise UnknownCommandError(
                "the runner cannot simulate `-m %s` (in %r); it simulates `-m %s`"
                % (line.target, launch.exec_argv, INSTALLED_KERNEL_MODULE)
            )
        kernel_path = os.path.join(interpreter.site_packages, *INSTALLED_KERNEL_MODULE.split(".")) + ".py"
        if not os.path.isfile(kernel_path):
            return Refusal(
                1,
                "%s: Error while finding module specification for '%s' (ModuleNotFoundError: No module "
                "named 'protoprimer')\n" % (interpreter.executable, INSTALLED_KERNEL_MODULE),
                "module not installed",
            )
        return _version_gate(launch) or KernelMain(kernel_path, installed=True)
    script_path = os.path.normpath(os.path.join(cwd, line.target))
    if not os.path.isfile(script_path):
        return Refusal(
            2,
            "%s: can't open file '%s': [Errno 2] No such file or directory\n"
            % (interpreter.executable, script_path),
            "no such script",
        )
    text = _read(script_path)
    if KERNEL_FILE_MARKER in text:
        return _version_gate(launch) or KernelMain(script_path)
    entry = entry_call_of(script_path, text)
    if entry is None:
        raise UnsupportedProgramError(
            "the runner cannot simulate %s: it is neither a kernel file (no %r marker) nor an entry script "
            "(no `.boot_env(\"...\")`/`.start_app(\"...\")` call with a kernel path)"
            % (script_path, KERNEL_FILE_MARKER)
        )
    gate = _version_gate(launch)
    if gate is not None:
        return gate
    if not os.path.isfile(entry.kernel_path):
        if KERNEL_COPY_CHECK in text:  # this kernel's wrap checks the copy before loading it
            return Refusal(10, "ERROR the kernel copy %s is missing or a broken link: restore it (git checkout)\n"
                           % entry.kernel_path, "kernel copy missing")
        return Refusal(
            1,
            "Traceback (most recent call last):\n  File \"%s\", in import_proto_kernel\n"
            "FileNotFoundError: [Errno 2] No such file or directory: '%s'\n" % (script_path, entry.kernel_path),
            "kernel copy missing",
        )
    if KERNEL_FILE_MARKER not in _read(entry.kernel_path):
        raise UnsupportedProgramError(
            "the runner cannot simulate %s: the kernel it loads, %s, has no %r marker"
            % (script_path, entry.kernel_path, KERNEL_FILE_MARKER)
        )
    return entry
