"""What a simulated interpreter answers by itself: a broken one fails every run, and the kernel's probe
(`python [flags] -c PYTHON_PROBE_CODE`) prints the interpreter's facts."""

from typing import Optional

from .base import ToolCall, ToolResult, interpreter_refusal, is_python_code


class BrokenInterpreterTool:
    """Any run of a broken interpreter fails with exit 1 and a loader message."""

    name = "broken python"
    usage = "<broken python> ... (exit 1)"

    def accepts(self, call: ToolCall) -> bool:
        return call.interpreter is not None and call.interpreter.broken

    def run(self, call: ToolCall) -> ToolResult:
        return ToolResult(1, "", call.interpreter.failure_message())


class PythonProbeTool:
    """`python [flags] -c PYTHON_PROBE_CODE`: prints version, executable, prefix and base_prefix."""

    name = "python -c PYTHON_PROBE_CODE"
    usage = "<python> [-I -S -E -s -B -u] -c PYTHON_PROBE_CODE"

    def accepts(self, call: ToolCall) -> bool:
        return (
            call.interpreter is not None
            and call.python is not None
            and call.python.mode == "code"
            and call.python.target == call.kernel.PYTHON_PROBE_CODE
        )

    def refusal(self, call: ToolCall) -> Optional[str]:
        if not is_python_code(call):
            return None
        return interpreter_refusal(call) or ("the code is not the kernel's PYTHON_PROBE_CODE, the only code "
                                             "`python -c` runs here")

    def run(self, call: ToolCall) -> ToolResult:
        return ToolResult(0, call.interpreter.probe_output(), "")
