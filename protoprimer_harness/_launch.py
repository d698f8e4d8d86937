"""How a command line becomes a simulated Python process: which interpreter, which options, which program.

`resolve_launch` follows the same steps as a shell (or `execve`) and the interpreter would: find the
executable (on PATH only when asked, like a shell), follow a script's shebang (`#!/usr/bin/env NAME` or
`#!/abs/path [one-arg]`), identify the simulated interpreter, and parse its command line. Failures that the
real system reports (missing file, not executable, bad interpreter) come back as `LaunchFailure` carrying an
errno, so each caller can word them as its real counterpart does (a shell message, a 127 from `run`, an
`OSError` from `execve`).
"""

import errno
import os
import shutil
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from ._fake_interpreters import RunningInterpreter, identify_interpreter

# Single-letter interpreter flags the simulation understands; they may be given separately or combined.
PYTHON_FLAG_LETTERS = "IESsBu"


class LaunchFailure(Exception):
    """The command cannot start; `shell_message` is what bash would print for it."""

    def __init__(self, error_number: int, path: str, shell_message: str):
        super().__init__(shell_message)
        self.error_number = error_number
        self.path = path
        self.shell_message = shell_message

    @property
    def strerror(self) -> str:
        return os.strerror(self.error_number)

    @property
    def shell_exit_code(self) -> int:
        return 126 if self.error_number in (errno.EACCES, errno.EISDIR) else 127

    def as_os_error(self) -> OSError:
        return OSError(self.error_number, self.strerror, self.path)


