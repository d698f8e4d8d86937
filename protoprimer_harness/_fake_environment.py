"""The environment port of one simulated process, answered from data.

Implements every member of the kernel's `RealEnvironment`. Facts about the interpreter come from the
`RunningInterpreter` the process was launched with; the clock and pids come from session-wide counters
(so they keep increasing across processes and runs of one session); output goes to the run's streams.
"""

import calendar
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .errors import ProcessKilled
from ._fake_interpreters import RunningInterpreter
from ._process_env import ProcessEnv

# 2026-01-02T03:04:05Z: where every session's fake clock starts.
FAKE_CLOCK_START = float(calendar.timegm((2026, 1, 2, 3, 4, 5, 0, 0, 0)))
FIRST_FAKE_PID = 1000


class FakeClock:
    """A clock that starts at `FAKE_CLOCK_START` and moves one second forward on every reading."""

    def __init__(self, start: float = FAKE_CLOCK_START):
        self._next = start

    def now(self) -> float:
        value = self._next
        self._next += 1.0
        return value

    def advance(self, seconds: float) -> None:
        """Move the clock forward (what `env.sleep` does)."""
        self._next += max(float(seconds), 0.0)


class ProcessState:
    """What belongs to one simulated process beyond its ports' data: whether a fault killed it (then every
    port of the process raises `ProcessKilled` again, so nothing the kernel runs while unwinding - a
    `finally:` - changes the world, as after a real SIGKILL), its `remember`/`recall` memory, and the
    kernel modules registered in its `sys.modules` under a name of their own (`modules`: name -> file;
    "proto_kernel" once the entry script or the kernel's `call_main` put the kernel there)."""

    def __init__(self):
        self.killed: Optional[str] = None
        self.memory: Dict[str, Any] = {}
        self.modules: Dict[str, str] = {}

    def kill(self, where: str) -> ProcessKilled:
        if self.killed is None:
            self.killed = where
        return ProcessKilled(where)

    def check(self) -> None:
        if self.killed is not None:
            raise ProcessKilled("%s (the process is dead; this port call came after the kill)" % self.killed)


class PidCounter:
    """Hands out fake pids, increasing from `FIRST_FAKE_PID`, one per simulated process."""

    def __init__(self, first: int = FIRST_FAKE_PID):
        self._next = first

    def allocate(self) -> int:
        pid = self._next
        self._next += 1
        return pid


@dataclass
class OutputStreams:
    """What the processes of one run wrote, in order, as a terminal would show it."""

    stdout: List[str] = field(default_factory=list)
    stderr: List[str] = field(default_factory=list)

    def stdout_text(self) -> str:
        return "".join(self.stdout)

    def stderr_text(self) -> str:
        return "".join(self.stderr)


class FakeEnvironment(ProcessEnv):
    """Environment port: the variables, argv and cwd of one simulated process and its interpreter's facts.

    `variables` is owned by this object (a copy of what it was given); `argv` is `sys.argv` as the
    process sees it (argv[0] = the script as invoked, or the module file under `-m`).
    """

    def __init__(
        self,
        variables: Dict[str, str],
        argv: List[str],
        cwd: str,
        interpreter: RunningInterpreter,
        kernel_path: Optional[str],
        pid: int,
        clock: FakeClock,
        streams: OutputStreams,
        tty: bool = False,
        isolated: bool = False,
        state: Optional[ProcessState] = None,
        sleep_hook: Optional[Callable[[float], None]] = None,
    ):
        ProcessEnv.__init__(self, variables, argv, cwd, interpreter.executable, interpreter.prefix,
                            interpreter.base_prefix, interpreter.version_info, kernel_path, isolated, streams)
        self.interpreter = interpreter
        self._pid = pid
        self._clock = clock
        self._tty = tty
        self.state = state if state is not None else ProcessState()
        self._sleep_hook = sleep_hook

    @property
    def pid(self):
        return self._pid

    def now(self):
        return self._clock.now()

    def write_stdout(self, text):
        self.state.check()
        ProcessEnv.write_stdout(self, text)

    def write_stderr(self, text):
        self.state.check()
        ProcessEnv.write_stderr(self, text)

    def stderr_is_tty(self):
        return self._tty

    def terminal_width(self):
        """Like shutil.get_terminal_size: $COLUMNS when it is a positive number, else 80."""
        columns = self._variables.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else 80

    def enable_site(self):
        """Client code's imports are simulated (world mains), so there is no site to load."""

    def sleep(self, seconds):
        """Advance the fake clock; a simulated concurrent lock holder may finish its work here (see
        protoprimer_harness._session_state)."""
        self.state.check()
        self._clock.advance(seconds)
        if self._sleep_hook is not None:
            self._sleep_hook(seconds)

    def unset(self, name):
        self.state.check()
        ProcessEnv.unset(self, name)

    def remember(self, key, value):
        """Keep `value` for the life of this simulated process (any kernel module in it recalls it)."""
        self.state.check()
        self.state.memory[key] = value

    def recall(self, key, default=None):
        """As the real adapter: a value remembered as None counts as absent."""
        value = self.state.memory.get(key)
        return default if value is None else value
