"""What can go wrong with a tape: it cannot be recorded or used as asked (`TapeError` and its kinds), or
the kernel and the tape disagree on replay (`TapeReplayFailure` and its kinds: assertion failures, so
pytest shows them as failed tests). The lowest of the tape modules: it imports only the harness errors.
"""

from typing import Any, List, Tuple

from .errors import HarnessError


class TapeError(HarnessError):
    """A tape cannot be recorded or used as asked (bad arguments, a missing recipe, ...)."""


class TapeModeError(TapeError):
    """The tape mode is not one of TAPE_MODES; the message lists the valid ones."""


class TapeMissing(TapeError):
    """Replay mode and no tape file: the message says how to record it (replay never records)."""


class TapeUnsupported(TapeError):
    """The recorded process made a call a tape cannot hold (client code in-process, importing the installed
    kernel): record a chain's first process or a one-process run instead."""


class TapeReplayFailure(AssertionError):
    """Base of the replay failures: the tape and the kernel disagree (re-record, or fix the kernel)."""


class TapeMismatch(TapeReplayFailure):
    """A port call that is not the next step of the tape. `call` is its (port, op, args); `index` the
    step it was compared with; the message has the nearest recorded steps and what differed."""

    def __init__(self, message: str, call: Tuple[str, str, List[Any]], index: int):
        super().__init__(message)
        self.call = call
        self.index = index


class TapeUnconsumed(TapeReplayFailure):
    """The process ended before the tape did: `steps` are the indexes of the steps it never made."""

    def __init__(self, message: str, steps: List[int]):
        super().__init__(message)
        self.steps = steps


class TapeOutcomeMismatch(TapeReplayFailure):
    """Every step matched but the process ended differently (another exit code)."""
