"""Recorded tapes: the port traffic of one real kernel process, recorded once and replayed strictly.

Recording runs the kernel in this Python process with a recording host,
`Host(RecordingFs(real fs), RecordingProc(real proc), RecordingEnv(real env with the recorded process's
facts))`: every call is performed for real (files in a real temporary repo, real subprocesses: probes,
`python -m venv`, pip) and written down with its result or the exception it raised. `proc.replace` is
not performed: it is the tape's last step and ends the recording (a tape covers one process: a chain's
first process, or a one-process run such as eval).

Replay runs the kernel against a host that answers every call from the tape: each call must equal the
next unconsumed step (port, op, normalised args), or the replay stops with `TapeMismatch` (the tape, the
mode, the call, the nearest recorded steps and what differed); steps left over when the process ends
fail with `TapeUnconsumed`. Nothing touches the machine, so a replay takes milliseconds.

    from protoprimer_harness.tape import replay_tape
    run = replay_tape("scenarios/tapes/eval_json.tape.toml")
    run.exit_code, run.stdout

Modes (`--protoprimer-tape-mode` / PROTOPRIMER_TAPE_MODE): "replay" (the default: never records; a
missing tape is an error that says how to record it) and "rewrite" (re-record the tape from its recipe,
replacing it, then replay it). The format is in protoprimer_harness.tape_format; the recipes of the committed tapes,
and the repos they are recorded in, in protoprimer_harness.tape_recipes; the command line is `python -m protoprimer_harness.tape`.
"""

import builtins
import difflib
import inspect
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .errors import HarnessError, ProcessReplaced, SimulationSignal
from .tape_format import (ENV_FACTS, Placeholders, Tape, TapeFormatError, canonical_args, describe_call,
                          fake_placeholders, load_tape, placeholder_definitions, plain, redact_call, redact_env,
                          redact_result, render_args, save_tape)

__all__ = [
    "MODE_ENV_VAR", "MODE_OPTION", "TAPE_MODES", "RecordedProcess", "TapeError", "TapeFormatError", "TapeMismatch",
    "TapeMissing", "TapeModeError", "TapeOutcomeMismatch", "TapeRun", "TapeUnconsumed", "TapeUnsupported",
    "call_sequence", "check_tape", "drift_report", "record_tape", "replay_tape", "resolve_tape_mode",
]

# region: modes

