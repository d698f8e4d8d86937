"""The processes port of one simulated process. Strict: what it does not simulate stops the run.

- `run` resolves argv like `subprocess` would (PATH of the given env), applies the world's fault points,
  answers from the tool table and records a `CommandRecord`; a program that cannot start gives 127, as the
  real adapter does. `stream=True` sends the tool's output to the process's own streams; `on_tick` is
  called `SessionState.tick_calls` times (default once) with a small elapsed time.
- `replace` validates the new argv like `execve` (missing/non-executable -> `OSError` to the kernel),
  applies fault points and raises `ProcessReplaced`: the end of this simulated process. The new program is
  a simulated interpreter (or a script whose shebang names one), or a fake shell.
- `which` is `shutil.which` on the fake filesystem.
- `call_main` calls the world's python function registered for "module:func" with the current host and
  records a `MainCall` with what the client code saw.
- `import_module` / `find_module_file`: only the installed kernel (and its package) in the running
  interpreter's site-packages, and `proto_kernel` once it is registered in the process's `sys.modules`
  (by an entry script that registers it, or by `call_main`, as the real port does before importing client
  code); `load_file_function` execs a file of the fake filesystem.
- `try_lock`, `unlock`, `lock_holder`, `is_alive`: the session's lock model (protoprimer_harness._session_state).
After a fault killed the process, every operation raises `ProcessKilled` again.
"""

import errno
import os
import re
import shlex
import types
from typing import Any, Callable, Dict, List, Optional, Sequence

from .errors import ProcessKilled, ProcessReplaced, UnknownCommandError, UnknownMainError, UnsupportedProgramError
from ._fake_environment import ProcessState
from ._fake_interpreters import identify_interpreter
from ._fake_tools import explain_miss
from ._launch import LaunchFailure, find_executable, locate_program, parse_python_args, resolve_launch
from ._session_state import FaultHit, FaultTable, LockTable, SessionState, command_lines
from .outcome import CommandRecord, MainCall
from .tools.base import ToolCall, ToolRefusal, abbreviate_argv

INSTALLED_KERNEL_MODULE = "protoprimer.primer_kernel"
# The name client code imports the repo's kernel copy by (`import proto_kernel`).
PROTO_KERNEL_MODULE = "proto_kernel"
_VERSION_LINE = re.compile(r'^__version__\s*=\s*["\']([^"\']*)["\']', re.MULTILINE)
# Modules a file loaded with load_file_function may not import: they would reach the real machine.
BLOCKED_IMPORTS = ("subprocess", "multiprocessing", "pty")


class ShellLaunch:
    """A process replacement into a fake shell: `program` (absolute), the shell's `name`, its `invocation`
    (protoprimer_harness.tools._shells.ShellInvocation)."""

    def __init__(self, exec_argv: List[str], program: str, name: str, invocation: Any):
        self.exec_argv = list(exec_argv)
        self.program = program
        self.name = name
        self.invocation = invocation


def shell_launch(argv, env, cwd) -> ShellLaunch:
    """A process replacement into a fake shell (by the kernel, or by an entry script's shell front)."""
    from .tools._shells import identify_shell, read_shell_argv

    program = locate_program(argv[0], env, cwd, search_path=False)
    name = identify_shell(program)
    if name is None:
        raise UnknownCommandError(
            "replace() cannot simulate %s: not a simulated interpreter, nor a script with a simulated "
            "interpreter in its shebang, nor a fake shell" % shlex.join(argv)
        )
    invocation = read_shell_argv(name, argv, env)
    if invocation is None:
        raise UnknownCommandError(
            "replace() cannot simulate the shell command line %s: the fake shells simulate "
            "[SHELL, \"-c\", CMD, ...], [bash, \"--rcfile\", RC, \"-i\"] and [SHELL, \"-i\"]" % shlex.join(argv)
        )
    return ShellLaunch(argv, program, name, invocation)


class InstalledKernelModule(types.ModuleType):
    """What `import_module("protoprimer.primer_kernel")` returns in a simulated venv process: the harness's
    kernel module seen through a module whose `__file__` is the installed file (and `__version__` the one
    written in it). Every other attribute is the harness kernel's. `import_module("proto_kernel")` returns
    the same kind of view, named `proto_kernel`, of the kernel file the process runs."""

    def __init__(self, kernel: Any, file_path: str, version: Optional[str], name: str = INSTALLED_KERNEL_MODULE):
        super().__init__(name)
        self.__dict__["_harness_kernel"] = kernel
        self.__file__ = file_path
        if version is not None:
            self.__version__ = version

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_harness_kernel"], name)


