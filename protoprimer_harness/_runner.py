"""Runs one command line in an active world: simulated processes, one after another, until exit.

Invariants:
- every simulated process runs in this Python process, against the session's fake filesystem, with its
  own `Host` (the kernel's real filesystem adapter wrapped in a `ProcessFileSystem`, which records its
  changes and applies filesystem faults; a `FakeProcesses`; a `FakeEnvironment`);
- a process ends by `SystemExit` (its exit code), by returning (exit 0), by `ProcessReplaced` (the next
  process starts with the new argv/env, same cwd, same pid - as after execve), by `ProcessKilled` (a fault:
  the whole run ends with exit 137 and `outcome.killed`), or by any other `Exception` (a crash: exit 1, the
  traceback appended to stderr);
- a replacement into a fake shell is one more simulated process that ends the chain (exit 0, or a fault's);
- when a process ends (exit, kill or replacement) the OS drops its locks (protoprimer_harness._session_state);
- harness signals (`UnknownCommandError`, ...) are never caught: they stop the run;
- the chain is bounded: starting more than `max_processes` processes raises `RestartLoopError`;
- a simulated concurrent process that finishes while this run waits for a lock runs as a nested run of
  the same runner (its outcome in `outcome.concurrent_runs`); the waiting process's cwd is restored after.
"""

import os
import shlex
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .errors import (HarnessError, LockWaitError, ProcessKilled, ProcessReplaced, RestartLoopError,
                     UnknownCommandError)
from ._fake_environment import FakeClock, FakeEnvironment, OutputStreams, PidCounter, ProcessState
from ._fake_processes import PROTO_KERNEL_MODULE, FakeProcesses, ShellLaunch, _empty_session_state, shell_launch
from ._launch import FrontExit, FrontShell, Launch, LaunchFailure, apply_env_changes, resolve_launch
from ._session_state import KILLED_EXIT_CODE, SessionState, command_lines
from .tools.base import abbreviate_argv
from .outcome import STRIDE_VARIABLE, UNKNOWN_STRIDE, Outcome, ProcessRecord, ShellRecord, display_path
from ._process_fs import ProcessFileSystem
from ._programs import EntryCall, Program, Refusal, identify_program, process_argv
from ._snapshot import diff_snapshots, take_snapshot

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
    killed: bool = False


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


