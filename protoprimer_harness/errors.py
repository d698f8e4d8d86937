"""Exceptions of the harness.

Two families, on purpose:

- `SimulationSignal` derives from `BaseException`. These are raised *inside* simulated code (from a fake
  port the kernel called) and must travel through the kernel untouched: the kernel turns any `Exception`
  into an "internal error" exit, but never catches `BaseException`. Either they end a simulated process
  (`ProcessReplaced`) or they stop the whole run because the world cannot simulate what the kernel asked
  for (`UnknownCommandError`, `UnknownMainError`, `UnsupportedProgramError`).
- `HarnessError` derives from `Exception`. It is raised by the harness itself, outside simulated code
  (a bad world, a restart loop), where nothing could misread it.
"""


class HarnessError(Exception):
    """The world or the run request is wrong, or the simulation went somewhere it must not."""


class RestartLoopError(HarnessError):
    """The chain of simulated processes grew past the run's bound; the message lists the chain."""


class SimulationSignal(BaseException):
    """Base of the signals raised inside simulated code; the kernel never catches these."""


class ProcessReplaced(SimulationSignal):
    """The simulated process called `replace` (execve): it ends here and `argv`/`env` start the next one.

    `launch` is the harness's reading of `argv` (which interpreter, which program, or which shell), already
    checked to be startable when the signal is raised; `fault` is the fault point (a `FaultSpec`) that
    matched the new command line, if any: the runner applies it to the new process.
    """

    def __init__(self, argv, env, launch=None, fault=None):
        super().__init__("process replaced by %r" % (list(argv),))
        self.argv = list(argv)
        self.env = dict(env)
        self.launch = launch
        self.fault = fault


class UnknownCommandError(SimulationSignal):
    """A command the fake process port does not simulate; the message lists what it does simulate."""


class UnknownMainError(SimulationSignal):
    """`call_main` named a `module:func` the world does not define; the message lists the defined ones."""


class UnsupportedProgramError(SimulationSignal):
    """A simulated interpreter was asked to run a file that is neither a kernel file nor an entry script."""


class ProcessKilled(SimulationSignal):
    """A fault point killed the simulated process (SIGKILL): the whole run ends with exit 137 and
    `Outcome.killed`, the fake filesystem left as it is. Once raised, every port of that process raises it
    again, so no `finally:` of the kernel can change the world after the kill (a real SIGKILL runs none)."""

    def __init__(self, where):
        super().__init__("killed %s" % where)
        self.where = where


class LockWaitError(SimulationSignal):
    """The simulated process kept sleeping while a lock stayed held by a simulated live process that never
    releases it (`World.hold_lock(..., finish=None)`): the kernel would wait forever."""
