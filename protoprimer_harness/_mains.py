"""Built-in client mains a scenario can name (client code cannot be written in TOML).

`builtin_main(behaviour)` returns a main `fn(host)` for `World.add_main`:

- "report": returns 0; records in its `MainCall` the kernel path
  (`kernel.get_proto_kernel_abs_path(host=host)`), the derived config (`kernel.get_config(host=host)`, or
  the error it raised) and the `__file__` of the installed kernel the process can import (None if none);
- "extend": a boot_env DAG extension's entry: calls `kernel.parse_args(host=host)` and records the parsed
  namespace (`vars`, values made JSON-like) and, like "report", the kernel path and config; returns 0;
- "exit N": `sys.exit(N)` (raises SystemExit(N));
- "return N": returns N;
- "fail": raises RuntimeError("client main failed");
- "missing": the module cannot be imported: call_main raises the kernel's ClientCodeMissing (as the real
  port does), the client code never runs;
- client code written for protoprimer 0.13 (the reference), through the same kernel module:
  - "proto_main": calls `kernel.proto_main()` (the reference's way to carry the kernel's own flow on from a
    boot_env main) and returns what it returns;
  - "reference_config": reads the derived config as 0.13 client code does,
    `kernel.get_config(kernel.ConfLeap["leap_derived"])[kernel.EnvState.state_local_venv_dir_abs_path_inited
    .name]`, and records `{<that name>: <the value>}` as its config; returns 0;
  - "import_proto_kernel": `import proto_kernel` (what the process has registered under that name) and
    records the module's `__file__` (`MainCall.proto_kernel_file`); returns 0.
  The kernel's API takes `host=` where the harness's kernel adds it (the process's host is passed); a
  function without it would run against the real machine, so the main fails naming it instead.
- "import": not a built-in but the client's own function: `ImportedMain` imports "module:func" from the test
  process when the world is activated (before the fake filesystem starts) and calls it as
  `func(host=host)`; a function without a `host` parameter would run against the real machine, so the
  activation stops with a HarnessError naming it instead.
argv and env are recorded for every main (`MainCall.argv`, `.env`: what the client code saw).
`kernel` is the kernel module of the run (`host.proc.kernel`): the module the harness runs, whether the
process runs the repo's copy or the installed module.
"""

import re
from typing import Any, Callable

from .errors import HarnessError

# The behaviour that is not built in: the client's own function, imported (`ImportedMain`).
IMPORT = "import"
BEHAVIOURS = ("report", "extend", "exit N", "return N", "fail", "missing", "proto_main", "reference_config",
              "import_proto_kernel", IMPORT)
_WORDS = ("report", "extend", "fail", "missing", "proto_main", "reference_config", "import_proto_kernel", IMPORT)
# The derived config key the built-in main "reference_config" reads by the reference's state name.
REFERENCE_CONFIG_STATE = "state_local_venv_dir_abs_path_inited"
_NUMBERED = re.compile(r"^(exit|return)\s+(-?\d+)$")


def check_behaviour(text: str) -> str:
    """`text` normalised, or ValueError naming the valid behaviours."""
    behaviour = " ".join(str(text).split())
    if behaviour in _WORDS or _NUMBERED.match(behaviour):
        return behaviour
    raise ValueError("unknown built-in main %r (one of: %s)" % (text, ", ".join(BEHAVIOURS)))


