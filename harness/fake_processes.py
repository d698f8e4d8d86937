"""The processes port of one simulated process. Strict: what it does not simulate stops the run.

- `run` resolves argv like `subprocess` would (PATH of the given env), answers from the tool table and
  records a `CommandRecord`; a program that cannot start gives 127, as the real adapter does.
- `replace` validates the new argv like `execve` (missing/non-executable -> `OSError` to the kernel) and
  raises `ProcessReplaced`: the end of this simulated process.
- `which` is `shutil.which` on the fake filesystem.
- `call_main` calls the world's python function registered for "module:func" with the current host.
"""

import errno
import os
import shlex
from typing import Any, Callable, Dict, List, Sequence

from .errors import ProcessReplaced, UnknownCommandError, UnknownMainError
from .fake_tools import ToolCall
from .launch import LaunchFailure, find_executable, locate_program, parse_python_args, resolve_launch
from .fake_interpreters import identify_interpreter
from .outcome import CommandRecord, MainCall


def abbreviate_argv(argv: Sequence[str], kernel: Any) -> List[str]:
    """argv with long well-known arguments replaced by their names (for readable command lines)."""
    probe = getattr(kernel, "PYTHON_PROBE_CODE", None)
    return ["PYTHON_PROBE_CODE" if probe is not None and arg == probe else arg for arg in argv]


class FakeProcesses:
    """Processes port of one simulated process.

    `environment` is the process's own environment port (for the defaults of env and cwd);
    `commands`/`main_calls` are the run's shared records; `host` is set by the runner once built.
    """

    def __init__(
        self,
        kernel: Any,
        environment: Any,
        tools: Sequence[Any],
        mains: Dict[str, Callable[[Any], Any]],
        commands: List[CommandRecord],
        main_calls: List[MainCall],
    ):
        self.kernel = kernel
        self.environment = environment
        self.tools = tuple(tools)
        self.mains = mains
        self.commands = commands
        self.main_calls = main_calls
        self.host = None

    # --- run -----------------------------------------------------------------------------------------

    def run(self, argv, env=None, cwd=None):
        argv = list(argv)
        env = dict(env) if env is not None else self.environment.variables()
        cwd = os.path.normpath(os.path.join(self.environment.cwd(), cwd)) if cwd else self.environment.cwd()
        returncode, stdout, stderr = self._answer(argv, env, cwd)
        self.commands.append(
            CommandRecord(
                argv=argv,
                returncode=returncode,
                stdout=stdout,
                stderr=stderr,
                env=env,
                cwd=cwd,
                line=shlex.join(abbreviate_argv(argv, self.kernel)),
            )
        )
        return self.kernel.RunResult(argv, returncode, stdout, stderr)

    def _answer(self, argv, env, cwd):
        if not argv:
            raise UnknownCommandError("run() was called with an empty argv")
        try:
            program = locate_program(argv[0], env, cwd, search_path=True)
        except LaunchFailure:
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.ENOENT))
        if not os.path.exists(program):
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.ENOENT))
        if os.path.isdir(program) or not os.access(program, os.X_OK):
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.EACCES))
        interpreter = identify_interpreter(program)
        python = parse_python_args(argv[1:]) if interpreter is not None else None
        call = ToolCall(argv, env, cwd, program, interpreter, python, self.kernel)
        for tool in self.tools:
            if tool.accepts(call):
                result = tool.run(call)
                return result.returncode, result.stdout, result.stderr
        raise UnknownCommandError(self._unknown_command_message(argv, program, interpreter))

    def _unknown_command_message(self, argv, program, interpreter) -> str:
        what = "a simulated python %s" % interpreter.version if interpreter else "not a simulated interpreter"
        lines = [
            "the fake process port does not simulate this command:",
            "  %s" % shlex.join(abbreviate_argv(argv, self.kernel)),
            "  (%s resolves to %s: %s)" % (argv[0], program, what),
            "known tools:",
        ]
        lines += ["  %s" % tool.usage for tool in self.tools]
        return "\n".join(lines)

    # --- replace -------------------------------------------------------------------------------------

    def replace(self, argv, env):
        """End this simulated process; the runner starts `argv` with `env` next. Never returns."""
        argv = list(argv)
        env = dict(env)
        try:
            launch = resolve_launch(argv, env, self.environment.cwd(), search_path=False)
        except LaunchFailure as failure:
            raise failure.as_os_error() from None
        if launch is None:
            raise UnknownCommandError(
                "replace() cannot simulate %s: not a simulated interpreter nor a script with a simulated "
                "interpreter in its shebang" % shlex.join(argv)
            )
        raise ProcessReplaced(argv, env, launch)

    # --- which ---------------------------------------------------------------------------------------

    def which(self, name, path):
        return find_executable(name, path if path is not None else self.environment.get("PATH", ""))

    # --- call_main -----------------------------------------------------------------------------------

    def call_main(self, module_name, func_name):
        spec = "%s:%s" % (module_name, func_name)
        main = self.mains.get(spec)
        if main is None:
            known = ", ".join(sorted(self.mains)) or "(none: add one with World.add_main)"
            raise UnknownMainError("call_main(%r, %r): the world defines no main %r; known mains: %s"
                                   % (module_name, func_name, spec, known))
        self.main_calls.append(MainCall(spec, self.environment.argv, self.environment.variables()))
        return main(self.host)

