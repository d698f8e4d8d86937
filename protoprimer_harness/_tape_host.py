"""What recording and replay share: the host a taped process runs with, and how it ends.

Both run the kernel in this Python process (`run_entry`) with a host whose ports (`Port`) send every
operation to a session: the recorder (`protoprimer_harness._tape_record`) performs it for real and writes it down, the
player (`protoprimer_harness._tape_replay`) answers it from the tape. The call's canonical form follows
the real adapters' signatures (`port_signatures`); exceptions are written as data (`encode_error`) and
raised again on replay (`decode_error`); `Stop` carries a tape failure through the kernel; `TapeRun`
is how a recorded or replayed process ended.
"""

import builtins
import inspect
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .errors import ProcessReplaced, SimulationSignal
from ._tape_errors import TapeError
from ._tape_format import ENV_FACTS, plain


class Stop(SimulationSignal):
    """Carries a tape failure through the kernel (which never catches BaseException) to the caller."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def default_kernel():
    from protoprimer import primer_kernel

    return primer_kernel


def port_signatures(kernel) -> Dict[str, Dict[str, inspect.Signature]]:
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


def entry_of(value: Union[str, Sequence[str]]) -> Union[str, List[str]]:
    if value == "main":
        return "main"
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] in ("boot_env", "start_app"):
        return [str(value[0]), str(value[1])]
    raise TapeError('entry must be "main", ("boot_env", "module:func") or ("start_app", "module:func"), '
                    "not %r" % (value,))


def call_entry(kernel, host, entry) -> Tuple[Optional[int], Optional[ProcessReplaced]]:
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


class Streams:
    def __init__(self):
        self.stdout: List[str] = []
        self.stderr: List[str] = []


def encode_error(error: BaseException) -> Dict[str, Any]:
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


def decode_error(data: Dict[str, Any], kernel) -> BaseException:
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


class Port:
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


def run_entry(kernel: Any, session: Any, entry: Any) -> Tuple[Optional[int], Optional[ProcessReplaced], float]:
    """Run the kernel's `entry` in-process with a host whose ports send every operation to `session` (a
    recorder or a player): (exit code, None, seconds) or (None, the replacement, seconds). A tape failure
    the session stopped the kernel with is raised as itself."""
    host = kernel.Host(Port("fs", session), Port("proc", session), Port("env", session))
    started = time.perf_counter()
    try:
        exit_code, replaced = call_entry(kernel, host, entry)
    except Stop as stop:
        raise stop.error from None
    return exit_code, replaced, time.perf_counter() - started
