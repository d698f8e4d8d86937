"""Fake shells (bash, zsh, sh, or any name): executable files the world puts at /bin/bash, /bin/zsh, /bin/sh
(`World.shells`; `World.add_shell`, `World.without_default_shells`, `World.set_shell`).

- `run([SHELL, "-c", CMD, ...])`: the command is recorded (argv, env, cwd in the CommandRecord), nothing is
  printed, exit 0 (a fault changes that). CMD is not interpreted.
- as a process replacement (`replace([SHELL, ...], env)`): the shell is one more simulated process that
  ends the chain: `[SHELL, "-c", CMD, ...]`, or interactive `[bash, "--rcfile", RC, "-i"]`,
  `[zsh, "-i"]` (rc file: $ZDOTDIR/.zshrc, else ~/.zshrc), `[sh, "-i"]` (rc file: $ENV). The runner
  records a `ShellRecord` (argv, env, the rc file and its text at that moment) and the shell exits 0 (the
  user typed `exit`), or as a fault says. Nothing in the rc file is run.
"""

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .base import ToolCall, ToolResult

SHELL_FILE_MARKER = "harness-fake-shell"
SHELL_FLAGS = ("-i", "-l", "--login", "--norc", "--noprofile", "--posix")


def shell_file_text(name: str) -> str:
    return "%s\nname = %s\n" % (SHELL_FILE_MARKER, name)


def identify_shell(path: str) -> Optional[str]:
    """The name of the fake shell at `path` (symlinks followed), or None."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            head = f.read(256)
    except (OSError, UnicodeDecodeError):
        return None
    if not head.startswith(SHELL_FILE_MARKER):
        return None
    for line in head.splitlines()[1:]:
        key, sep, value = line.partition("=")
        if sep and key.strip() == "name":
            return value.strip()
    return os.path.basename(path)


@dataclass
class ShellInvocation:
    """A shell's command line read as the shell would: `mode` "command" (with `command`) or "interactive";
    `rc_file` for an interactive shell; `error` (exit 2 and that message) for what the shell refuses."""

    mode: str
    command: Optional[str] = None
    rc_file: Optional[str] = None
    flags: List[str] = field(default_factory=list)
    error: Optional[str] = None


def read_shell_argv(name: str, argv: Sequence[str], env: Dict[str, str]) -> Optional[ShellInvocation]:
    """How the shell `name` reads `argv`; None for a form the harness does not simulate."""
    args = list(argv[1:])
    flags: List[str] = []
    rc_file = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-c":
            if index + 1 >= len(args):
                return ShellInvocation("command", error="%s: -c: option requires an argument\n" % name)
            return ShellInvocation("command", command=args[index + 1], flags=flags)
        if arg in ("--rcfile", "--init-file"):
            if name != "bash":
                return ShellInvocation("interactive", error="%s: no such option: %s\n" % (name, arg[2:]))
            if index + 1 >= len(args):
                return ShellInvocation("interactive", error="%s: %s: option requires an argument\n" % (name, arg))
            rc_file = args[index + 1]
            index += 2
            continue
        if arg in SHELL_FLAGS:
            flags.append(arg)
            index += 1
            continue
        return None
    if "-i" not in flags:
        return None
    if rc_file is None and "--norc" not in flags:
        home = env.get("HOME", "/")
        if name == "bash":
            rc_file = os.path.join(home, ".bashrc")
        elif name == "zsh":
            rc_file = os.path.join(env.get("ZDOTDIR") or home, ".zshrc")
        else:
            rc_file = env.get("ENV")
    return ShellInvocation("interactive", rc_file=rc_file, flags=flags)


class ShellTool:
    """`run([SHELL, "-c", CMD])`: recorded, prints nothing, exit 0."""

    name = "shell"
    usage = "<shell> -c COMMAND [NAME ARGS...] (bash, zsh, sh, ...: recorded, exit 0)"

    def accepts(self, call: ToolCall) -> bool:
        if call.interpreter is not None:
            return False
        name = identify_shell(call.program)
        if name is None:
            return False
        invocation = read_shell_argv(name, call.argv, call.env)
        return invocation is not None and invocation.mode == "command"

    def refusal(self, call: ToolCall) -> Optional[str]:
        name = identify_shell(call.program) if call.interpreter is None else None
        if name is None:
            return None
        if read_shell_argv(name, call.argv, call.env) is None:
            return "this %s command line is not simulated: run() runs [SHELL, \"-c\", CMD, ...]" % name
        return ("an interactive %s runs only as a process replacement (replace), not in run(): run() runs "
                "[SHELL, \"-c\", CMD, ...]" % name)

    def run(self, call: ToolCall) -> ToolResult:
        invocation = read_shell_argv(identify_shell(call.program), call.argv, call.env)
        if invocation.error:
            return ToolResult(2, "", invocation.error)
        return ToolResult(0, "", "")