class OpenProcess:
    """A simulated process opened with `Runner.open_process` / `WorldSession.open_process`: `host` (its
    ports), `outcome` (its commands, main calls, faults, concurrent runs, output once closed), `streams`.
    `close()` ends it: its locks are dropped, its pid dies, output lands in `outcome.stdout`/`stderr`."""

    def __init__(self, host: Any, outcome: Outcome, streams: OutputStreams, runner: "Runner", pid: int):
        self.host = host
        self.outcome = outcome
        self.streams = streams
        self._runner = runner
        self.pid = pid

    @property
    def proc(self) -> Any:
        return self.host.proc

    @property
    def env(self) -> Any:
        return self.host.env

    @property
    def fs(self) -> Any:
        return self.host.fs

    @property
    def stdout(self) -> str:
        return self.streams.stdout_text()

    @property
    def stderr(self) -> str:
        return self.streams.stderr_text()

    def close(self) -> Outcome:
        self._runner.session_state.locks.release_process(self.pid)
        self._runner.session_state.live_pids.discard(self.pid)
        self.outcome.stdout, self.outcome.stderr = self.stdout, self.stderr
        self.outcome.killed = self.host.env.state.killed is not None
        return self.outcome

    def __enter__(self) -> "OpenProcess":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class Runner:
    """Runs commands against one active world.

    `kernel` is the kernel module (or any object with the same entry points and `Host`,
    `RealFileSystem`, `RunResult`, `PYTHON_PROBE_CODE`); `tools` the fake process port's table; `mains`
    the world's client mains; `clock`/`pids` are shared by every run of the session; `session_state` is the
    session's simulated state (faults, locks, package index); `base_env`/`base_cwd` are what a nested run
    (a concurrent lock holder finishing its command) starts with.
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
        session_state: Optional[SessionState] = None,
        base_env: Optional[Dict[str, str]] = None,
        base_cwd: Optional[str] = None,
    ):
        self.kernel = kernel
        self.root = root
        self.tools = tuple(tools)
        self.mains = mains
        self.clock = clock
        self.pids = pids
        self.snapshot_excludes = tuple(snapshot_excludes)
        self.session_state = session_state if session_state is not None else _empty_session_state()
        self.base_env = dict(base_env) if base_env is not None else {}
        self.base_cwd = base_cwd or root

    def run(self, request: RunRequest, pid: Optional[int] = None) -> Outcome:
        """Run `request` until its chain exits. `pid` is the pid of its process (default: a new one)."""
        if not os.path.isdir(request.cwd):
            raise HarnessError("run(): the cwd %s does not exist in the world" % request.cwd)
        before = take_snapshot("/", self.snapshot_excludes)
        outcome = Outcome(root=self.root)
        streams = OutputStreams()
        try:
            launch: Any = resolve_launch(request.argv, request.env, request.cwd, search_path=True)
        except LaunchFailure as failure:
            streams.stderr.append(failure.shell_message + "\n")
            outcome.exit_code = failure.shell_exit_code
            return self._finish(outcome, streams, before)
        if launch is None:
            raise UnknownCommandError(
                "the runner cannot simulate %s: %s is not a simulated interpreter nor a script whose "
                "shebang names one" % (shlex.join(request.argv), request.argv[0])
            )
        if isinstance(launch, FrontExit):  # the entry script's shell front ended the run: no process at all
            outcome.exit_code = launch.exit_code
            return self._finish(outcome, streams, before)
        env = apply_env_changes(request.env, launch.env_set)
        fault = None
        if isinstance(launch, FrontShell):  # the front ran `-c CMD` itself: the shell is the run's one process
            argv = launch.exec_argv
            fault = self.session_state.faults.match(command_lines(argv, abbreviate_argv(argv, self.kernel)))
            launch = shell_launch(argv, env, request.cwd)
        pid = pid if pid is not None else self.pids.allocate()
        self.session_state.live_pids.add(pid)
        try:
            while True:
                if len(outcome.processes) >= request.max_processes:
                    raise RestartLoopError(self._loop_message(request, outcome, launch))
                if isinstance(launch, ShellLaunch):
                    end = self._run_shell(launch, env, request, streams, outcome, pid, fault)
                elif fault is not None:
                    end = self._faulted_start(launch, env, request, streams, outcome, pid, fault)
                else:
                    end = self._run_process(launch, env, request, streams, outcome, pid)
                self.session_state.locks.release_process(pid)
                if end.replaced is None:
                    outcome.exit_code, outcome.crashed, outcome.killed = end.exit_code, end.crashed, end.killed
                    return self._finish(outcome, streams, before)
                launch, env, fault = end.replaced.launch, end.replaced.env, end.replaced.fault
        finally:
            self.session_state.live_pids.discard(pid)
            self.session_state.locks.release_process(pid)

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

    def _loop_message(self, request: RunRequest, outcome: Outcome, launch: Any) -> str:
        command = shlex.join(request.argv)
        lines = ["%s: more than %d processes, the chain so far:" % (command, request.max_processes)]
        lines += ["  %d. %s  argv=%r" % (i + 1, entry, p.exec_argv)
                  for i, (entry, p) in enumerate(zip(outcome.chain(), outcome.processes))]
        lines.append("next: %r" % (launch.exec_argv,))
        return "\n".join(lines)

    def _run_process(self, launch: Launch, env: Dict[str, str], request: RunRequest,
                     streams: OutputStreams, outcome: Outcome, pid: int) -> _ProcessEnd:
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
            pid=pid,
        )
        outcome.processes.append(record)
        if isinstance(program, Refusal):
            streams.stderr.append(program.message)
            record.ended = "exit %d" % program.exit_code
            return _ProcessEnd(exit_code=program.exit_code)
        host = self._host(launch, program, record, request, streams, outcome)
        end = self._call(program, host, streams)
        record.ended = ("replaced" if end.replaced else "killed" if end.killed else
                        "crashed" if end.crashed else "exit %d" % end.exit_code)
        return end

    def _faulted_start(self, launch: Launch, env: Dict[str, str], request: RunRequest, streams: OutputStreams,
                       outcome: Outcome, pid: int, fault: Any) -> _ProcessEnd:
        """A replacement whose command line matched a fault: the new program exits at once with the fault's
        code and output, or is killed right after it started."""
        record = ProcessRecord(
            interpreter=launch.interpreter.executable,
            stride=env.get(STRIDE_VARIABLE, UNKNOWN_STRIDE),
            argv=list(launch.exec_argv),
            env=dict(env),
            code="fault: %s" % fault.describe(),
            exec_argv=list(launch.exec_argv),
            cwd=request.cwd,
            pid=pid,
        )
        outcome.processes.append(record)
        return self._apply_start_fault(record, streams, fault)

    @staticmethod
    def _apply_start_fault(record: ProcessRecord, streams: OutputStreams, fault: Any) -> _ProcessEnd:
        if fault.stdout:
            streams.stdout.append(fault.stdout)
        if fault.stderr:
            streams.stderr.append(fault.stderr)
        if fault.die is not None:
            record.ended = "killed"
            return _ProcessEnd(exit_code=KILLED_EXIT_CODE, killed=True)
        record.ended = "exit %d" % fault.exit
        return _ProcessEnd(exit_code=fault.exit)

    def _run_shell(self, launch: ShellLaunch, env: Dict[str, str], request: RunRequest, streams: OutputStreams,
                   outcome: Outcome, pid: int, fault: Any) -> _ProcessEnd:
        invocation = launch.invocation
        rc_text = None
        if invocation.rc_file:
            try:
                with open(invocation.rc_file, "r", encoding="utf-8") as f:
                    rc_text = f.read()
            except (OSError, UnicodeDecodeError):
                rc_text = None
        shell = ShellRecord(
            path=launch.program,
            name=launch.name,
            argv=list(launch.exec_argv),
            env=dict(env),
            mode=invocation.mode,
            command=invocation.command,
            rc_file=invocation.rc_file,
            rc_text=rc_text,
        )
        what = ("%s -c %s" % (launch.name, shlex.quote(invocation.command or "")) if invocation.mode == "command"
                else "%s interactive%s" % (launch.name, " (rc file %s)" % invocation.rc_file
                                           if invocation.rc_file else ""))
        record = ProcessRecord(
            interpreter=launch.program,
            stride=env.get(STRIDE_VARIABLE, UNKNOWN_STRIDE),
            argv=list(launch.exec_argv),
            env=dict(env),
            code="shell: %s" % what,
            exec_argv=list(launch.exec_argv),
            cwd=request.cwd,
            pid=pid,
            kind="shell",
            shell=shell,
        )
        outcome.processes.append(record)
        if invocation.error:
            streams.stderr.append(invocation.error)
            shell.exit_code = 2
            record.ended = "exit 2"
            return _ProcessEnd(exit_code=2)
        if fault is not None:
            end = self._apply_start_fault(record, streams, fault)
            shell.exit_code = end.exit_code
            return end
        record.ended = "exit 0"
        return _ProcessEnd(exit_code=0)

    def _host(self, launch: Launch, program: Program, record: ProcessRecord, request: RunRequest,
              streams: OutputStreams, outcome: Outcome) -> Any:
        state = ProcessState()
        if isinstance(program, EntryCall) and program.registers_module:
            state.modules[PROTO_KERNEL_MODULE] = program.kernel_path
        options = launch.command_line.options if launch.command_line is not None else []
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
            isolated="-I" in options,
            state=state,
            sleep_hook=lambda seconds: self._on_sleep(seconds, record.pid, request.cwd, outcome),
        )
        processes = FakeProcesses(self.kernel, environment, self.tools, self.mains, outcome.commands,
                                  outcome.main_calls, session_state=self.session_state, faults_hit=outcome.faults)
        fs = self._process_fs(state, outcome, record.pid)
        host = self.kernel.Host(fs, processes, environment)
        processes.host = host
        return host

    def open_process(self, interpreter: Any, argv: Sequence[str], env: Dict[str, str], cwd: str,
                     isolated: bool = True, kernel_path: Optional[str] = None) -> "OpenProcess":
        """A simulated process that runs no program: its ports, to drive the fakes directly (tests of the
        harness, of tools added with World.add_tool, of client helpers). Its records go to `.outcome`."""
        pid = self.pids.allocate()
        self.session_state.live_pids.add(pid)
        outcome = Outcome(root=self.root)
        streams = OutputStreams()
        state = ProcessState()
        record = ProcessRecord(interpreter=interpreter.executable, stride=env.get(STRIDE_VARIABLE, UNKNOWN_STRIDE),
                               argv=list(argv), env=dict(env), code="(open process)", exec_argv=list(argv),
                               cwd=cwd, pid=pid)
        outcome.processes.append(record)
        environment = FakeEnvironment(
            variables=env, argv=list(argv), cwd=cwd, interpreter=interpreter, kernel_path=kernel_path, pid=pid,
            clock=self.clock, streams=streams, isolated=isolated, state=state,
            sleep_hook=lambda seconds: self._on_sleep(seconds, pid, cwd, outcome),
        )
        processes = FakeProcesses(self.kernel, environment, self.tools, self.mains, outcome.commands,
                                  outcome.main_calls, session_state=self.session_state, faults_hit=outcome.faults)
        host = self.kernel.Host(self._process_fs(state, outcome, pid), processes, environment)
        processes.host = host
        return OpenProcess(host, outcome, streams, self, pid)

    def _process_fs(self, state: ProcessState, outcome: Outcome, pid: int) -> ProcessFileSystem:
        """The kernel's filesystem adapter for one process: guarded after a kill, its changes recorded in
        `outcome.fs_ops`, the session's filesystem faults applied (protoprimer_harness._process_fs)."""
        return ProcessFileSystem(self.kernel.RealFileSystem(), state, faults=self.session_state.faults,
                                 fs_ops=outcome.fs_ops, faults_hit=outcome.faults, root=self.root, pid=pid)

    def _on_sleep(self, seconds: float, pid: int, cwd: str, outcome: Outcome) -> None:
        """A process slept: simulated lock holders with a `finish` command complete it now (nested runs);
        a process waiting too long for a holder that never releases stops the run."""
        locks = self.session_state.locks
        for holder in locks.finishers():
            locks.start_finishing(holder)
            finish = holder.spec.finish
            request = RunRequest(
                argv=split_command(finish if isinstance(finish, str) else list(finish)),
                env=dict(self.base_env),
                cwd=self.base_cwd,
            )
            try:
                nested = self.run(request, pid=holder.spec.pid)
            finally:
                locks.end_finishing(holder)
                os.chdir(cwd)
            outcome.concurrent_runs.append(nested)
        message = locks.note_sleep(pid, seconds)
        if message is not None:
            raise LockWaitError(message)

    def _call(self, program: Program, host: Any, streams: OutputStreams) -> _ProcessEnd:
        state = host.env.state
        killed = _ProcessEnd(exit_code=KILLED_EXIT_CODE, killed=True)
        try:
            program.call(self.kernel, host)
        except SystemExit as error:
            return killed if state.killed else _ProcessEnd(exit_code=exit_code_of(error, streams))
        except ProcessReplaced as replaced:
            return killed if state.killed else _ProcessEnd(replaced=replaced)
        except ProcessKilled:
            state.killed = state.killed or "killed"
            return killed
        except Exception:
            if state.killed:
                return killed
            streams.stderr.append(traceback.format_exc())
            return _ProcessEnd(exit_code=1, crashed=True)
        return killed if state.killed else _ProcessEnd(exit_code=0)
