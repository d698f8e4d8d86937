"""Replay: the kernel run against a host that answers every call from a tape, strictly.

Each call must equal the next unconsumed step (port, op, normalised args), or the replay stops with
`TapeMismatch` (the tape, the mode, the call, the nearest recorded steps and what differed); steps left
over when the process ends fail with `TapeUnconsumed`; a run that ends otherwise than the recording
fails with `TapeOutcomeMismatch`. Nothing touches the machine, so a replay takes milliseconds.
"""

import difflib
import json
import os
from typing import Any, Dict, List, Optional, Tuple

from .errors import ProcessReplaced
from ._tape_errors import TapeMismatch, TapeMissing, TapeOutcomeMismatch, TapeUnconsumed
from ._tape_format import (Tape, canonical_args, describe_call, fake_placeholders, load_tape, redact_call,
                          render_args)
from ._tape_host import Stop, Streams, TapeRun, decode_error, default_kernel, entry_of, port_signatures, run_entry
from ._tape_modes import DEFAULT_MODE, RECORD_HINT, rewrite_hint


# The matchers, in the order they are reported: each returns None, or why the call does not match.

def _match_port(step: Dict[str, Any], call: Tuple[str, str, List[Any]]) -> Optional[str]:
    return None if step["port"] == call[0] else "port %s, recorded %s" % (call[0], step["port"])


def _match_op(step: Dict[str, Any], call: Tuple[str, str, List[Any]]) -> Optional[str]:
    return None if step["op"] == call[1] else "op %s, recorded %s" % (call[1], step["op"])


def _match_args(step: Dict[str, Any], call: Tuple[str, str, List[Any]]) -> Optional[str]:
    if step["args"] == call[2]:
        return None
    if len(step["args"]) != len(call[2]):
        return "%d args, recorded %d" % (len(call[2]), len(step["args"]))
    differing = [str(i) for i, (a, b) in enumerate(zip(step["args"], call[2])) if a != b]
    return "arg %s differ%s" % (", ".join(differing), "s" if len(differing) == 1 else "")


MATCHERS = (("port", _match_port), ("op", _match_op), ("args", _match_args))


def _similarity(step: Dict[str, Any], call: Tuple[str, str, List[Any]]) -> float:
    score = 0.0
    if step["port"] == call[0]:
        score += 1
    if step["op"] == call[1]:
        score += 2
    a = json.dumps(step["args"], ensure_ascii=False, sort_keys=True)[:2000]
    b = json.dumps(call[2], ensure_ascii=False, sort_keys=True)[:2000]
    return score + difflib.SequenceMatcher(None, a, b).ratio() * 2