def _plain(value: Any) -> Any:
    """`value` as JSON-like data (for recording a namespace)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _record(host: Any):
    call = getattr(host.proc, "current_main_call", None)
    if call is None:
        raise RuntimeError("a built-in main runs only through the harness's call_main")
    return call


def _describe(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error)
    return "%s: %s" % (type(error).__name__, message)


class ClientCodeUnavailable(Exception):
    """Raised by `call_main` when client code cannot be imported and the kernel has no ClientCodeMissing."""


def client_code_missing(kernel: Any, message: str) -> Exception:
    """The exception the real port raises when client code cannot be imported: kernel.ClientCodeMissing."""
    cls = getattr(kernel, "ClientCodeMissing", None) or ClientCodeUnavailable
    return cls(message)


class ClientMain:
    """A client main that only a process with the distribution `provided_by` installed can import."""

    def __init__(self, fn: Callable[[Any], Any], provided_by: str):
        self.fn = fn
        self.provided_by = provided_by

    @property
    def behaviour(self):
        return getattr(self.fn, "behaviour", None)

    def load(self) -> None:
        """Import what the wrapped main needs, if anything (before the fake filesystem starts)."""
        load = getattr(self.fn, "load", None)
        if load is not None:
            load()

    def __call__(self, host: Any) -> Any:
        return self.fn(host)


# Where a client's source comes from in the test process (the hint of a failed import).
IMPORTABLE_HINT = ("the client's source must be importable in the test process: install its project in the test "
                   "venv (pip install -e .), or add its source directory to pytest's `pythonpath` ini option "
                   "(pythonpath = src)")


class ImportedMain:
    """The main "import": the client's own function "module:func", imported from the test process by `load()`
    (the session calls it when the world is activated, before the fake filesystem starts, so the module is
    read from the real disk and pyfakefs then patches its `os`, `open`, ...) and called as `func(host=host)`.
    Client code written for simulation takes the host and passes it on: `def main(host=None): return
    states.run("target", host=host)`; the real run calls it without arguments."""

    behaviour = IMPORT

    def __init__(self, spec: str):
        module_name, sep, func_name = spec.partition(":")
        if not sep or not module_name or not func_name:
            raise ValueError("main %r: the main \"import\" needs a spec of the form \"module:func\"" % spec)
        self.spec = spec
        self.module_name = module_name
        self.func_name = func_name
        self.func = None

    def load(self) -> None:
        if self.func is not None:
            return
        import importlib

        try:
            module = importlib.import_module(self.module_name)
        except ImportError as error:
            missing = getattr(error, "name", None) or ""
            if missing == "proto_kernel":
                raise HarnessError(
                    "the main %r = \"import\": %s imports proto_kernel when it is imported; in the test process no "
                    "entry script registered the kernel copy under that name. Take what the kernel knows from the "
                    "meta runtime's states (protoprimer.meta: a state with parents such as "
                    "state_local_venv_dir_abs_path_inited) or import proto_kernel inside the function"
                    % (self.spec, self.module_name)) from None
            raise HarnessError("the main %r = \"import\": cannot import %s (%s: %s); %s"
                               % (self.spec, self.module_name, type(error).__name__, error, IMPORTABLE_HINT)) from None
        func = getattr(module, self.func_name, None)
        if not callable(func):
            raise HarnessError("the main %r = \"import\": the module %s (%s) has no function %s"
                               % (self.spec, self.module_name, getattr(module, "__file__", "?"), self.func_name))
        check_takes_host(self.spec, func)
        self.func = func

    def __call__(self, host: Any) -> Any:
        if self.func is None:
            self.load()
        call = getattr(host.proc, "current_main_call", None)
        if call is not None:
            call.behaviour = IMPORT
        return self.func(host=host)


def check_takes_host(spec: str, func: Callable[..., Any]) -> None:
    """HarnessError unless `func` can be called with `host=`: without it the function would reach the real
    machine (the kernel's `real_host()`), not the simulated world."""
    import inspect

    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return  # a builtin or an object without a signature: let the call say
    for parameter in parameters:
        if parameter.kind == parameter.VAR_KEYWORD:
            return
        if parameter.name == "host" and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            return
    raise HarnessError(
        "the main %r = \"import\": %s%s takes no `host` parameter, so the harness cannot run it in the simulated "
        "world (it would read and write the real machine's files and processes). Write it as `def %s(host=None)` and "
        "pass the host on (`states.run(..., host=host)`); the real run calls it without arguments"
        % (spec, getattr(func, "__qualname__", spec), _signature_text(func), spec.partition(":")[2]))


def _signature_text(func: Callable[..., Any]) -> str:
    import inspect

    try:
        return str(inspect.signature(func))
    except (TypeError, ValueError):
        return "(...)"


def builtin_main(behaviour: str) -> Callable[[Any], Any]:
    behaviour = check_behaviour(behaviour)
    if behaviour == "missing":
        return MissingMain()
    if behaviour == IMPORT:
        raise ValueError("the main \"import\" is the client's own function: World.add_main(\"module:func\", \"import\")")

    def main(host: Any) -> Any:
        call = _record(host)
        call.behaviour = behaviour
        kernel = host.proc.kernel
        if behaviour == "report":
            try:
                call.installed_kernel = host.proc.import_module("protoprimer.primer_kernel").__file__
            except ImportError:
                call.installed_kernel = None
            _record_kernel_facts(call, kernel, host)
            return 0
        if behaviour == "extend":
            try:
                namespace = kernel.parse_args(host=host)
            except SystemExit as error:
                call.args_error = "SystemExit(%r)" % (error.code,)
                raise
            call.args = _plain(dict(vars(namespace)))
            _record_kernel_facts(call, kernel, host)  # an extension reads the config in-process too
            return 0
        if behaviour == "fail":
            raise RuntimeError("client main failed (the harness's built-in main 'fail')")
        if behaviour == "proto_main":
            return _with_host(kernel, "proto_main", host)()
        if behaviour == "reference_config":
            derived = _with_host(kernel, "get_config", host)(kernel.ConfLeap["leap_derived"])
            name = getattr(kernel.EnvState, REFERENCE_CONFIG_STATE).name
            call.config = {name: _plain(derived[name])}
            return 0
        if behaviour == "import_proto_kernel":
            call.proto_kernel_file = host.proc.import_module("proto_kernel").__file__
            return 0
        verb, number = _NUMBERED.match(behaviour).groups()
        if verb == "exit":
            raise SystemExit(int(number))
        return int(number)

    main.__name__ = "builtin_%s" % behaviour.split()[0]
    main.__doc__ = "The harness's built-in client main %r." % behaviour
    return main



def _with_host(kernel: Any, name: str, host: Any) -> Callable[..., Any]:
    """`kernel.<name>` bound to the process's host (`host=host`), as client code would call it in-process."""
    import functools
    import inspect

    func = getattr(kernel, name)
    if "host" not in inspect.signature(func).parameters:
        raise TypeError("kernel.%s takes no host=: the harness cannot run it against the simulated world" % name)
    return functools.partial(func, host=host)


def _record_kernel_facts(call: Any, kernel: Any, host: Any) -> None:
    """What client code gets in-process: the kernel copy's path and the derived config."""
    try:
        call.kernel_path = kernel.get_proto_kernel_abs_path(host=host)
    except Exception as error:
        call.kernel_path = None
        call.config_error = _describe(error)
    try:
        config = kernel.get_config(host=host)
        call.config = _plain(config) if isinstance(config, dict) else {"value": _plain(config)}
    except Exception as error:
        call.config_error = _describe(error)


class MissingMain:
    """The built-in main "missing": its module cannot be imported (call_main raises ClientCodeMissing)."""

    behaviour = "missing"

    def __call__(self, host: Any) -> Any:
        raise AssertionError("a missing main is never called")
