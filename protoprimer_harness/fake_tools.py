"""The tools the fake process port simulates: a table of small handlers.

A handler is any object with:
- `usage`: how it is invoked, for error messages ("<python> [-I -S -E -s -B -u] -c PYTHON_PROBE_CODE");
- `accepts(call) -> bool`: whether this call is its to answer;
- `run(call) -> ToolResult`: the answer; it may change the (fake) filesystem as the real tool would.
The first handler that accepts a call answers it. To simulate a new tool, add a handler to the table
(`DEFAULT_TOOLS`, or `World.add_tool` for one world). The handlers of the default table live in
`protoprimer_harness.tools` (one module per tool family); docs/harness.md says what each one models.

A handler that changes the filesystem in several steps may honour `call.die_during` (a fault killing the
process in the middle of the command) with `protoprimer_harness.tools.common.perform`.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .fake_interpreters import RunningInterpreter
from .launch import PythonCommandLine


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
    module under test (for its shared names, e.g. `PYTHON_PROBE_CODE`); `machine` is the session's
    `protoprimer_harness.machine.Machine` (package index, kernel source, versions); `die_during` is set when a fault
    kills the process in the middle of this command.
    """

    argv: List[str]
    env: Dict[str, str]
    cwd: str
    program: str
    interpreter: Optional[RunningInterpreter]
    python: Optional[PythonCommandLine]
    kernel: Any
    machine: Any = None
    die_during: bool = False


class BrokenInterpreterTool:
    """Any run of a broken interpreter fails with exit 1 and a loader message."""

    usage = "<broken python> ... (exit 1)"

    def accepts(self, call: ToolCall) -> bool:
        return call.interpreter is not None and call.interpreter.broken

    def run(self, call: ToolCall) -> ToolResult:
        return ToolResult(1, "", call.interpreter.failure_message())


class PythonProbeTool:
    """`python [flags] -c PYTHON_PROBE_CODE`: prints version, executable, prefix and base_prefix."""

    usage = "<python> [-I -S -E -s -B -u] -c PYTHON_PROBE_CODE"

    def accepts(self, call: ToolCall) -> bool:
        return (
            call.interpreter is not None
            and call.python is not None
            and call.python.mode == "code"
            and call.python.target == call.kernel.PYTHON_PROBE_CODE
        )

    def run(self, call: ToolCall) -> ToolResult:
        return ToolResult(0, call.interpreter.probe_output(), "")


def default_tools() -> tuple:
    """The default tool table, in the order handlers are tried."""
    from .tools.pip import PipModuleTool, PipScriptTool
    from .tools.shells import ShellTool
    from .tools.uv import UvTool
    from .tools.venv import VenvTool

    return (BrokenInterpreterTool(), PythonProbeTool(), VenvTool(), PipModuleTool(), PipScriptTool(), UvTool(),
            ShellTool())


def __getattr__(name: str):
    # DEFAULT_TOOLS is built on first use: the tool modules import this one (ToolCall, ToolResult).
    if name == "DEFAULT_TOOLS":
        tools = default_tools()
        globals()["DEFAULT_TOOLS"] = tools
        return tools
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