class _Player:
    """Answers each call with the next step of the tape, or stops the replay with a TapeMismatch."""

    def __init__(self, tape: Tape, path: str, mode: str, kernel):
        self.tape = tape
        self.path = path
        self.mode = mode
        self.kernel = kernel
        self.signatures = port_signatures(kernel)
        self.placeholders = fake_placeholders(tape.placeholders)
        self.streams = Streams()
        self.cursor = 0
        self.failure: Optional[Exception] = None
        process = tape.process
        expand = self.placeholders.expand
        self.facts = {
            "argv": expand(process["argv"]),
            "cwd": expand(process["cwd"]),
            "executable": expand(process["executable"]),
            "prefix": expand(process["prefix"]),
            "base_prefix": expand(process["base_prefix"]),
            "version": tuple(process["version"]),
            "kernel_path": expand(process["kernel_path"]),
            "pid": process["pid"],
            "isolated": bool(process["isolated"]),
        }

    def fact(self, name: str) -> Any:
        if name == "cwd":
            return lambda: self.facts["cwd"]
        value = self.facts[name]
        return list(value) if isinstance(value, list) else value

    def call(self, port: str, op: str, signature, args, kwargs) -> Any:
        if self.failure is not None:
            raise Stop(self.failure)
        canon = canonical_args(signature, args, kwargs)
        call = (port, op, self.placeholders.normalise(redact_call(port, op, canon)))
        steps = self.tape.steps
        step = steps[self.cursor] if self.cursor < len(steps) else None
        if step is None or any(matcher(step, call) for _, matcher in MATCHERS):
            self.failure = self._mismatch(call, step)
            raise Stop(self.failure)
        self.cursor += 1
        return self._answer(port, op, step, args, kwargs, signature)

    def _answer(self, port: str, op: str, step: Dict[str, Any], args, kwargs, signature) -> Any:
        expand = self.placeholders.expand
        if "error" in step:
            raise decode_error(expand(step["error"]), self.kernel)
        if port == "proc" and op == "replace":
            bound = signature.bind(None, *args, **kwargs)
            raise ProcessReplaced(bound.arguments["argv"], bound.arguments["env"])
        if port == "env" and op in ("write_stdout", "write_stderr"):
            bound = signature.bind(None, *args, **kwargs)
            (self.streams.stdout if op == "write_stdout" else self.streams.stderr).append(bound.arguments["text"])
            return None
        result = expand(step.get("result"))
        if port == "proc" and op == "run":
            bound = signature.bind(None, *args, **kwargs)
            result = result or {}
            if "streamed_stdout" in result:
                self.streams.stdout.append(result.get("streamed_stdout", ""))
                self.streams.stderr.append(result.get("streamed_stderr", ""))
            return self.kernel.RunResult(bound.arguments["argv"], result.get("returncode", 0),
                                         result.get("stdout", ""), result.get("stderr", ""))
        return result

    def _mismatch(self, call: Tuple[str, str, List[Any]], step: Optional[Dict[str, Any]]) -> TapeMismatch:
        steps = self.tape.steps
        index = self.cursor
        lines = ["%s (mode %s): call #%d of the replay does not match the tape." % (self.path, self.mode, index),
                 "  the call:    %s" % describe_call(*call)]
        if step is None:
            lines.append("  the tape has no step #%d: it ends after %d steps (the recorded process made no more "
                         "calls here)" % (index, len(steps)))
        else:
            lines.append("  step #%-4d  %s" % (index, describe_call(step["port"], step["op"], step["args"])))
            lines.append("  what differed: %s" % "; ".join(
                "%s (%s)" % (name, why) for name, why in
                ((name, matcher(step, call)) for name, matcher in MATCHERS) if why))
        ranked = sorted(range(len(steps)), key=lambda i: (-_similarity(steps[i], call), abs(i - index)))[:3]
        lines.append("the nearest recorded steps:")
        for i in ranked:
            failed = [name for name, matcher in MATCHERS if matcher(steps[i], call)]
            where = ("already consumed" if i < index else "the next step" if i == index else
                     "not reached yet: the run skipped steps #%d-#%d" % (index, i - 1) if i > index + 1 else
                     "right after the next step")
            verdict = "matches" if not failed else "%s differ%s" % (
                " and ".join(failed), "s" if failed in (["port"], ["op"]) else "")
            lines.append("  #%-4d %s  [%s; %s]" % (i, describe_call(steps[i]["port"], steps[i]["op"],
                                                                     steps[i]["args"], 110), verdict, where))
        if step is not None and step["port"] == call[0] and step["op"] == call[1] and step["args"] != call[2]:
            diff = difflib.unified_diff(render_args(step["args"]), render_args(call[2]),
                                        "step #%d (recorded)" % index, "the call (replayed)", lineterm="", n=2)
            lines.append("args diff:")
            lines.extend("  " + line for line in diff)
        lines.append(rewrite_hint(self.path))
        return TapeMismatch("\n".join(lines), call, index)


def replay_tape(path: str, mode: str = DEFAULT_MODE, kernel: Any = None, tape: Optional[Tape] = None,
                display: Optional[str] = None) -> TapeRun:
    """Replay the tape at `path` with the kernel (default: protoprimer.primer_kernel). Returns how the
    process ended; raises TapeMismatch, TapeUnconsumed or TapeOutcomeMismatch when the kernel and the tape
    disagree, TapeMissing when there is no tape file, TapeFormatError when it cannot be read. Messages
    name the tape as `display` (default: `path`)."""
    kernel = kernel or default_kernel()
    if tape is None:
        if not os.path.exists(path):
            raise TapeMissing("%s: no such tape (mode %s never records): %s" % (display or path, mode, RECORD_HINT))
        tape = load_tape(path)
    path = display or path
    entry = entry_of(tape.process["entry"])
    player = _Player(tape, path, mode, kernel)
    exit_code, replaced, seconds = run_entry(kernel, player, entry)
    if player.failure is not None:  # the kernel swallowed a stop (it must not: a bug to report)
        raise player.failure
    run = TapeRun(
        path=path, mode=mode, exit_code=exit_code,
        replaced_argv=list(replaced.argv) if replaced else None,
        replaced_env=dict(replaced.env) if replaced else None,
        stdout="".join(player.streams.stdout), stderr="".join(player.streams.stderr),
        steps=player.cursor, seconds=seconds,
    )
    left = list(range(player.cursor, len(tape.steps)))
    if left:
        shown = left[:15]
        lines = ["%s (mode %s): the process ended (%s) after step #%d, but the tape has %d more step%s that the "
                 "replay never made:" % (path, mode, run.ended, player.cursor - 1, len(left),
                                         "" if len(left) == 1 else "s")]
        lines += ["  #%-4d %s" % (i, describe_call(tape.steps[i]["port"], tape.steps[i]["op"], tape.steps[i]["args"]))
                  for i in shown]
        if len(left) > len(shown):
            lines.append("  ... and %d more" % (len(left) - len(shown)))
        lines.append(rewrite_hint(path))
        raise TapeUnconsumed("\n".join(lines), left)
    recorded = tape.outcome
    expected = "replaced" if recorded.get("replaced") else "exit %s" % recorded.get("exit_code")
    if expected != run.ended:
        raise TapeOutcomeMismatch("%s (mode %s): every step matched, but the replay ended with %s and the "
                                  "recording with %s\n--- replay stderr\n%s" % (path, mode, run.ended, expected,
                                                                                run.stderr))
    return run