MODE_ENV_VAR = "PROTOPRIMER_TAPE_MODE"
MODE_OPTION = "--protoprimer-tape-mode"
DEFAULT_MODE = "replay"
TAPE_MODES = {
    "replay": "replay the tape; never record (a missing tape is an error)",
    "rewrite": "re-record the tape from its recipe, replacing it, then replay it",
}
RECORD_HINT = ("record it with `venv/bin/python -m protoprimer_harness.tape record-all scenarios/tapes` (or `--only NAME`), "
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


# endregion: modes

# region: errors


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


class _Stop(SimulationSignal):
    """Carries a tape failure through the kernel (which never catches BaseException) to the caller."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


# endregion: errors

# region: shared


def _kernel():
    from protoprimer import primer_kernel

    return primer_kernel


def _signatures(kernel) -> Dict[str, Dict[str, inspect.Signature]]:
    """(port -> op -> signature) of the real adapters: the canonical form of a call follows them."""
    out = {}
    for port, cls in (("fs", kernel.RealFileSystem), ("proc", kernel.RealProcesses),
                      ("env", kernel.RealEnvironment)):
        ops = {}
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member) and not isinstance(member, property):
                ops[name] = inspect.signature(member)
        out[port] = ops
    return out


UNSUPPORTED_OPS = {
    ("proc", "call_main"): "client code runs in-process here",
    ("proc", "import_module"): "the process imports a module (the installed kernel) to run its code",
    ("proc", "load_file_function"): "the process loads and runs a Python file (a python selector script)",
    ("proc", "find_module_file"): "the answer depends on the recording interpreter's sys.path",
}


def _entry_of(value: Union[str, Sequence[str]]) -> Union[str, List[str]]:
    if value == "main":
        return "main"
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] in ("boot_env", "start_app"):
        return [str(value[0]), str(value[1])]
    raise TapeError('entry must be "main", ("boot_env", "module:func") or ("start_app", "module:func"), '
                    "not %r" % (value,))


def _call_entry(kernel, host, entry) -> Tuple[Optional[int], Optional[ProcessReplaced]]:
    """Run the kernel's entry in-process: (exit code, None) or (None, the replacement)."""
    try:
        if entry == "main":
            kernel.main(host=host)
        elif entry[0] == "boot_env":
            kernel.boot_env(entry[1], host=host)
        else:
            kernel.start_app(entry[1], host=host)
    except SystemExit as e:
        code = e.code
        return (0 if code is None else code if isinstance(code, int) else 1), None
    except ProcessReplaced as replaced:
        return None, replaced
    return 0, None


class _Streams:
    def __init__(self):
        self.stdout: List[str] = []
        self.stderr: List[str] = []


def _encode_error(error: BaseException) -> Dict[str, Any]:
    out: Dict[str, Any] = {"type": type(error).__name__}
    if isinstance(error, OSError) and error.errno is not None:
        out["errno"] = error.errno
        out["strerror"] = error.strerror
        if error.filename is not None:
            out["filename"] = str(error.filename)
        if getattr(error, "filename2", None) is not None:
            out["filename2"] = str(error.filename2)
    elif isinstance(error, UnicodeDecodeError):
        out["args"] = [error.encoding, error.object.hex(), error.start, error.end, error.reason]
    else:
        out["args"] = [plain(arg) for arg in error.args]
    return out


def _decode_error(data: Dict[str, Any], kernel) -> BaseException:
    name = data.get("type", "")
    cls = getattr(builtins, name, None) or getattr(kernel, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return TapeError("the tape records an exception %s that this harness cannot raise again" % name)
    if "errno" in data:
        return cls(data["errno"], data.get("strerror"), data.get("filename"), None, data.get("filename2"))
    args = list(data.get("args", []))
    if cls is UnicodeDecodeError and len(args) == 5:
        args[1] = bytes.fromhex(args[1])
    return cls(*args)


# endregion: shared

# region: recording


@dataclass
class RecordedProcess:
    """The facts of the process a recording stands for (what the kernel reads from the env port)."""

    argv: List[str]
    cwd: str
    variables: Dict[str, str]
    kernel_path: str
    executable: str
    prefix: str
    base_prefix: str
    version: Tuple[int, int, int]
    isolated: bool = False


class ProcessEnvironment:
    """The real environment port with the recorded process's facts in place of this process's own: its
    argv, cwd, variables (a private copy: `unset` does not touch os.environ), interpreter facts and
    kernel path; output is captured; memory is private; the clock, sleep and pid are real."""

    def __init__(self, real_env: Any, process: RecordedProcess, streams: _Streams):
        self._real = real_env
        self._process = process
        self._variables = dict(process.variables)
        self._memory: Dict[str, Any] = {}
        self._streams = streams

    def get(self, name, default=None):
        return self._variables.get(name, default)

    def variables(self):
        return dict(self._variables)

    @property
    def argv(self):
        return list(self._process.argv)

    def cwd(self):
        return self._process.cwd

    @property
    def executable(self):
        return self._process.executable

    @property
    def prefix(self):
        return self._process.prefix

    @property
    def base_prefix(self):
        return self._process.base_prefix

    @property
    def version(self):
        return tuple(self._process.version)

    @property
    def kernel_path(self):
        return self._process.kernel_path

    @property
    def pid(self):
        return self._real.pid

    @property
    def isolated(self):
        return self._process.isolated

    def now(self):
        return self._real.now()

    def write_stdout(self, text):
        self._streams.stdout.append(text)

    def write_stderr(self, text):
        self._streams.stderr.append(text)

    def stderr_is_tty(self):
        return False

    def sleep(self, seconds):
        self._real.sleep(seconds)

    def unset(self, name):
        self._variables.pop(name, None)

    def remember(self, key, value):
        self._memory[key] = value

    def recall(self, key, default=None):
        value = self._memory.get(key)
        return default if value is None else value

    def terminal_width(self):
        return 80

    def enable_site(self):
        return None


class _Port:
    """One port of a recording or replaying host: facts pass through, every operation goes to the session."""

    def __init__(self, port: str, session: Any):
        self._port = port
        self._session = session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._port == "env" and name in ENV_FACTS:
            return self._session.fact(name)
        signature = self._session.signatures[self._port].get(name)
        if signature is None:
            raise AttributeError("the %s port has no operation %s" % (self._port, name))
        port = self._port

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._session.call(port, name, signature, args, kwargs)

        call.__name__ = name
        return call


class RecordingFs(_Port):
    def __init__(self, session: "_Recorder"):
        super().__init__("fs", session)


class RecordingProc(_Port):
    def __init__(self, session: "_Recorder"):
        super().__init__("proc", session)


class RecordingEnv(_Port):
    def __init__(self, session: "_Recorder"):
        super().__init__("env", session)


class _Recorder:
    """Performs each call for real and writes it down (args and result normalised and redacted)."""

    def __init__(self, kernel, process: RecordedProcess, placeholders: Placeholders, streams: _Streams):
        self.kernel = kernel
        self.signatures = _signatures(kernel)
        self.placeholders = placeholders
        self.streams = streams
        self.fs = kernel.RealFileSystem()
        self.proc = kernel.RealProcesses()
        self.env = ProcessEnvironment(kernel.RealEnvironment(), process, streams)
        self.steps: List[Dict[str, Any]] = []
        self._locks: Dict[str, Any] = {}
        self.failure: Optional[Exception] = None

    def fact(self, name: str) -> Any:
        return getattr(self.env, name)

    def _normalise(self, value: Any) -> Any:
        self._check_literals(value)
        return self.placeholders.normalise(value)

    def _check_literals(self, value: Any) -> None:
        if isinstance(value, str):
            tokens = self.placeholders.literal_tokens(value)
            if tokens:
                raise TapeError("a recorded value contains %s literally; a tape could not tell it from a "
                                "placeholder: %r" % (", ".join(tokens), value[:200]))
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._check_literals(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_literals(key)
                self._check_literals(item)

    def call(self, port: str, op: str, signature, args, kwargs) -> Any:
        if self.failure is not None:
            raise _Stop(self.failure)
        if (port, op) in UNSUPPORTED_OPS:
            self.failure = TapeUnsupported(
                "the recorded process called %s.%s: %s, which a tape cannot hold (a tape covers a chain's "
                "first process or a one-process run)" % (port, op, UNSUPPORTED_OPS[(port, op)]))
            raise _Stop(self.failure)
        canon = redact_call(port, op, canonical_args(signature, args, kwargs))
        step: Dict[str, Any] = {"port": port, "op": op, "args": self._normalise(canon)}
        self.steps.append(step)  # before performing it: calls it makes (callbacks) come after it
        try:
            result = self._perform(port, op, signature, args, kwargs)
        except Exception as e:
            step["error"] = self._normalise(_encode_error(e))
            raise
        encoded = self._encode_result(port, op, canon, result)
        if encoded is not None:
            step["result"] = encoded
        return result

    def _perform(self, port: str, op: str, signature, args, kwargs) -> Any:
        if port == "proc" and op == "run":
            bound = signature.bind(None, *args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            env = a["env"] if a["env"] is not None else self.env.variables()
            cwd = a["cwd"] if a["cwd"] is not None else self.env.cwd()
            # ticks depend on timing: not recorded, not replayed; streamed output is captured instead
            result = self.proc.run(a["argv"], env=env, cwd=cwd, stream=False, on_tick=None)
            if a["stream"]:
                self.streams.stdout.append(result.stdout)
                self.streams.stderr.append(result.stderr)
                streamed = self.kernel.RunResult(a["argv"], result.returncode, "", "")
                streamed._tape_streamed = (result.stdout, result.stderr)  # type: ignore[attr-defined]
                return streamed
            return result
        if port == "proc" and op == "replace":
            bound = signature.bind(None, *args, **kwargs)
            raise ProcessReplaced(bound.arguments["argv"], bound.arguments["env"])
        if port == "proc" and op == "try_lock":
            handle = self.proc.try_lock(*args, **kwargs)
            if handle is None:
                return None
            token = "lock-%d" % (len(self._locks) + 1)
            self._locks[token] = handle
            return token
        if port == "proc" and op == "unlock":
            bound = signature.bind(None, *args, **kwargs)
            return self.proc.unlock(self._locks.pop(bound.arguments["handle"]))
        target = {"fs": self.fs, "proc": self.proc, "env": self.env}[port]
        return getattr(target, op)(*args, **kwargs)

    def _encode_result(self, port: str, op: str, canon: List[Any], result: Any) -> Any:
        if port == "proc" and op == "run":
            out = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            streamed = getattr(result, "_tape_streamed", None)
            if streamed is not None:
                out["streamed_stdout"], out["streamed_stderr"] = streamed
            return self._normalise(out)
        if result is None:
            return None
        return self._normalise(redact_result(port, op, canon, plain(result)))


def record_tape(
    path: Optional[str],
    repo: str,
    argv: Sequence[str],
    env: Dict[str, str],
    entry: Union[str, Sequence[str]] = "main",
    python: Optional[str] = None,
    cwd: Optional[str] = None,
    kernel_rel: str = "proto_kernel.py",
    executable: Optional[str] = None,
    isolated: bool = False,
    title: str = "",
    tmp: Optional[str] = None,
    recipe: Optional[Dict[str, Any]] = None,
    kernel: Any = None,
) -> Tuple[Tape, "TapeRun"]:
    """Record one real process of a run in the repo `repo` (a real directory holding the kernel copy at
    `kernel_rel`) and write its tape to `path` (None: do not write). Returns (the tape, how the run ended).

    The process is `argv` (its sys.argv, e.g. ["./prime", "eval"]) run by the interpreter `python` (its
    facts are asked of it; default: the interpreter running this recorder, outside any venv) with the
    complete environment `env`, in `cwd` (default: the repo); `executable` is its sys.executable as
    started (default: `python`), `entry` the kernel function the entry script calls. Placeholders: the
    repo -> {root}, `tmp` (default: the repo's parent) -> {tmp}, $HOME -> {home}, the interpreter's real
    file and prefix -> {python}, {python_prefix}.
    """
    kernel = kernel or _kernel()
    entry = _entry_of(entry)
    repo = os.path.abspath(repo)
    python = python or default_python()
    facts = interpreter_facts(python)
    process = RecordedProcess(
        argv=list(argv), cwd=os.path.abspath(cwd or repo), variables=dict(env),
        kernel_path=os.path.join(repo, kernel_rel), executable=executable or python,
        prefix=facts["prefix"], base_prefix=facts["base_prefix"], version=tuple(facts["version"]),
        isolated=isolated,
    )
    tmp = os.path.abspath(tmp or os.path.dirname(repo))
    real = {"tmp": tmp, "root": repo, "home": env.get("HOME") or "",
            "python_prefix": facts["real_prefix"], "python": facts["real_executable"]}
    real = dict((name, path.rstrip("/")) for name, path in real.items() if path and path != "/")
    concrete = dict((name, _aliases(path)) for name, path in real.items())
    placeholders = Placeholders(concrete)
    streams = _Streams()
    recorder = _Recorder(kernel, process, placeholders, streams)
    host = kernel.Host(RecordingFs(recorder), RecordingProc(recorder), RecordingEnv(recorder))
    started = time.perf_counter()
    try:
        exit_code, replaced = _call_entry(kernel, host, entry)
    except _Stop as stop:
        raise stop.error from None
    seconds = time.perf_counter() - started
    normalise = recorder._normalise
    process_table = {
        "argv": normalise(process.argv),
        "cwd": normalise(process.cwd),
        "entry": entry,
        "kernel_path": normalise(process.kernel_path),
        "executable": normalise(process.executable),
        "prefix": normalise(process.prefix),
        "base_prefix": normalise(process.base_prefix),
        "version": list(process.version),
        "isolated": process.isolated,
        "pid": kernel.RealEnvironment().pid,
        "env": normalise(redact_env(process.variables)),
    }
    outcome: Dict[str, Any] = {"replaced": True} if replaced is not None else {"exit_code": exit_code}
    outcome["stdout"] = normalise("".join(streams.stdout))
    outcome["stderr"] = normalise("".join(streams.stderr))
    tape = Tape(
        title=title or " ".join(argv),
        process=process_table,
        steps=recorder.steps,
        outcome=outcome,
        placeholders=placeholder_definitions(real),
        recipe=recipe,
        recorded_with="protoprimer %s, Python %s" % (kernel.__version__, ".".join(map(str, process.version))),
    )
    if path is not None:
        save_tape(tape, path)
    run = TapeRun(
        path=path or "", mode="record", exit_code=exit_code,
        replaced_argv=list(replaced.argv) if replaced else None,
        replaced_env=dict(replaced.env) if replaced else None,
        stdout="".join(streams.stdout), stderr="".join(streams.stderr),
        steps=len(recorder.steps), seconds=seconds,
    )
    return tape, run


def _aliases(path: str) -> List[str]:
    real = os.path.realpath(path)
    return [path] + ([real] if real != path else [])


def default_python() -> str:
    """The interpreter the recorder runs on, outside any venv: its base interpreter's file."""
    base = getattr(sys, "_base_executable", None)
    if base and os.path.isfile(base) and sys.prefix == sys.base_prefix:
        return sys.executable
    if base and os.path.isfile(base):
        return base
    short = "python%d.%d" % sys.version_info[:2]
    candidate = os.path.join(sys.base_prefix, "bin", short)
    return candidate if os.path.isfile(candidate) else sys.executable


def interpreter_facts(python: str) -> Dict[str, Any]:
    """version, prefix, base_prefix (as the interpreter says) and the real file and prefix of `python`."""
    import subprocess

    code = ("import json, os, sys; print(json.dumps({'version': list(sys.version_info[:3]), "
            "'prefix': sys.prefix, 'base_prefix': getattr(sys, 'base_prefix', sys.prefix), "
            "'real_executable': os.path.realpath(sys.executable), 'real_prefix': os.path.realpath(sys.prefix)}))")
    result = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise TapeError("cannot ask %s for its facts (exit %d): %s" % (python, result.returncode, result.stderr))
    return json.loads(result.stdout)


# endregion: recording

# region: replay


@dataclass
class TapeRun:
    """How a recorded or replayed process ended: `exit_code` (None when it replaced itself: then
    `replaced_argv`/`replaced_env`), what it wrote, how many steps it made, how long it took."""

    path: str
    mode: str
    exit_code: Optional[int]
    replaced_argv: Optional[List[str]] = None
    replaced_env: Optional[Dict[str, str]] = None
    stdout: str = ""
    stderr: str = ""
    steps: int = 0
    seconds: float = 0.0

    @property
    def ended(self) -> str:
        return "replaced" if self.exit_code is None else "exit %d" % self.exit_code

    def assert_exit(self, code: int) -> "TapeRun":
        assert self.exit_code == code, "%s: expected exit %d, the run ended with %s\n--- stderr\n%s" % (
            self.path, code, self.ended, self.stderr)
        return self


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
        self.signatures = _signatures(kernel)
        self.placeholders = fake_placeholders(tape.placeholders)
        self.streams = _Streams()
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
            raise _Stop(self.failure)
        canon = canonical_args(signature, args, kwargs)
        call = (port, op, self.placeholders.normalise(redact_call(port, op, canon)))
        steps = self.tape.steps
        step = steps[self.cursor] if self.cursor < len(steps) else None
        if step is None or any(matcher(step, call) for _, matcher in MATCHERS):
            self.failure = self._mismatch(call, step)
            raise _Stop(self.failure)
        self.cursor += 1
        return self._answer(port, op, step, args, kwargs, signature)

    def _answer(self, port: str, op: str, step: Dict[str, Any], args, kwargs, signature) -> Any:
        expand = self.placeholders.expand
        if "error" in step:
            raise _decode_error(expand(step["error"]), self.kernel)
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
        lines.append("If the kernel changed on purpose, re-record the tape: pytest %s=rewrite %s" % (
            MODE_OPTION, self.path))
        return TapeMismatch("\n".join(lines), call, index)


class ReplayFs(_Port):
    def __init__(self, player: _Player):
        super().__init__("fs", player)


class ReplayProc(_Port):
    def __init__(self, player: _Player):
        super().__init__("proc", player)


class ReplayEnv(_Port):
    def __init__(self, player: _Player):
        super().__init__("env", player)


def replay_tape(path: str, mode: str = DEFAULT_MODE, kernel: Any = None, tape: Optional[Tape] = None,
                display: Optional[str] = None) -> TapeRun:
    """Replay the tape at `path` with the kernel (default: protoprimer.primer_kernel). Returns how the
    process ended; raises TapeMismatch, TapeUnconsumed or TapeOutcomeMismatch when the kernel and the tape
    disagree, TapeMissing when there is no tape file, TapeFormatError when it cannot be read. Messages
    name the tape as `display` (default: `path`)."""
    kernel = kernel or _kernel()
    if tape is None:
        if not os.path.exists(path):
            raise TapeMissing("%s: no such tape (mode %s never records): %s" % (display or path, mode, RECORD_HINT))
        tape = load_tape(path)
    path = display or path
    entry = _entry_of(tape.process["entry"])
    player = _Player(tape, path, mode, kernel)
    host = kernel.Host(ReplayFs(player), ReplayProc(player), ReplayEnv(player))
    started = time.perf_counter()
    try:
        exit_code, replaced = _call_entry(kernel, host, entry)
    except _Stop as stop:
        raise stop.error from None
    seconds = time.perf_counter() - started
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
        lines.append("If the kernel changed on purpose, re-record the tape: pytest %s=rewrite %s" % (MODE_OPTION, path))
        raise TapeUnconsumed("\n".join(lines), left)
    recorded = tape.outcome
    expected = "replaced" if recorded.get("replaced") else "exit %s" % recorded.get("exit_code")
    if expected != run.ended:
        raise TapeOutcomeMismatch("%s (mode %s): every step matched, but the replay ended with %s and the "
                                  "recording with %s\n--- replay stderr\n%s" % (path, mode, run.ended, expected,
                                                                                run.stderr))
    return run


def check_tape(path: str, mode: Optional[str] = None, wheelhouse: Optional[str] = None,
               display: Optional[str] = None) -> TapeRun:
    """What a collected tape does: in "replay" mode replay it; in "rewrite" mode re-record it from its
    recipe (replacing the file), then replay the new tape. `mode` None: resolve_tape_mode()."""
    mode = validate_tape_mode(mode) if mode is not None else resolve_tape_mode()
    if mode == "rewrite":
        from .tape_recipes import rerecord_tape

        rerecord_tape(path, wheelhouse=wheelhouse)
    return replay_tape(path, mode=mode, display=display)


# endregion: replay

# region: drift


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
    lines.append("re-record it: venv/bin/python -m protoprimer_harness.tape record-all scenarios/tapes --only %s" % recipe)
    return "\n".join(lines)


# endregion: drift


if __name__ == "__main__":
    from .tape_recipes import main

    sys.exit(main(sys.argv[1:]))