@dataclass(frozen=True)
class PythonCommandLine:
    """An interpreter's arguments split into flags and what to run.

    `mode` is "script" (target = the path as given), "module" (target = module name), "code" (target = the
    code text) or "interactive" (no target). `args` follow the target.
    """

    options: List[str]
    mode: str
    target: Optional[str]
    args: List[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.mode == "module":
            return "-m %s" % self.target
        if self.mode == "code":
            return "-c <code>"
        if self.mode == "script":
            return self.target or ""
        return "(interactive)"


def parse_python_args(args: List[str]) -> Optional[PythonCommandLine]:
    """Split an interpreter's arguments; None when they use a flag the simulation does not know (see
    `python_args_problem` for which)."""
    return _read_python_args(args)[0]


def python_args_problem(args: List[str]) -> Optional[str]:
    """Why `parse_python_args(args)` is None ("the interpreter flag -X is not simulated (...)"), else None."""
    return _read_python_args(args)[1]


def _read_python_args(args: List[str]) -> Tuple[Optional[PythonCommandLine], Optional[str]]:
    options = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-c", "-m"):
            if index + 1 >= len(args):
                return None, "%s is not followed by its argument" % arg
            mode = "code" if arg == "-c" else "module"
            return PythonCommandLine(options, mode, args[index + 1], list(args[index + 2 :])), None
        if arg == "-":
            return PythonCommandLine(options, "interactive", None, list(args[index + 1 :])), None
        if arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            unknown = [letter for letter in letters if letter not in PYTHON_FLAG_LETTERS]
            if unknown:
                flag = arg if arg.startswith("--") else "-" + unknown[0]
                return None, "the interpreter flag %s is not simulated (the simulated flags: %s)" % (
                    flag, " ".join("-" + letter for letter in PYTHON_FLAG_LETTERS))
            options.extend("-" + letter for letter in letters)
            index += 1
            continue
        return PythonCommandLine(options, "script", arg, list(args[index + 1 :])), None
    return PythonCommandLine(options, "interactive", None, []), None


@dataclass(frozen=True)
class Launch:
    """A command line resolved to a simulated Python process.

    `exec_argv` is the argv the process was started with (argv[0] = the command as typed); `interpreter`
    is what runs; `command_line` is the interpreter's parsed arguments (for a shebang script: the shebang
    option, the script as typed, then the arguments).
    """

    exec_argv: List[str]
    interpreter: RunningInterpreter
    command_line: Optional[PythonCommandLine]
    via_shebang: bool = False
    env_set: Tuple[Tuple[str, Optional[str]], ...] = ()  # what an entry script's shell front changed (None: unset)


def is_executable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_executable(name: str, path_string: Optional[str]) -> Optional[str]:
    """Like `shutil.which` (it is `shutil.which`, running on the active filesystem)."""
    return shutil.which(name, path=path_string if path_string is not None else "")


def read_shebang(path: str) -> Optional[List[str]]:
    """The words of the `#!` line of `path` (interpreter first), or None without one."""
    try:
        with open(path, "rb") as f:
            first = f.readline(1024)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    text = first[2:].decode("utf-8", "replace").strip()
    if not text:
        return None
    interpreter, _, rest = text.partition(" ")
    rest = rest.strip()
    return [interpreter] + ([rest] if rest else [])


def _check_startable(path: str, typed: str) -> None:
    if not os.path.exists(path):
        raise LaunchFailure(errno.ENOENT, path, "bash: %s: No such file or directory" % typed)
    if os.path.isdir(path):
        raise LaunchFailure(errno.EACCES, path, "bash: %s: Is a directory" % typed)
    if not os.access(path, os.X_OK):
        raise LaunchFailure(errno.EACCES, path, "bash: %s: Permission denied" % typed)


def locate_program(argv0: str, env: dict, cwd: str, search_path: bool) -> str:
    """The absolute path `argv0` starts (PATH is searched only with `search_path`, for bare names)."""
    if "/" not in argv0 and search_path:
        found = find_executable(argv0, env.get("PATH", ""))
        if found is None:
            raise LaunchFailure(errno.ENOENT, argv0, "bash: %s: command not found" % argv0)
        return os.path.normpath(os.path.join(cwd, found))
    return os.path.normpath(os.path.join(cwd, argv0))


def resolve_launch(argv: List[str], env: dict, cwd: str, search_path: bool) -> Union[None, Launch, "FrontExit", "FrontShell"]:
    """The simulated Python process `argv` starts, or None when it starts something else (not Python); for an
    entry script whose shell front decides alone, what it did instead (`FrontExit`, `FrontShell`).

    Raises `LaunchFailure` when the real system would refuse to start it.
    """
    typed = argv[0]
    path = locate_program(typed, env, cwd, search_path)
    _check_startable(path, typed)
    interpreter = identify_interpreter(path)
    if interpreter is not None:
        return Launch(list(argv), interpreter, parse_python_args(list(argv[1:])))
    shebang = read_shebang(path)
    if shebang is None:
        return None
    if os.path.basename(shebang[0]) == "env" and len(shebang) > 1:
        words = shebang[1].split()
        name, options = words[0], words[1:]
        found = find_executable(name, env.get("PATH", ""))
        if found is None:
            raise LaunchFailure(errno.ENOENT, path, "%s: '%s': No such file or directory" % (shebang[0], name))
        interpreter_path = os.path.normpath(os.path.join(cwd, found))
    else:
        interpreter_path, options = shebang[0], shebang[1:]
        if not is_executable_file(interpreter_path):
            raise LaunchFailure(
                errno.ENOENT,
                path,
                "bash: %s: %s: bad interpreter: No such file or directory" % (typed, interpreter_path),
            )
    interpreter = identify_interpreter(interpreter_path)
    if interpreter is None:
        fast = _fast_entry_front(path, typed, argv, env, cwd, interpreter_path)
        if fast is None or isinstance(fast, (FrontExit, FrontShell)):
            return fast
        front_env = apply_env_changes(env, fast[1])
        launch = resolve_launch(fast[0], front_env, cwd, search_path=True)
        return None if launch is None else Launch(launch.exec_argv, launch.interpreter, launch.command_line,
                                                  launch.via_shebang, fast[1])
    command_line = parse_python_args(options + [typed] + list(argv[1:]))
    return Launch(list(argv), interpreter, command_line, via_shebang=True)


# The two forms of the shell front (kernel.FAST_ENTRY_FRONT): this version's (wrap's default on POSIX) and the
# previous one's (`wrap --fast` of protoprimer before it), which repos generated then still have.
FAST_ENTRY_MARKER = "Entry script generated by protoprimer (`wrap`): a POSIX-shell front"
OLD_FAST_ENTRY_MARKER = "Fast entry script generated by protoprimer (`wrap --fast`)"
FAST_RECORD = "protoprimer.fast"
FRONT_SHELLS = ("bash", "zsh", "sh")


@dataclass(frozen=True)
class FrontExit:
    """The front of an entry script ended the run itself, starting no process (its no-op)."""

    exec_argv: List[str]
    exit_code: int = 0


@dataclass(frozen=True)
class FrontShell:
    """The front of an entry script ran `-c CMD` itself: it exec'd `argv` (the user's shell) with `env_set`."""

    exec_argv: List[str]
    env_set: Tuple[Tuple[str, Optional[str]], ...]


def _fast_entry_front(path: str, typed: str, argv: List[str], env: dict, cwd: str, shell: str) -> Any:
    """What the POSIX-shell front of an entry script (kernel.FAST_ENTRY_FRONT) does, as sh would run it: a
    `Launch`-to-be (argv, env changes) of the venv's python (-I -S) when the venv has its stamp and python,
    else of python3 from PATH; or, in this version's form without a client main, a `FrontExit` or a
    `FrontShell` when the venv's record says nothing changed (simulated by meaning: see `front_seen`). None
    when `path` is not such a script run by a POSIX shell."""
    if os.path.basename(shell) not in ("sh", "bash", "dash"):
        return None
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    new = FAST_ENTRY_MARKER in text
    if not new and OLD_FAST_ENTRY_MARKER not in text:
        return None
    script = _follow_links(typed, cwd) if 'while [ -h "$self" ]' in text and find_executable("readlink", env.get("PATH", "")) else typed
    here = script.rsplit("/", 1)[0] if "/" in script else "."
    venv_line = next(line for line in text.splitlines() if line.startswith('venv="'))
    venv = venv_line[len('venv="'):-1].replace("$here", here)
    venv_abs = os.path.normpath(os.path.join(cwd, venv))
    env_set: Tuple[Tuple[str, Optional[str]], ...] = ()
    if new:
        knob = any(name.startswith("PROTOPRIMER_") for name in env)
        env_set = (("PROTOPRIMER_FAST", ""),)
    if os.path.isfile(os.path.join(venv_abs, "protoprimer.stamp")) and is_executable_file(os.path.join(venv_abs, "bin", "python")):
        record = os.path.join(venv_abs, FAST_RECORD)
        tools = all(find_executable(name, env.get("PATH", "")) for name in ("ls", "cksum"))
        if new and "fast() {" in text and not knob and os.path.isfile(record) and tools:
            values = read_record(record)
            seen = front_seen(values, typed, here, venv, cwd)
            env_set = (("PROTOPRIMER_FAST", seen),)
            if values["seen"] and "\n".join(values["seen"]) == seen and not front_modified(values, record, venv_abs):
                if len(argv) == 1:
                    return FrontExit(list(argv))
                shell_path = env.get("SHELL") or ""
                if (len(argv) == 3 and argv[1] in ("-c", "--command") and values.get("venv") and not env.get("VIRTUAL_ENV")
                        and os.path.lexists(os.path.join(cwd, shell_path)) and shell_path
                        and os.path.basename(shell_path) in FRONT_SHELLS):
                    changes = [(name, None) for name in ("PROTOPRIMER_FAST", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV_PROMPT",
                                                         "__PYVENV_LAUNCHER__")]
                    changes += [("VIRTUAL_ENV", values["venv"]), ("PATH", values["venv"] + "/bin:" + env.get("PATH", ""))]
                    return FrontShell([shell_path, "-c", argv[2]], tuple(changes))
        return [venv + "/bin/python", "-I", "-S", typed] + list(argv[1:]), env_set
    return ["python3", typed] + list(argv[1:]), env_set


def read_record(path: str) -> Dict[str, Any]:
    """The venv's record (kernel.read_fast_record's shape, read here without the kernel)."""
    values: Dict[str, Any] = {"file": [], "dir": [], "seen": []}
    with open(path, "r", encoding="utf-8") as f:
        for line in f.read().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                if isinstance(values.get(key), list):
                    values[key].append(value)
                else:
                    values[key] = value
    return values


def front_seen(values: Dict[str, Any], typed: str, here: str, venv: str, cwd: str) -> str:
    """What the front's `fast` function prints for the record's inputs, by meaning rather than byte for byte
    (the kernel only stores it and compares nothing with it): the script's name, the venv's python (its inode),
    where the script's dir and each `dir=` lead, and each existing `file=` with a checksum and size of its
    content (cksum's CRC is zlib's here)."""
    lines = [typed.rsplit("/", 1)[-1]]
    python = os.path.join(venv, "bin", "python")
    lines.append("%d %s" % (os.stat(os.path.join(cwd, python)).st_ino, python))
    for directory in [here] + list(values["dir"]):
        target = os.path.join(cwd, directory)
        if os.path.isdir(target):
            lines.append(os.path.realpath(target))
    for file_path in values["file"]:
        if os.path.isfile(file_path):
            with open(file_path, "rb") as f:
                data = f.read()
            lines.append("%d %d %s" % (zlib.crc32(data), len(data), file_path))
    return "\n".join(lines)


def front_modified(values: Dict[str, Any], record: str, venv_abs: str) -> bool:
    """Whether the venv's python or a path the record names is not older than the record (the front's
    `[ "$rec" -nt PATH ]` tests: modified since the boot that wrote the record began)."""
    since = os.stat(record).st_mtime_ns
    paths = [os.path.join(venv_abs, "bin", "python")] + list(values["file"]) + list(values["dir"])
    return any(os.path.exists(p) and os.stat(p).st_mtime_ns >= since for p in paths)


def apply_env_changes(env: Dict[str, str], changes: Tuple[Tuple[str, Optional[str]], ...]) -> Dict[str, str]:
    """`env` after a front's `export NAME=value` / `unset NAME` (value None)."""
    env = dict(env)
    for name, value in changes:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _follow_links(typed: str, cwd: str) -> str:
    """What the front's `while [ -h "$self" ] && link="$(readlink ...)"` loop (with readlink on PATH) makes of $0: each link replaced by its target, a
    relative target taken relative to the link's directory, until the path is no link."""
    script = typed
    for _ in range(40):  # as the kernel's ELOOP limit: a cycle of links ends the loop
        absolute = os.path.join(cwd, script)
        if not os.path.islink(absolute):
            break
        link = os.readlink(absolute)
        script = link if link.startswith("/") else (script.rsplit("/", 1)[0] if "/" in script else ".") + "/" + link
    return script
