"""The tools the fake process port simulates: a table of small handlers, and the report of a miss.

A handler is any object with `usage`, `accepts(call)` and `run(call) -> ToolResult` (and, to explain a
miss, optionally `name` and `refusal(call)`): `protoprimer_harness.tools.base` says what each means and
holds the types handlers share (`ToolCall`, `ToolResult`, `ToolRefusal`: their one public home). The first
handler that accepts a call answers it. To simulate a new tool, add a handler for one world with
`World.add_tool` (docs/harness.md, "Adding a tool"); the handlers of the default table live in
`protoprimer_harness.tools` (one private module per tool family); docs/harness.md says what each one models.

A handler that changes the filesystem in several steps may honour `call.die_during` (a fault killing the
process in the middle of the command) with `protoprimer_harness.tools.common.perform`.

When no handler accepts a call (or the one that did raises `ToolRefusal`), `explain_miss` says so as
vcrpy explains an unmatched request: the command, the nearest handlers with why each refused it, every
handler's usage, and how to add one.
"""

import shlex
from typing import Any, Optional, Sequence, Tuple

from .tools.base import (ToolCall, abbreviate_argv, interpreter_refusal, tool_name,
                         tool_refusal)
from .tools._pip import PipModuleTool, PipScriptTool
from .tools._python import BrokenInterpreterTool, PythonProbeTool
from .tools._shells import ShellTool
from .tools._uv import UvTool
from .tools._venv import VenvTool

__all__ = ["DEFAULT_TOOLS", "BrokenInterpreterTool", "PythonProbeTool", "default_tools", "explain_miss"]

ADD_TOOL_HINT = ("To simulate it, add a tool to the world: `World.add_tool(tool)`, an object with `usage`, "
                 "`accepts(call)` and `run(call) -> ToolResult`, tried before the default ones "
                 "(docs/harness.md, \"Adding a tool\").")


def default_tools() -> tuple:
    """The default tool table, in the order handlers are tried."""
    return (BrokenInterpreterTool(), PythonProbeTool(), VenvTool(), PipModuleTool(), PipScriptTool(), UvTool(),
            ShellTool())


DEFAULT_TOOLS = default_tools()


def explain_miss(call: ToolCall, tools: Sequence[Any], refused: Optional[Tuple[Any, str]] = None) -> str:
    """The report of a command no handler of `tools` answers: the command and what it resolved to, the
    nearest handlers and why each refused it, every handler's usage, and how to add one. `refused` is
    the handler that accepted the call and then raised `ToolRefusal`, with its reason."""
    if call.interpreter is not None:
        what = "a simulated python %s" % call.interpreter.version
    else:
        what = "not a simulated interpreter"
    lines = [
        "the fake process port does not simulate this command:",
        "  %s" % shlex.join(abbreviate_argv(call.argv, call.kernel)),
        "  (%s resolves to %s: %s)" % (call.argv[0], call.program, what),
    ]
    nearest = []
    for tool in tools:
        reason = refused[1] if refused is not None and tool is refused[0] else tool_refusal(tool, call)
        if reason:
            nearest.append("  %s: %s" % (tool_name(tool), reason))
    if nearest:
        lines.append("the nearest tools, and why each refused it:")
        lines += nearest
    else:
        lines.append("no tool is near it: %s" % _unclaimed(call))
    lines.append("the tools, in the order they are tried:")
    lines += ["  %s" % tool.usage for tool in tools]
    lines.append(ADD_TOOL_HINT)
    return "\n".join(lines)


def _unclaimed(call: ToolCall) -> str:
    if call.interpreter is None:
        return "none of them runs %s" % call.program
    if call.python is None:
        return "python: %s" % interpreter_refusal(call)
    return "none of them runs `python %s`" % call.python.describe()