def _empty_session_state() -> SessionState:
    from .tools._index import PackageIndex

    return SessionState(index=PackageIndex(), faults=FaultTable(()), locks=LockTable(()))


class FakeProcesses:
    """Processes port of one simulated process.

    `environment` is the process's own environment port (for the defaults of env and cwd, its streams and
    its `ProcessState`); `commands`/`main_calls`/`faults_hit` are the run's shared records; `session_state`
    the session's simulated state; `host` is set by the runner once built.
    """

    def __init__(
        self,
        kernel: Any,
        environment: Any,
        tools: Sequence[Any],
        mains: Dict[str, Callable[[Any], Any]],
        commands: List[CommandRecord],
        main_calls: List[MainCall],
        session_state: Optional[SessionState] = None,
        faults_hit: Optional[List[FaultHit]] = None,
    ):
        self.kernel = kernel
        self.environment = environment
        self.tools = tuple(tools)
        self.mains = mains
        self.commands = commands
        self.main_calls = main_calls
        self.session_state = session_state if session_state is not None else _empty_session_state()
        self.faults_hit = faults_hit if faults_hit is not None else []
        self.host = None
        self.current_main_call: Optional[MainCall] = None

    @property
    def state(self) -> ProcessState:
        return self.environment.state

    @property
    def pid(self) -> int:
        return self.environment.pid

    # --- run -----------------------------------------------------------------------------------------

    def run(self, argv, env=None, cwd=None, stream=False, on_tick=None):
        self.state.check()
        argv = list(argv)
        env = dict(env) if env is not None else self.environment.variables()
        cwd = os.path.normpath(os.path.join(self.environment.cwd(), cwd)) if cwd else self.environment.cwd()
        abbreviated = abbreviate_argv(argv, self.kernel)
        record = CommandRecord(argv=argv, returncode=0, env=env, cwd=cwd, line=shlex.join(abbreviated),
                               streamed=bool(stream))
        fault = self.session_state.faults.match(command_lines(argv, abbreviated)) if argv else None
        if fault is not None:
            record.fault = fault.describe()
            self.faults_hit.append(FaultHit("run", record.line, fault))
        if fault is not None and fault.die == "before":
            self._die(record, "before", stream, "", "")
        if fault is not None and fault.exit is not None:
            returncode, stdout, stderr = fault.exit, fault.stdout, fault.stderr
        else:
            die_during = fault is not None and fault.die == "during"
            try:
                returncode, stdout, stderr = self._answer(argv, env, cwd, die_during)
            except ProcessKilled:
                self._die(record, "during", stream, fault.stdout if fault else "", fault.stderr if fault else "")
            if fault is not None and fault.die is not None:
                self._die(record, "after", stream, stdout + fault.stdout, stderr + fault.stderr)
        record.returncode, record.stdout, record.stderr = returncode, stdout, stderr
        self.commands.append(record)
        if on_tick is not None:
            for tick in range(self.session_state.tick_calls):
                on_tick(0.1 * (tick + 1))
        if stream:
            if stdout:
                self.environment.write_stdout(stdout)
            if stderr:
                self.environment.write_stderr(stderr)
            return self.kernel.RunResult(argv, returncode, "", "")
        return self.kernel.RunResult(argv, returncode, stdout, stderr)

    def _die(self, record: CommandRecord, when: str, stream: bool, stdout: str, stderr: str) -> None:
        """A fault kills this process at `record`'s command: record it, show what a streaming tool printed."""
        record.returncode = -9
        record.killed = when
        record.stdout, record.stderr = stdout, stderr
        self.commands.append(record)
        if stream:
            if stdout:
                self.environment.write_stdout(stdout)
            if stderr:
                self.environment.write_stderr(stderr)
        raise self.state.kill("%s %s" % (when, record.line))

    def _answer(self, argv, env, cwd, die_during=False):
        if not argv:
            raise UnknownCommandError("run() was called with an empty argv")
        try:
            # as subprocess (execvpe): an env without PATH searches the default path
            search_env = env if "PATH" in env else dict(env, PATH=os.defpath)
            program = locate_program(argv[0], search_env, cwd, search_path=True)
        except LaunchFailure:
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.ENOENT))
        if not os.path.exists(program):
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.ENOENT))
        if os.path.isdir(program) or not os.access(program, os.X_OK):
            return 127, "", "cannot run %s: %s" % (argv[0], os.strerror(errno.EACCES))
        interpreter = identify_interpreter(program)
        python = parse_python_args(argv[1:]) if interpreter is not None else None
        call = ToolCall(argv, env, cwd, program, interpreter, python, self.kernel, self.session_state, die_during)
        for tool in self.tools:
            if tool.accepts(call):
                try:
                    result = tool.run(call)
                except ToolRefusal as refusal:
                    raise UnknownCommandError(explain_miss(call, self.tools, refused=(tool, refusal.reason))) from None
                return result.returncode, result.stdout, result.stderr
        raise UnknownCommandError(explain_miss(call, self.tools))

    # --- replace -------------------------------------------------------------------------------------

    def replace(self, argv, env):
        """End this simulated process; the runner starts `argv` with `env` next. Never returns."""
        self.state.check()
        argv = list(argv)
        env = dict(env)
        cwd = self.environment.cwd()
        try:
            launch = resolve_launch(argv, env, cwd, search_path=False)
        except LaunchFailure as failure:
            raise failure.as_os_error() from None
        if launch is None:
            launch = shell_launch(argv, env, cwd)
        abbreviated = abbreviate_argv(argv, self.kernel)
        fault = self.session_state.faults.match(command_lines(argv, abbreviated))
        if fault is not None:
            self.faults_hit.append(FaultHit("replace", shlex.join(abbreviated), fault))
            if fault.die == "before":
                raise self.state.kill("before replacing into %s" % shlex.join(abbreviated))
        raise ProcessReplaced(argv, env, launch, fault=fault)

    # --- which ---------------------------------------------------------------------------------------

    def which(self, name, path):
        return find_executable(name, path if path is not None else self.environment.get("PATH", ""))

    # --- call_main -----------------------------------------------------------------------------------

    def call_main(self, module_name, func_name, argv=None):
        self.state.check()
        if argv is not None:  # the real port sets sys.argv for the call: client code reads env.argv here
            self.environment.set_argv(argv)
        spec = "%s:%s" % (module_name, func_name)
        main = self.mains.get(spec)
        if main is None:
            known = ", ".join(sorted(self.mains)) or "(none: add one with World.add_main)"
            raise UnknownMainError("call_main(%r, %r): the world defines no main %r; known mains: %s (to run the "
                                   "client's own function, add it as `World.add_main(%r, \"import\")`, in a scenario "
                                   "`[given.mains] \"%s\" = \"import\"`)" % (module_name, func_name, spec, known, spec, spec))
        call = MainCall(spec, self.environment.argv, self.environment.variables(),
                        executable=self.environment.executable)
        self.main_calls.append(call)
        self.current_main_call = call
        # the real port makes the running kernel importable as `proto_kernel` before importing client code
        if self.environment.kernel_path is not None:
            self.state.modules.setdefault(PROTO_KERNEL_MODULE, self.environment.kernel_path)
        missing = self._missing_reason(module_name, main)
        if missing is not None:
            call.ended = "missing"
            call.behaviour = getattr(main, "behaviour", None)
            from ._mains import client_code_missing

            raise client_code_missing(self.kernel, missing)
        try:
            result = main(self.host)
        except SystemExit as error:
            call.ended = "exit %s" % (error.code if error.code is not None else 0)
            raise
        except Exception as error:
            call.ended = "raised %s: %s" % (type(error).__name__, error)
            raise
        call.ended = "returned %r" % (result,)
        return result

    def _missing_reason(self, module_name: str, main: Any) -> Optional[str]:
        """Why the client module cannot be imported here (None when it can)."""
        from ._mains import MissingMain
        from .tools._dists import canonical_name, installed_dists

        if isinstance(main, MissingMain):
            return "cannot import %s: No module named %r" % (module_name, module_name)
        provider = getattr(main, "provided_by", None)
        if provider and canonical_name(provider) not in installed_dists(self.environment.interpreter.site_packages):
            return "cannot import %s: No module named %r (%s is not installed for %s)" % (
                module_name, module_name.split(".")[0], provider, self.environment.executable)
        return None

    # --- modules -------------------------------------------------------------------------------------

    def _site_file(self, name: str) -> Optional[str]:
        site = self.environment.interpreter.site_packages
        base = os.path.join(site, *name.split("."))
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
        return None

    def find_module_file(self, name):
        """The file `name` would be imported from: looked up in the running interpreter's site-packages only."""
        self.state.check()
        return self._site_file(name)

    def import_module(self, name):
        """The installed kernel (a proxy of the harness kernel with the installed file as `__file__`), or its
        package; `proto_kernel` once registered in this process (a proxy with the registered file as
        `__file__`); anything else, or a kernel not installed in this interpreter's site-packages: ImportError."""
        self.state.check()
        if name == PROTO_KERNEL_MODULE:
            path = self.state.modules.get(name)
            if path is None:
                raise ImportError("No module named %r (nothing registered it in sys.modules: the entry script "
                                  "did not, and no client main was called yet)" % name, name=name)
            return InstalledKernelModule(self.kernel, path, self._version_in(path), name=PROTO_KERNEL_MODULE)
        if name == INSTALLED_KERNEL_MODULE:
            path = self._site_file(name)
            if path is None:
                raise ImportError("No module named 'protoprimer'", name="protoprimer")
            return InstalledKernelModule(self.kernel, path, self._version_in(path))
        if name == "protoprimer":
            path = self._site_file(name)
            if path is None:
                raise ImportError("No module named 'protoprimer'", name="protoprimer")
            package = types.ModuleType("protoprimer")
            package.__file__ = path
            package.__path__ = [os.path.dirname(path)]
            kernel_file = self._site_file(INSTALLED_KERNEL_MODULE)
            version = self._version_in(kernel_file) if kernel_file else None
            if version is not None:
                package.__version__ = version
            return package
        raise ImportError(
            "No module named %r (the harness imports only %s in simulated processes)" % (name, INSTALLED_KERNEL_MODULE),
            name=name,
        )

    @staticmethod
    def _version_in(path: str) -> Optional[str]:
        try:
            with open(path, "r", encoding="utf-8") as f:
                match = _VERSION_LINE.search(f.read())
        except (OSError, UnicodeDecodeError):
            return None
        return match.group(1) if match else None

    def load_file_function(self, path, func_name):
        """Exec the file at `path` (fake filesystem) as a fresh module and return its `func_name`.

        Its `import os`, `shutil`, `pathlib`, ... are the fake-filesystem modules (pyfakefs patches them);
        importing subprocess (or multiprocessing, pty) stops the run: that would reach the real machine.
        """
        self.state.check()
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
        code = compile(text, path, "exec")
        module = types.ModuleType("protoprimer_loaded_file")
        module.__file__ = path
        module.__dict__["__builtins__"] = _guarded_builtins(path)
        exec(code, module.__dict__)
        func = getattr(module, func_name, None)
        if func is None:
            raise self.kernel.ClientCodeMissing("%s defines no function %s" % (path, func_name))
        return func

    # --- locks ---------------------------------------------------------------------------------------

    def try_lock(self, path):
        self.state.check()
        return self.session_state.locks.try_lock(path, self.pid)

    def unlock(self, handle):
        self.state.check()
        self.session_state.locks.unlock(handle)

    def lock_holder(self, path):
        self.state.check()
        return self.session_state.locks.lock_holder(path)

    def is_alive(self, pid):
        self.state.check()
        return self.session_state.locks.is_alive(pid, self.session_state.live_pids)


def _guarded_builtins(path: str) -> Dict[str, Any]:
    import builtins

    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if name.split(".")[0] in BLOCKED_IMPORTS:
            raise UnsupportedProgramError(
                "%s imports %s: a file loaded with load_file_function runs in the harness's own Python, where "
                "%s would reach the real machine; the harness does not simulate it" % (path, name, name))
        return real_import(name, globals, locals, fromlist, level)

    guarded = dict(builtins.__dict__)
    guarded["__import__"] = guarded_import
    return guarded
