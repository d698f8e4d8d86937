"""What every fake tool shares: the call a handler answers (`ToolCall`), its answer (`ToolResult`), and
the ways a handler says no (`refusal`, `ToolRefusal`). A public module: the home of the types a tool of your
own uses (`World.add_tool`, docs/harness.md). The tool modules and the table (`protoprimer_harness._fake_tools`)
import this module; it imports no tool.

A handler is any object with:
- `usage`: how it is invoked, for error messages ("<python> [-I -S -E -s -B -u] -c PYTHON_PROBE_CODE");
- `accepts(call) -> bool`: whether this call is its to answer;
- `run(call) -> ToolResult`: the answer; it may change the (fake) filesystem as the real tool would.
And, to explain a miss (a command no handler accepts), optionally:
- `name`: what the miss report calls it ("python -m pip"; default: its class name);
- `refusal(call) -> Optional[str]`: None when the call is nothing like the ones it answers, else why it
  does not accept this one ("the interpreter flag -X is not simulated"): the miss report lists these
  handlers as the nearest ones, with their reasons.
A handler that accepted a call may still find, while reading it, something it does not simulate (an
option): its `run` raises `ToolRefusal(reason)`, and the port reports a miss as if it had refused.
"""

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from ..errors import UnknownCommandError
from .._fake_interpreters import RunningInterpreter
from .._launch import PythonCommandLine, python_args_problem


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class ToolCall:
    """One `run` call as the handlers see it.

    `program` is the absolute path argv[0] resolved to; `interpreter`/`python` are set when it is a
    simulated interpreter (`python` is None when its flags are not understood); `kernel` is the kernel
    module under test (for its shared names, e.g. `PYTHON_PROBE_CODE`); `session_state` is the session's
    `protoprimer_harness._session_state.SessionState` (package index, kernel source, versions); `die_during`
    is set when a fault kills the process in the middle of this command.
    """

    argv: List[str]
    env: Dict[str, str]
    cwd: str
    program: str
    interpreter: Optional[RunningInterpreter]
    python: Optional[PythonCommandLine]
    kernel: Any
    session_state: Any = None
    die_during: bool = False


class ToolRefusal(UnknownCommandError):
    """Raised by a handler's `run` for a call it accepted but does not simulate after all (an option, a
    sub-command, a requirement form); `reason` says what ("the option --target of pip install is not
    simulated (...)"). The fake process port reports it as a miss naming this handler and its reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def abbreviate_argv(argv: Sequence[str], kernel: Any) -> List[str]:
    """argv with long well-known arguments replaced by their names (for readable command lines)."""
    probe = getattr(kernel, "PYTHON_PROBE_CODE", None)
    return ["PYTHON_PROBE_CODE" if probe is not None and arg == probe else arg for arg in argv]


def tool_name(tool: Any) -> str:
    """What the miss report calls a handler: its `name`, else its class name."""
    return getattr(tool, "name", None) or type(tool).__name__


def tool_refusal(tool: Any, call: ToolCall) -> Optional[str]:
    """The handler's reason for not answering `call` when the call is near it, else None (also for a
    handler without a `refusal` method)."""
    refusal = getattr(tool, "refusal", None)
    return refusal(call) if callable(refusal) else None


def looks_like_python(call: ToolCall) -> bool:
    """A simulated interpreter, or a program named like one (python, python3.12, ...)."""
    return call.interpreter is not None or os.path.basename(call.program).startswith("python")


def runs_module(call: ToolCall, module: str) -> bool:
    """Whether `call` asks a Python to run `-m module` (read from argv even when the interpreter's flags
    are not simulated)."""
    if call.python is not None:
        return call.python.mode == "module" and call.python.target == module
    args = list(call.argv[1:])
    return looks_like_python(call) and any(
        (arg == "-m" and args[i + 1:i + 2] == [module]) or arg == "-m" + module for i, arg in enumerate(args))


def is_python_code(call: ToolCall) -> bool:
    """Whether `call` asks a Python to run `-c CODE` (read from argv even when its flags are not simulated)."""
    if call.python is not None:
        return call.python.mode == "code"
    return looks_like_python(call) and "-c" in call.argv[1:]


def interpreter_refusal(call: ToolCall) -> Optional[str]:
    """Why `call` is not a simulated interpreter's command line the harness reads (its program is no
    simulated interpreter, or it uses an interpreter flag that is not simulated); None when it is."""
    if call.interpreter is None:
        return "%s is not a simulated interpreter (World.add_interpreter adds one)" % call.program
    if call.python is None:
        return python_args_problem(list(call.argv[1:])) or "its interpreter arguments are not simulated"
    return None
