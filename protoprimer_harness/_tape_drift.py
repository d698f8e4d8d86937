"""Drift: whether a real run today, from the same recipe, still makes the calls a committed tape holds.

`call_sequence` reduces a tape to comparable lines (port, op, args with what varies from run to run
masked); `drift_report` compares two tapes' sequences and how they ended. The integration tier
(tests/integration/test_tape_drift.py) and `python -m protoprimer_harness.tape drift` re-record and compare.
"""

import difflib
import json
import re
from typing import List, Optional

from ._tape_format import Tape
from ._tape_modes import RECORD_COMMAND


_VOLATILE = (
    (re.compile(r"\d{8}T\d{6}Z"), "{time}"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?"), "{time}"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z?"), "{time}"),
    (re.compile(r"\b\d+:\d+:\d+\b"), "{signature}"),
    (re.compile(r"\b\d+\.\d+ ?s\b"), "{seconds}"),
)


def call_sequence(tape: Tape) -> List[str]:
    """The tape's steps as comparable lines: port, op and args, with what varies from one real run to the
    next masked (the pid, times, file signatures, the interpreter's version). Results are not included:
    pip's output, timestamps and the like differ by machine and run."""
    version = [str(part) for part in tape.process.get("version", [])]
    masks = list(_VOLATILE)
    pid = tape.process.get("pid")
    if pid:
        masks.insert(0, (re.compile(r"(?<!\d)%d(?!\d)" % pid), "{pid}"))
    if len(version) >= 2:
        masks.append((re.compile(r"(?<![\d.])%s(?![\d])" % re.escape(".".join(version[:3]))), "{py}"))
        masks.append((re.compile(r"(?<![\d.])%s(?![\d])" % re.escape(".".join(version[:2]))), "{py_short}"))

    def mask(text: str) -> str:
        for regex, token in masks:
            text = regex.sub(token, text)
        return text

    lines = []
    for step in tape.steps:
        args = json.dumps(step["args"], ensure_ascii=False, sort_keys=True)
        lines.append("%s.%s %s" % (step["port"], step["op"], mask(args)))
    return lines


def drift_report(committed: Tape, fresh: Tape, name: str = "") -> Optional[str]:
    """None when the fresh recording makes the committed tape's calls (port, op, masked args) in the same
    order and ends the same way; else a readable unified diff naming the tape."""
    old, new = call_sequence(committed), call_sequence(fresh)
    ended = [("replaced" if t.outcome.get("replaced") else "exit %s" % t.outcome.get("exit_code")) for t in
             (committed, fresh)]
    if old == new and ended[0] == ended[1]:
        return None
    lines = ["tape %s drifted: a real run today %s." % (
        name or committed.title,
        "ends differently (%s, the tape: %s)" % (ended[1], ended[0]) if old == new else
        "makes other calls than the tape (%d steps, the tape %d)" % (len(new), len(old)))]
    for line in difflib.unified_diff(old, new, "committed tape", "real run now", lineterm="", n=2):
        lines.append(line if len(line) < 400 else line[:400] + " ...")
    recipe = (committed.recipe or {}).get("name") or name or "NAME"
    lines.append("re-record it: %s record-all scenarios/tapes --only %s" % (RECORD_COMMAND, recipe))
    return "\n".join(lines)
