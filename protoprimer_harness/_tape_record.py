"""Recording: the port traffic of one real kernel process, written down as a tape.

Recording runs the kernel in this Python process with a recording host (`Host(fs, proc, env)` whose
ports go to the recorder: the real fs and proc, the real env with the recorded process's facts): every
call is performed for real (files in a real temporary repo, real subprocesses: probes, `python -m venv`,
pip) and written down with its result or the exception it raised. `proc.replace` is
not performed: it is the tape's last step and ends the recording (a tape covers one process: a chain's
first process, or a one-process run such as eval). The repos recipes describe are built by
`protoprimer_harness.tape_recipes`.
"""

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .errors import ProcessReplaced
from ._tape_errors import TapeError, TapeUnsupported
from ._process_env import ProcessEnv
from ._tape_format import (Placeholders, Tape, canonical_args, placeholder_definitions, plain, redact_call,
                          redact_env, redact_result, save_tape)
from ._tape_host import (UNSUPPORTED_OPS, Stop, Streams, TapeRun, default_kernel, encode_error, entry_of,
                        port_signatures, run_entry)


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


class ProcessEnvironment(ProcessEnv):
    """The real environment port with the recorded process's facts in place of this process's own: its
    argv, cwd, variables (a private copy: `unset` does not touch os.environ), interpreter facts and
    kernel path; output is captured; memory is private; the clock, sleep and pid are real."""

    def __init__(self, real_env: Any, process: RecordedProcess, streams: Streams):
        ProcessEnv.__init__(self, process.variables, process.argv, process.cwd, process.executable, process.prefix,
                            process.base_prefix, process.version, process.kernel_path, process.isolated, streams)
        self._real = real_env
        self._memory: Dict[str, Any] = {}

    @property
    def pid(self):
        return self._real.pid

    def now(self):
        return self._real.now()

    def stderr_is_tty(self):
        return False

    def sleep(self, seconds):
        self._real.sleep(seconds)

    def remember(self, key, value):
        self._memory[key] = value

    def recall(self, key, default=None):
        value = self._memory.get(key)
        return default if value is None else value

    def terminal_width(self):
        return 80

    def enable_site(self):
        return None


class _Recorder:
    """Performs each call for real and writes it down (args and result normalised and redacted)."""

    def __init__(self, kernel, process: RecordedProcess, placeholders: Placeholders, streams: Streams):
        self.kernel = kernel
        self.signatures = port_signatures(kernel)
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
            raise Stop(self.failure)
        if (port, op) in UNSUPPORTED_OPS:
            self.failure = TapeUnsupported(
                "the recorded process called %s.%s: %s, which a tape cannot hold (a tape covers a chain's "
                "first process or a one-process run)" % (port, op, UNSUPPORTED_OPS[(port, op)]))
            raise Stop(self.failure)
        canon = redact_call(port, op, canonical_args(signature, args, kwargs))
        step: Dict[str, Any] = {"port": port, "op": op, "args": self._normalise(canon)}
        self.steps.append(step)  # before performing it: calls it makes (callbacks) come after it
        try:
            result = self._perform(port, op, signature, args, kwargs)
        except Exception as e:
            step["error"] = self._normalise(encode_error(e))
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
    kernel = kernel or default_kernel()
    entry = entry_of(entry)
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
    streams = Streams()
    recorder = _Recorder(kernel, process, placeholders, streams)
    exit_code, replaced, seconds = run_entry(kernel, recorder, entry)
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
