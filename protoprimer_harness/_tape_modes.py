"""The tape modes: their names, how one is chosen (`--protoprimer-tape-mode`, else $PROTOPRIMER_TAPE_MODE,
else "replay"), and the hints that tell a user how to record. What each mode does with a collected tape
is `protoprimer_harness.tape.check_tape`.
"""

import os
from typing import Dict, Optional

from ._tape_errors import TapeModeError

MODE_ENV_VAR = "PROTOPRIMER_TAPE_MODE"
MODE_OPTION = "--protoprimer-tape-mode"
DEFAULT_MODE = "replay"
TAPE_MODES = {
    "replay": "replay the tape; never record (a missing tape is an error)",
    "rewrite": "re-record the tape from its recipe, replacing it, then replay it",
}
# The command line of the tape tools (protoprimer_harness._tape_cli, run through `python -m protoprimer_harness.tape`).
RECORD_COMMAND = "venv/bin/python -m protoprimer_harness.tape"
RECORD_HINT = ("record it with `%s record-all scenarios/tapes` (or `--only NAME`), " % RECORD_COMMAND +
               "or re-record a tape in place with `pytest %s=rewrite <tape>`" % MODE_OPTION)


def resolve_tape_mode(option: Optional[str] = None, environ: Optional[Dict[str, str]] = None) -> str:
    """The tape mode: the pytest option when given, else $PROTOPRIMER_TAPE_MODE, else "replay". A value
    that is not a mode is a `TapeModeError` listing the valid ones (never a silent fallback)."""
    environ = os.environ if environ is None else environ
    if option is not None:
        return validate_tape_mode(option, "the %s option" % MODE_OPTION)
    value = environ.get(MODE_ENV_VAR)
    if value is not None:
        return validate_tape_mode(value, "$%s" % MODE_ENV_VAR)
    return DEFAULT_MODE


def validate_tape_mode(value: str, source: str = "the tape mode") -> str:
    mode = value.strip().lower()
    if mode not in TAPE_MODES:
        valid = "; ".join("%s: %s" % (name, what) for name, what in TAPE_MODES.items())
        raise TapeModeError("%s is %r, which is not a tape mode. Valid modes: %s (default: %s)"
                            % (source, value, valid, DEFAULT_MODE))
    return mode


def rewrite_hint(path: str) -> str:
    """The line that ends a replay failure: how to re-record the tape in place."""
    return "If the kernel changed on purpose, re-record the tape: pytest %s=rewrite %s" % (MODE_OPTION, path)
