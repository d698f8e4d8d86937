"""Recorded tapes: the port traffic of one real kernel process, recorded once and replayed strictly.

This module is the tapes' public face: what a collected tape does in each mode (`check_tape`), the names
users import, and the command line (`python -m protoprimer_harness.tape ...`, `protoprimer_harness._tape_cli`).
The work is done below it, each module importing only the ones listed after it:

- `_tape_cli`: the command line (record-all, replay, drift, list);
- `tape_recipes`: the recipes of the committed tapes and the real repos they are recorded in;
- `_tape_drift`: whether a real run today still makes a tape's calls;
- `_tape_record`: recording one real process (every call performed for real and written down);
- `_tape_replay`: replaying a tape against the kernel (every call must be the next step, or `TapeMismatch`);
- `_tape_host`: what recording and replay share (the taped host's ports, `TapeRun`);
- `_tape_modes`: the modes ("replay", "rewrite") and how one is chosen;
- `_tape_format`: the file format; `_tape_errors`: the errors.

    from protoprimer_harness.tape import replay_tape
    run = replay_tape("scenarios/tapes/eval_json.tape.toml")
    run.exit_code, run.stdout

Modes (`--protoprimer-tape-mode` / PROTOPRIMER_TAPE_MODE): "replay" (the default: never records; a
missing tape is an error that says how to record it) and "rewrite" (re-record the tape from its recipe,
replacing it, then replay it). docs/tapes.md has the format, the recipes and the limits.
"""

import sys
from typing import Optional

from ._tape_cli import main
from ._tape_drift import call_sequence, drift_report
from ._tape_errors import (TapeError, TapeMismatch, TapeMissing, TapeModeError, TapeOutcomeMismatch,
                          TapeReplayFailure, TapeUnconsumed, TapeUnsupported)
from ._tape_format import TapeFormatError
from ._tape_host import TapeRun
from ._tape_modes import (DEFAULT_MODE, MODE_ENV_VAR, MODE_OPTION, TAPE_MODES, resolve_tape_mode,
                         validate_tape_mode)
from .tape_recipes import rerecord_tape
from ._tape_record import RecordedProcess, record_tape
from ._tape_replay import replay_tape

__all__ = [
    "DEFAULT_MODE", "MODE_ENV_VAR", "MODE_OPTION", "TAPE_MODES", "RecordedProcess", "TapeError", "TapeFormatError",
    "TapeMismatch", "TapeMissing", "TapeModeError", "TapeOutcomeMismatch", "TapeReplayFailure", "TapeRun",
    "TapeUnconsumed", "TapeUnsupported", "call_sequence", "check_tape", "drift_report", "record_tape",
    "replay_tape", "resolve_tape_mode", "validate_tape_mode",
]


def check_tape(path: str, mode: Optional[str] = None, wheelhouse: Optional[str] = None,
               display: Optional[str] = None) -> TapeRun:
    """What a collected tape does: in "replay" mode replay it; in "rewrite" mode re-record it from its
    recipe (replacing the file), then replay the new tape. `mode` None: resolve_tape_mode()."""
    mode = validate_tape_mode(mode) if mode is not None else resolve_tape_mode()
    if mode == "rewrite":
        rerecord_tape(path, wheelhouse=wheelhouse)
    return replay_tape(path, mode=mode, display=display)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
