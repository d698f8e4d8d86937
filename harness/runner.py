"""Runs one command line in an active world: simulated processes, one after another, until exit.

Invariants:
- every simulated process runs in this Python process, against the session's fake filesystem, with its
  own `Host` (the kernel's real filesystem adapter, a `FakeProcesses`, a `FakeEnvironment`);
- a process ends by `SystemExit` (its exit code), by returning (exit 0), by `ProcessReplaced` (the next
  process starts with the new argv/env, same cwd), or by any other `Exception` (a crash: exit 1, the
  traceback appended to stderr);
- harness signals (`UnknownCommandError`, ...) are never caught: they stop the run;
- the chain is bounded: starting more than `max_processes` processes raises `RestartLoopError`.
"""

import os
import shlex
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .errors import HarnessError, ProcessReplaced, RestartLoopError, UnknownCommandError
from .fake_environment import FakeClock, FakeEnvironment, OutputStreams, PidCounter
from .fake_processes import FakeProcesses
from .launch import Launch, LaunchFailure, resolve_launch
from .outcome import STRIDE_VARIABLE, UNKNOWN_STRIDE, Outcome, ProcessRecord, display_path
from .programs import Program, Refusal, identify_program, process_argv
from .snapshot import diff_snapshots, take_snapshot

DEFAULT_MAX_PROCESSES = 20


@dataclass
class RunRequest:
    """One command to run: argv as typed, the full env of the first process, its absolute cwd."""

    argv: List[str]
    env: Dict[str, str]
    cwd: str
    max_processes: int = DEFAULT_MAX_PROCESSES
    tty: bool = False


@dataclass
class _ProcessEnd:
    exit_code: int = 0
    replaced: Optional[ProcessReplaced] = None
    crashed: bool = False


def split_command(command: Union[str, Sequence[str]]) -> List[str]:
    argv = shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]
    if not argv:
        raise HarnessError("run(): the command is empty")
    return argv


def exit_code_of(error: SystemExit, streams: OutputStreams) -> int:
    """The process exit code `SystemExit` means, as the interpreter computes it."""
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    streams.stderr.append("%s\n" % (code,))
    return 1


class Runner:
    """Runs commands against one active world.

    `kernel` is the kernel module (or any object with the same entry points and `Host`,
    `RealFileSystem`, `RunResult`, `PYTHON_PROBE_CODE`); `tools` the fake process port's table; `mains`
    the world's client mains; `clock`/`pids` are shared by every run of the session.
    """

    def __init__(
        self,
        kernel: Any,
        root: str,
        tools: Sequence[Any],
        mains: Dict[str, Callable[[Any], Any]],
        clock: FakeClock,
        pids: PidCounter,
        snapshot_excludes: Sequence[str] = (),
    ):
        self.kernel = kernel
        self.root = root
        self.tools = tuple(tools)
        self.mains = mains
        self.clock = clock
        self.pids = pids
        self.snapshot_excludes = tuple(snapshot_excludes)

    def run(self, request: RunRequest) -> Outcome:
        if not os.path.isdir(request.cwd):
            raise HarnessError("run(): the cwd %s does not exist in the world" % request.cwd)
        before = take_snapshot("/", self.snapshot_excludes)
        outcome = Outcome(root=self.root)
        streams = OutputStreams()
        try:
            launch: Optional[Launch] = resolve_launch(request.argv, request.env, request.cwd, search_path=True)
        except LaunchFailure as failure:
            streams.stderr.append(failure.shell_message + "\n")
            outcome.exit_code = failure.shell_exit_code
            return self._finish(outcome, streams, before)
        if launch is None:
            raise UnknownCommandError(
                "the runner cannot simulate %s: %s is not a simulated interpreter nor a script whose "
                "shebang names one" % (shlex.join(request.argv), request.argv[0])
            )
        env = dict(request.env)
        while True:
            if len(outcome.processes) >= request.max_processes:
                raise RestartLoopError(self._loop_message(request, outcome, launch))
            end = self._run_process(launch, env, request, streams, outcome)
            if end.replaced is None:
                outcome.exit_code, outcome.crashed = end.exit_code, end.crashed
                return self._finish(outcome, streams, before)
            launch, env = end.replaced.launch, end.replaced.env

    def _finish(self, outcome: Outcome, streams: OutputStreams, before) -> Outcome:
        """Fill in the output and the file changes since `before`."""
        after = take_snapshot("/", self.snapshot_excludes)
        changes = diff_snapshots(before, after)
        outcome.created = [display_path(p, self.root) for p in changes.created]
        outcome.modified = [display_path(p, self.root) for p in changes.modified]
        outcome.deleted = [display_path(p, self.root) for p in changes.deleted]
        outcome.files = after
        outcome.stdout, outcome.stderr = streams.stdout_text(), streams.stderr_text()
        return outcome

    def _loop_message(self, request: RunRequest, outcome: Outcome, launch: Launch) -> str:
        command = shlex.join(request.argv)
        lines = ["%s: more than %d processes, the chain so far:" % (command, request.max_processes)]
        lines += ["  %d. %s  argv=%r" % (i + 1, entry, p.exec_argv)
                  for i, (entry, p) in enumerate(zip(outcome.chain(), outcome.processes))]
        lines.append("next: %r" % (launch.exec_argv,))
        return "\n".join(lines)

    def _run_process(self, launch: Launch, env: Dict[str, str], request: RunRequest,
                     streams: OutputStreams, outcome: Outcome) -> _ProcessEnd:
        os.chdir(request.cwd)
        program = identify_program(launch, request.cwd)
        record = ProcessRecord(
            interpreter=launch.interpreter.executable,
            stride=env.get(STRIDE_VARIABLE, UNKNOWN_STRIDE),
            argv=[] if isinstance(program, Refusal) else process_argv(launch, program),
            env=dict(env),
            code=program.describe(),
            exec_argv=list(launch.exec_argv),
            cwd=request.cwd,
            pid=self.pids.allocate(),
        )
        outcome.processes.append(record)
        if isinstance(program, Refusal):
            streams.stderr.append(program.message)
            record.ended = "exit %d" % program.exit_code
            return _ProcessEnd(exit_code=program.exit_code)
        host = self._host(launch, program, record, request, streams, outcome)
        end = self._call(program, host, streams)
        record.ended = "replaced" if end.replaced else ("crashed" if end.crashed else "exit %d" % end.exit_code)
        return end

    def _host(self, launch: Launch, program: Program, record: ProcessRecord, request: RunRequest,
              streams: OutputStreams, outcome: Outcome) -> Any:
        environment = FakeEnvironment(
            variables=record.env,
            argv=record.argv,
            cwd=request.cwd,
            interpreter=launch.interpreter,
            kernel_path=program.kernel_path,
            pid=record.pid,
            clock=self.clock,
            streams=streams,
            tty=request.tty,
        )
        processes = FakeProcesses(self.kernel, environment, self.tools, self.mains, outcome.commands,
                                  outcome.main_calls)
        host = self.kernel.Host(self.kernel.RealFileSystem(), processes, environment)
        processes.host = host
        return host

    def _call(self, program: Program, host: Any, streams: OutputStreams) -> _ProcessEnd:
        try:
            program.call(self.kernel, host)
        except SystemExit as error:
            return _ProcessEnd(exit_code=exit_code_of(error, streams))
        except ProcessReplaced as replaced:
            return _ProcessEnd(replaced=replaced)
        except Exception:
            streams.stderr.append(traceback.format_exc())
            return _ProcessEnd(exit_code=1, crashed=True)
        return _ProcessEnd(exit_code=0)
