#!/usr/bin/env python3
#
#
#
# placeholder for: FT_56_85_65_41.generated_boilerplate.md
#
#
#
#
"""protoprimer kernel: the stand-alone bootstrapper of a git repo.

protoprimer-kernel-file

Rules this file lives by (tests enforce them):
- standard library only; valid Python 3.7 syntax that 3.6 still parses, so that 3.6 is refused politely;
- no module-level mutable state: one run of a process is one `RunContext`;
- every effect (files, processes, environment, clock, output) goes through the ports of a `Host`; the real
  adapters live in the "adapters" region below and nowhere else touches os/sys/subprocess/shutil/open;
- stdlib modules that only some paths need are imported where they are used, to keep start-up cheap.

Sections, in order: version gate, ports and adapters, domain names, graph engine, states, CLI and
logging, public API.
"""

# region: version gate
import sys

if sys.version_info < (3, 7):
    sys.stderr.write(
        "ERROR: protoprimer needs Python 3.7 or newer, but this is Python %d.%d.%d (%s).\n"
        % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.executable)
    )
    sys.exit(9)
# endregion: version gate

import os

__version__ = "0.14.0.dev0"


# region: adapters
# The real adapters: the only code in this file that touches os, sys, subprocess, shutil, open or the
# clock. Everything else receives a `Host` and calls its ports. Fakes of the same shape live in the
# `harness` package; `tests/contract` keeps the two honest.


class RunResult(object):
    """What a finished command left behind: its exit code and its captured output (text)."""

    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(self, argv, returncode, stdout="", stderr=""):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "RunResult(%r, returncode=%r)" % (self.argv, self.returncode)


class RealFileSystem(object):
    """Filesystem port. Paths are absolute strings; text is UTF-8."""

    def read_text(self, path):
        with open(path, "r", encoding="utf-8") as f:
            return f.read()

    def write_text(self, path, text, mode=None):
        """Write atomically: a sibling temporary file is renamed over `path`.

        Parent directories are created. `path` itself is replaced, so a caller that wants to update the
        target of a symlink passes the resolved path.
        """
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        tmp_path = os.path.join(parent, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
        try:
            with open(tmp_path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            if mode is not None:
                os.chmod(tmp_path, mode)
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.lexists(tmp_path):
                os.remove(tmp_path)
            raise

    def exists(self, path):
        return os.path.exists(path)

    def lexists(self, path):
        return os.path.lexists(path)

    def is_file(self, path):
        return os.path.isfile(path)

    def is_dir(self, path):
        return os.path.isdir(path)

    def is_symlink(self, path):
        return os.path.islink(path)

    def read_link(self, path):
        return os.readlink(path)

    def make_symlink(self, target, path):
        """Point the symlink `path` at `target` (text as given), replacing an existing link atomically."""
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        tmp_path = os.path.join(parent, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
        if os.path.lexists(tmp_path):
            os.remove(tmp_path)
        os.symlink(target, tmp_path)
        os.replace(tmp_path, path)

    def make_dirs(self, path):
        os.makedirs(path, exist_ok=True)

    def real_path(self, path):
        return os.path.realpath(path)

    def same_file(self, path_a, path_b):
        try:
            return os.path.samefile(path_a, path_b)
        except OSError:
            return False

    def list_dir(self, path):
        return sorted(os.listdir(path))

    def file_mode(self, path):
        return os.stat(path).st_mode & 0o7777

    def remove(self, path):
        os.remove(path)

    def remove_tree(self, path):
        import shutil

        shutil.rmtree(path)

    def move(self, src, dst):
        import shutil

        shutil.move(src, dst)


class RealProcesses(object):
    """Processes port: run a command, replace the current process, find an executable, call client code."""

    def run(self, argv, env=None, cwd=None):
        """Run `argv` to completion and capture its output; a program that cannot start gives 127."""
        import subprocess

        try:
            completed = subprocess.run(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                universal_newlines=True,
            )
        except OSError as e:
            return RunResult(argv, 127, "", "cannot run %s: %s" % (argv[0], e.strerror or e))
        return RunResult(argv, completed.returncode, completed.stdout, completed.stderr)

    def replace(self, argv, env):
        """Replace this process with `argv` (argv[0] is the executable's path). Never returns."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(argv[0], list(argv), dict(env))

    def which(self, name, path):
        """The path of the executable `name` found on the PATH string `path`, or None."""
        import shutil

        return shutil.which(name, path=path)

    def call_main(self, module_name, func_name):
        """Import `module_name` and call its `func_name()`; return what it returns."""
        import importlib

        module = importlib.import_module(module_name)
        return getattr(module, func_name)()


class RealEnvironment(object):
    """Environment port: variables, argv, cwd, facts about this interpreter, the clock, the streams."""

    def get(self, name, default=None):
        return os.environ.get(name, default)

    def variables(self):
        """A copy of the environment variables."""
        return dict(os.environ)

    @property
    def argv(self):
        return list(sys.argv)

    def cwd(self):
        return os.getcwd()

    @property
    def executable(self):
        return sys.executable

    @property
    def prefix(self):
        return sys.prefix

    @property
    def base_prefix(self):
        return getattr(sys, "base_prefix", sys.prefix)

    @property
    def version(self):
        return tuple(sys.version_info[:3])

    @property
    def kernel_path(self):
        """The file of the kernel that is running: a repo's copy, or the installed module."""
        return os.path.abspath(__file__)

    @property
    def pid(self):
        return os.getpid()

    def now(self):
        import time

        return time.time()

    def write_stdout(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def write_stderr(self, text):
        sys.stderr.write(text)
        sys.stderr.flush()

    def stderr_is_tty(self):
        try:
            return sys.stderr.isatty()
        except (AttributeError, ValueError):
            return False


# endregion: adapters


class Host(object):
    """The world as the kernel sees it: a filesystem, processes and an environment."""

    __slots__ = ("fs", "proc", "env")

    def __init__(self, fs, proc, env):
        self.fs = fs
        self.proc = proc
        self.env = env


def real_host():
    """The host of this real process."""
    return Host(RealFileSystem(), RealProcesses(), RealEnvironment())


# region: domain names (shared with the harness; kept at the top so tools can read them without running)

# What the kernel runs to learn an interpreter's facts: one line each for version, executable, prefix
# and base_prefix. Valid under Python 2.7 too, so an old candidate is reported by version, not by error.
PYTHON_PROBE_CODE = (
    "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3])); print(sys.executable); "
    "print(sys.prefix); print(getattr(sys, 'base_prefix', sys.prefix))"
)

ENTRY_SCRIPT_TEMPLATE = '''#!/usr/bin/env python3
# Entry script generated by protoprimer (`wrap`): it loads the repo's kernel copy by its path relative to
# this file and calls {entry_func}. Regenerate it with the `wrap` sub-command instead of editing it.
import sys

if sys.version_info < (3, 7):
    sys.stderr.write(
        "ERROR: protoprimer needs Python 3.7 or newer, but this is Python %d.%d.%d (%s).\\n"
        % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.executable)
    )
    sys.exit(9)

import importlib.util
import os

PROTO_KERNEL_REL_PATH = "{kernel_rel_path}"


def import_proto_kernel():
    script_dir = os.path.dirname(os.path.abspath(__file__))
    kernel_path = os.path.normpath(os.path.join(script_dir, PROTO_KERNEL_REL_PATH))
    spec = importlib.util.spec_from_file_location("proto_kernel", kernel_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["proto_kernel"] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    import_proto_kernel().{entry_func}("{main_func}")
'''


def render_entry_script(entry_func, kernel_rel_path, main_func):
    """The text of an entry script that loads the kernel copy at `kernel_rel_path` (relative to the
    script's directory) and calls `entry_func` ("boot_env" or "start_app") with "module:func"."""
    return ENTRY_SCRIPT_TEMPLATE.format(
        entry_func=entry_func, kernel_rel_path=kernel_rel_path, main_func=main_func
    )

# endregion: domain names


# region: domain names (continued)


class StateStride(object):
    """The milestones of the restart chain, carried between processes in PROTOPRIMER_PY_EXEC by name.

    The names are a protocol shared with older and newer kernels: never rename, only append.
    """

    stride_py_unknown = "stride_py_unknown"
    stride_py_arbitrary = "stride_py_arbitrary"
    stride_py_required = "stride_py_required"
    stride_py_venv = "stride_py_venv"
    stride_deps_updated = "stride_deps_updated"
    stride_src_updated = "stride_src_updated"


STRIDE_ORDER = (
    StateStride.stride_py_unknown,
    StateStride.stride_py_arbitrary,
    StateStride.stride_py_required,
    StateStride.stride_py_venv,
    StateStride.stride_deps_updated,
    StateStride.stride_src_updated,
)


class EntryFunc(object):
    """How the kernel was entered: the first graph coordinate, known before anything is evaluated."""

    func_boot_env = "boot_env"  # an entry script: CLI, restarts, venv, then the client's main
    func_start_app = "start_app"  # an entry script: no CLI; one hop into the venv, then the client's main
    func_call_lib = "call_lib"  # get_config() from client code: in-process, no CLI, no restarts, no writes
    func_run_main = "run_main"  # the kernel file run directly: CLI like boot_env, no client main


ENTRY_FUNCS = (
    EntryFunc.func_boot_env,
    EntryFunc.func_start_app,
    EntryFunc.func_call_lib,
    EntryFunc.func_run_main,
)


class ExecMode(object):
    """What the run has to do: the second graph coordinate, derived from the sub-command (or from the
    entry function when there is no CLI). Known only after the CLI is parsed."""

    mode_read = "mode_read"  # resolve and report config; no restarts that matter, no writes (eval, get_config)
    mode_prime = "mode_prime"  # the whole chain: python, venv, installs, handover (boot, reset, shell)
    mode_start = "mode_start"  # the venv must exist already; one hop into it (start_app, start)
    mode_tool = "mode_tool"  # a local tool that needs no venv (wrap)


EXEC_MODES = (ExecMode.mode_read, ExecMode.mode_prime, ExecMode.mode_start, ExecMode.mode_tool)

# The exec modes each entry function can reach.
ENTRY_FUNC_MODES = {
    EntryFunc.func_boot_env: EXEC_MODES,
    EntryFunc.func_run_main: EXEC_MODES,
    EntryFunc.func_start_app: (ExecMode.mode_start,),
    EntryFunc.func_call_lib: (ExecMode.mode_read,),
}


class SubCommand(object):
    boot = "boot"
    reset = "reset"
    eval = "eval"
    shell = "shell"
    start = "start"
    wrap = "wrap"


SUB_COMMAND_MODES = {
    SubCommand.boot: ExecMode.mode_prime,
    SubCommand.reset: ExecMode.mode_prime,
    SubCommand.shell: ExecMode.mode_prime,
    SubCommand.eval: ExecMode.mode_read,
    SubCommand.start: ExecMode.mode_start,
    SubCommand.wrap: ExecMode.mode_tool,
}

SUB_COMMAND_ALIASES = {"reboot": SubCommand.reset}


class EnvVar(object):
    """Environment variables of the protocol between the processes of a chain (and the user's knobs)."""

    PROTOPRIMER_PY_EXEC = "PROTOPRIMER_PY_EXEC"
    PROTOPRIMER_PROTO_CODE = "PROTOPRIMER_PROTO_CODE"
    PROTOPRIMER_START_ID = "PROTOPRIMER_START_ID"
    PROTOPRIMER_MAIN_FUNC = "PROTOPRIMER_MAIN_FUNC"
    PROTOPRIMER_STDERR_LOG_LEVEL = "PROTOPRIMER_STDERR_LOG_LEVEL"
    PROTOPRIMER_CONF_BASENAME = "PROTOPRIMER_CONF_BASENAME"
    PROTOPRIMER_VENV_DRIVER = "PROTOPRIMER_VENV_DRIVER"


class ConfLeap(object):
    """The hops of configuration discovery, in order."""

    leap_input = "leap_input"
    leap_primer = "leap_primer"
    leap_client = "leap_client"
    leap_env = "leap_env"
    leap_derived = "leap_derived"


CONF_LEAPS = (
    ConfLeap.leap_input,
    ConfLeap.leap_primer,
    ConfLeap.leap_client,
    ConfLeap.leap_env,
    ConfLeap.leap_derived,
)


class VenvDriverType(object):
    venv_pip = "venv_pip"
    venv_uv = "venv_uv"


VENV_DRIVERS = (VenvDriverType.venv_pip, VenvDriverType.venv_uv)


class ExitCode(object):
    """Documented exit codes (docs/exit-codes.md)."""

    success = 0
    internal_error = 1  # a bug: an unexpected exception (rerun with -v for the traceback)
    usage_error = 2  # bad command line
    config_error = 3  # bad configuration file, field or env selection
    chain_error = 4  # a forged or malformed PROTOPRIMER_* chain variable
    not_implemented = 5  # a sub-command this version does not do yet
    python_too_old = 9  # the running interpreter is older than 3.7


# Config fields: name -> (expected JSON type, what it is for). The names are the public schema.
PRIMER_FIELDS = ("ref_root_dir_rel_path", "global_conf_dir_rel_path")
CLIENT_FIELDS = ("local_conf_symlink_rel_path", "default_env_dir_rel_path")
COMMON_FIELDS = (
    "required_python_version",
    "python_selector_file_rel_path",
    "local_venv_dir_rel_path",
    "local_log_dir_rel_path",
    "local_tmp_dir_rel_path",
    "local_cache_dir_rel_path",
    "venv_driver",
    "version_constraints_file_basename",
    "project_descriptors",
    "install_specs",
)
FIELD_TYPES = {
    "ref_root_dir_rel_path": str,
    "global_conf_dir_rel_path": str,
    "local_conf_symlink_rel_path": str,
    "default_env_dir_rel_path": str,
    "required_python_version": str,
    "python_selector_file_rel_path": str,
    "local_venv_dir_rel_path": str,
    "local_log_dir_rel_path": str,
    "local_tmp_dir_rel_path": str,
    "local_cache_dir_rel_path": str,
    "venv_driver": str,
    "version_constraints_file_basename": str,
    "project_descriptors": list,
    "install_specs": list,
}
# Which leaps read which fields (the "roles" a file plays).
ROLE_FIELDS = {
    ConfLeap.leap_primer: PRIMER_FIELDS,
    ConfLeap.leap_client: CLIENT_FIELDS + COMMON_FIELDS,
    ConfLeap.leap_env: COMMON_FIELDS,
}
DESCRIPTOR_FIELDS = {"build_root_dir_rel_path": str, "install_extras": list, "install_group": str}

DEFAULT_CONF_BASENAME = "protoprimer.json"
DEFAULT_GLOBAL_CONF_DIR = "gconf"
DEFAULT_LOCAL_CONF_SYMLINK = "lconf"
DEFAULT_DIRS = {
    "local_venv_dir_rel_path": "venv",
    "local_log_dir_rel_path": "log",
    "local_tmp_dir_rel_path": "tmp",
    "local_cache_dir_rel_path": "cache",
}
DEFAULT_CONSTRAINTS_BASENAME = "constraints.txt"
PYTHON_VERSION_FILE = ".python-version"

# The keys of the derived config, in the reference's order (its `eval` output is a contract), then ours.
DERIVED_KEYS = (
    "state_proto_code_file_abs_path_inited",
    "state_primer_conf_file_abs_path_inited",
    "state_ref_root_dir_abs_path_inited",
    "state_global_conf_dir_abs_path_inited",
    "state_global_conf_file_abs_path_inited",
    "state_selected_env_dir_rel_path_inited",
    "state_local_conf_symlink_abs_path_inited",
    "state_local_conf_file_abs_path_inited",
    "state_required_python_version_inited",
    "state_selected_python_file_abs_path_inited",
    "state_local_venv_dir_abs_path_inited",
    "state_local_log_dir_abs_path_inited",
    "state_local_tmp_dir_abs_path_inited",
    "state_local_cache_dir_abs_path_inited",
    "state_venv_driver_inited",
    "state_version_constraints_file_basename_inited",
    "state_project_descriptors_inited",
    "state_python_selector_file_abs_path_inited",
    "state_install_specs_inited",
)


class PrimerError(Exception):
    """A failure the user can fix: one message, a documented exit code, no traceback unless -v."""

    exit_code = ExitCode.internal_error

    def __init__(self, message, exit_code=None):
        Exception.__init__(self, message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(PrimerError):
    exit_code = ExitCode.usage_error


class ConfigError(PrimerError):
    exit_code = ExitCode.config_error


class ChainError(PrimerError):
    exit_code = ExitCode.chain_error


class GraphError(Exception):
    """A defect of the state graph itself (a programming error, not a user error)."""


# endregion: domain names


# region: graph engine
# An append-only registry maps each state name to a factory. A factory looks at the graph coordinates
# (entry function, exec mode) and returns the implementation of that state for them: its declared parents
# and the function that computes its value, or None when the state has no meaning there. Graphs are built
# backwards from a target, one node at a time, as values are asked for; a node reads only the parents it
# declares, and only those it needs. Values are cached for the life of the context (one process).


class Coordinates(object):
    """Where in the space of graphs a run is: (entry function, exec mode). Immutable.

    The exec mode is None until the CLI is parsed; factories that need it must not be reached before.
    """

    __slots__ = ("entry_func", "exec_mode")

    def __init__(self, entry_func, exec_mode=None):
        self.entry_func = entry_func
        self.exec_mode = exec_mode

    def __repr__(self):
        return "(%s, %s)" % (self.entry_func, self.exec_mode)


class StateImpl(object):
    """One implementation of a state: its declared parents and `compute(ctx, parents) -> value`."""

    __slots__ = ("parents", "compute")

    def __init__(self, parents, compute):
        self.parents = tuple(parents)
        self.compute = compute


def one_impl(parents, compute):
    """A factory with one implementation for every coordinate."""
    impl = StateImpl(parents, compute)
    return lambda coords: impl


def impl_by_mode(table, need_mode=True):
    """A factory choosing by exec mode: `table` maps a mode (or None for "any other") to a StateImpl."""

    def factory(coords):
        if coords.exec_mode is None and need_mode:
            return None
        return table.get(coords.exec_mode, table.get(None))

    return factory


def impl_by_entry(table):
    """A factory choosing by entry function: `table` maps an entry function (or None) to a StateImpl."""
    return lambda coords: table.get(coords.entry_func, table.get(None))


class ParentValues(object):
    """What a computing state may read: the values of its declared parents, evaluated on demand."""

    __slots__ = ("_ctx", "_name", "_parents")

    def __init__(self, ctx, name, parents):
        self._ctx = ctx
        self._name = name
        self._parents = parents

    def __getitem__(self, parent):
        if parent not in self._parents:
            raise GraphError(
                "state %s read %s, which it does not declare as a parent (declared: %s)"
                % (self._name, parent, ", ".join(self._parents) or "none")
            )
        return self._ctx.eval_state(parent)


class StateGraph(object):
    """The registry (name -> factory) and the per-process cache of values."""

    def __init__(self, factories):
        self._factories = dict(factories)
        self._values = {}
        self._evaluating = []

    def names(self):
        return list(self._factories)

    def is_registered(self, name):
        return name in self._factories

    def register(self, name, factory, replace=False):
        """Add a state (names are append-only); with replace=True swap the factory of an existing name and
        return the previous one, so an extension can wrap it."""
        previous = self._factories.get(name)
        if previous is not None and not replace:
            raise GraphError("state %s is already registered; pass replace=True to swap its factory" % name)
        if previous is None and replace:
            raise GraphError("state %s is not registered, so it cannot be replaced" % name)
        self._factories[name] = factory
        return previous

    def impl(self, name, coords):
        factory = self._factories.get(name)
        if factory is None:
            raise GraphError("state %s is not registered" % name)
        impl = factory(coords)
        if impl is None:
            raise GraphError("state %s has no implementation for coordinates %r" % (name, coords))
        return impl

    def is_cached(self, name):
        return name in self._values

    def eval(self, name, ctx):
        if name in self._values:
            return self._values[name]
        if name in self._evaluating:
            cycle = self._evaluating[self._evaluating.index(name):] + [name]
            raise GraphError("cycle in the state graph: %s" % " -> ".join(cycle))
        impl = self.impl(name, ctx.coordinates)
        self._evaluating.append(name)
        try:
            value = impl.compute(ctx, ParentValues(ctx, name, impl.parents))
        finally:
            self._evaluating.pop()
        self._values[name] = value
        return value


def walk_graph(factories, coords, target):
    """Build the graph reachable from `target` at `coords` without computing anything.

    Returns (edges, problems): edges as (parent, child) pairs; problems as sentences naming the states
    involved (unregistered parents, missing implementations, cycles).
    """
    edges = []
    problems = []
    done = set()
    path = []

    def visit(name):
        if name in path:
            cycle = path[path.index(name):] + [name]
            problems.append("cycle at %r: %s" % (coords, " -> ".join(cycle)))
            return
        if name in done:
            return
        factory = factories.get(name)
        if factory is None:
            problems.append(
                "%s is not registered (required by %s at %r)" % (name, path[-1] if path else "the target", coords)
            )
            done.add(name)
            return
        impl = factory(coords)
        if impl is None:
            problems.append(
                "%s has no implementation at %r (required by %s)" % (name, coords, path[-1] if path else "the target")
            )
            done.add(name)
            return
        path.append(name)
        for parent in impl.parents:
            edges.append((parent, name))
            visit(parent)
        path.pop()
        done.add(name)

    visit(target)
    return edges, problems


# endregion: graph engine


# region: states


class ConfFile(object):
    """A config file as read: where it is, whether it exists, and its JSON object (empty when missing)."""

    __slots__ = ("path", "present", "data")

    def __init__(self, path, present, data):
        self.path = path
        self.present = present
        self.data = data


class EnvSelection(object):
    """Which env dir this run uses, why, and the state of the `lconf` link that names it."""

    __slots__ = ("env_abs", "env_rel", "source", "link_path", "link_points_there")

    def __init__(self, env_abs, env_rel, source, link_path, link_points_there):
        self.env_abs = env_abs
        self.env_rel = env_rel
        self.source = source
        self.link_path = link_path
        self.link_points_there = link_points_there


class PythonCandidate(object):
    """An interpreter found for the required version, or the record of why none was."""

    __slots__ = ("path", "version", "tried")

    def __init__(self, path, version, tried):
        self.path = path
        self.version = version
        self.tried = tried


def _json_type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object"}


def _check_type(path, field_path, value, expected, allow_null=True):
    if value is None and allow_null:
        return
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ConfigError(
            "%s: field %s must be %s, got %s (%s)"
            % (path, field_path, _EXPECTED_TYPE_NAMES[expected], _json_type_name(value), _short_json(value))
        )


def _short_json(value):
    import json

    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_conf_types(path, data):
    """Reject known fields of the wrong JSON type, naming the file, the field and the type expected."""
    for field, expected in FIELD_TYPES.items():
        if field in data:
            _check_type(path, field, data[field], expected)
    for index, item in enumerate(data.get("project_descriptors") or ()):
        where = "project_descriptors[%d]" % index
        _check_type(path, where, item, dict, allow_null=False)
        if "build_root_dir_rel_path" not in item:
            raise ConfigError("%s: %s needs the field build_root_dir_rel_path (a project dir)" % (path, where))
        for key, expected in DESCRIPTOR_FIELDS.items():
            if key in item:
                _check_type(path, "%s.%s" % (where, key), item[key], expected, allow_null=key != "build_root_dir_rel_path")
        for extra_index, extra in enumerate(item.get("install_extras") or ()):
            _check_type(path, "%s.install_extras[%d]" % (where, extra_index), extra, str, allow_null=False)
    for index, item in enumerate(data.get("install_specs") or ()):
        where = "install_specs[%d]" % index
        if not isinstance(item, dict) or len(item) != 1:
            raise ConfigError(
                "%s: %s must be an object with exactly one key, the install group: "
                '{"GROUP": {"extra_command_args": [...]}}, got %s' % (path, where, _short_json(item))
            )
        group, spec = list(item.items())[0]
        _check_type(path, "%s.%s" % (where, group), spec, dict, allow_null=False)
        for key in spec:
            if key != "extra_command_args":
                raise ConfigError("%s: %s.%s has the unknown key %s (known: extra_command_args)" % (path, where, group, key))
        args = spec.get("extra_command_args") or []
        _check_type(path, "%s.%s.extra_command_args" % (where, group), args, list)
        for arg_index, arg in enumerate(args):
            _check_type(path, "%s.%s.extra_command_args[%d]" % (where, group, arg_index), arg, str, allow_null=False)


def load_conf_file(fs, path):
    """Read a config file: missing is not an error (present=False); anything malformed is a ConfigError."""
    try:
        text = fs.read_text(path)
    except FileNotFoundError:
        return ConfFile(path, False, {})
    except IsADirectoryError:
        raise ConfigError("%s is a directory, not a JSON config file" % path)
    except UnicodeDecodeError as e:
        raise ConfigError("%s is not UTF-8 text (byte %d): save it as UTF-8 JSON" % (path, e.start))
    except OSError as e:
        raise ConfigError("cannot read %s: %s" % (path, e.strerror or e))
    if not text.strip():
        raise ConfigError("%s is empty: a config file holds one JSON object, for example {}" % path)
    import json

    try:
        data = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", None)
        column = getattr(e, "colno", None)
        reason = getattr(e, "msg", str(e))
        raise ConfigError("%s: malformed JSON at line %s, column %s: %s" % (path, line, column, reason))
    if not isinstance(data, dict):
        raise ConfigError(
            "%s: the top level is %s, but a config file holds one JSON object {...}" % (path, _json_type_name(data))
        )
    _check_conf_types(path, data)
    return ConfFile(path, True, data)


def _norm_join(base, rel):
    return os.path.normpath(os.path.join(base, rel))


def _is_inside(path, root):
    rel = os.path.relpath(path, root)
    return rel != ".." and not rel.startswith(".." + os.sep)


def _override(p, field):
    """The effective value of a common field and the file it came from: the local (env) file wins, even
    with null (which resets the field to its default); then the global (client) file; else (None, None)."""
    env_conf = p["state_env_conf_file_data_loaded"]
    client_conf = p["state_client_conf_file_data_loaded"]
    if field in env_conf.data:
        return env_conf.data[field], env_conf.path
    if field in client_conf.data:
        return client_conf.data[field], client_conf.path
    return None, None


COMMON_PARENTS = (
    "state_ref_root_dir_abs_path_inited",
    "state_client_conf_file_data_loaded",
    "state_env_conf_file_data_loaded",
)


# --- phase 1: what the process was started with (no exec mode yet)


def _compute_py_exec(ctx, p):
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_PY_EXEC)
    if value is None:
        return StateStride.stride_py_unknown
    if value not in STRIDE_ORDER:
        raise ChainError(
            "%s=%r is not a stride name (one of: %s). protoprimer sets it only between its own processes: "
            "unset it and run again." % (EnvVar.PROTOPRIMER_PY_EXEC, value, ", ".join(STRIDE_ORDER))
        )
    return value


def _compute_start_id(ctx, p):
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_START_ID)
    if value is not None:
        if not value or "/" in value or value.startswith("."):
            raise ChainError(
                "%s=%r is not a start id; it is set only between protoprimer's own processes: unset it"
                % (EnvVar.PROTOPRIMER_START_ID, value)
            )
        return value
    import time

    env = ctx.host.env
    return "%sZ.%d" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime(env.now())), env.pid)


def _compute_proto_code_var(ctx, p):
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_PROTO_CODE)
    if value is None:
        return None
    if not os.path.isabs(value) or not ctx.host.fs.is_file(value):
        raise ChainError(
            "%s=%r must be the absolute path of an existing kernel file; it is set only between "
            "protoprimer's own processes: unset it and run again." % (EnvVar.PROTOPRIMER_PROTO_CODE, value)
        )
    return os.path.normpath(value)


def _compute_args(ctx, p):
    return parse_cli(ctx.host.env.argv[1:], ctx.host.env)


LOG_LEVEL_NAMES = {
    "NOTSET": 0,
    "DEBUG": 10,
    "INFO": 20,
    "WARNING": 30,
    "WARN": 30,
    "ERROR": 40,
    "CRITICAL": 50,
    "FATAL": 50,
}


def _compute_log_level_var(ctx, p):
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_STDERR_LOG_LEVEL)
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        level = int(text)
        if level >= 0:
            return level
    elif text.upper() in LOG_LEVEL_NAMES:
        return LOG_LEVEL_NAMES[text.upper()]
    ctx.warn_once(
        "log-level-var",
        "%s=%r is not a log level (a name such as DEBUG, INFO, WARNING, ERROR, or a number >= 0): ignored"
        % (EnvVar.PROTOPRIMER_STDERR_LOG_LEVEL, value),
    )
    return None


def _log_level_from_var(ctx, p):
    level = p["state_input_stderr_log_level_var_loaded"]
    return 30 if level is None else level


def _log_level_with_args(ctx, p):
    args = p["state_args_parsed"]
    level = _log_level_from_var(ctx, p) + 10 * (args.stderr_log_level_quiet - args.stderr_log_level_verbose)
    return max(level, 0)


def _compute_log_configured(ctx, p):
    level = p["state_stderr_log_level_finalized"]
    ctx.log.level = level
    return level


def _compute_sub_command_from_args(ctx, p):
    return p["state_args_parsed"].sub_command


def _compute_exec_mode(ctx, p):
    p["state_input_py_exec_var_loaded"]  # a forged chain variable stops every run, whatever it does
    sub_command = p["state_input_sub_command_arg_loaded"]
    p["state_stderr_log_configured"]
    if ctx.entry_func == EntryFunc.func_call_lib:
        return ExecMode.mode_read
    return SUB_COMMAND_MODES[sub_command]


def _compute_final_target(ctx, p):
    if ctx.forced_target is not None:
        return ctx.forced_target
    mode = p["state_exec_mode_inited"]
    if ctx.coordinates.entry_func in (EntryFunc.func_boot_env, EntryFunc.func_run_main):
        args = p["state_args_parsed"]
        if getattr(args, "final_state", None):
            if not ctx.graph.is_registered(args.final_state):
                raise UsageError("--final_state %s: no state of that name is registered" % args.final_state)
            return args.final_state
    return FINAL_TARGETS[mode]


# --- phase 2: configuration leaps


def _compute_proto_code_path(ctx, p):
    from_var = p["state_input_proto_code_file_abs_path_var_loaded"]
    if from_var is not None:
        return from_var
    return os.path.normpath(ctx.host.env.kernel_path)


def _compute_primer_conf_path(ctx, p):
    kernel_path = p["state_proto_code_file_abs_path_inited"]
    kernel_dir = os.path.dirname(kernel_path)
    env = ctx.host.env
    candidates = []
    forced = env.get(EnvVar.PROTOPRIMER_CONF_BASENAME)
    if forced is not None:
        if not forced or os.path.basename(forced) != forced or forced in (".", ".."):
            raise ConfigError(
                "%s=%r must be a file name (no directory part), for example proto_kernel.json"
                % (EnvVar.PROTOPRIMER_CONF_BASENAME, forced)
            )
        candidates.append(forced)
    argv = env.argv
    if argv and argv[0]:
        candidates.append(os.path.splitext(os.path.basename(argv[0]))[0] + ".json")
    candidates.append(os.path.splitext(os.path.basename(kernel_path))[0] + ".json")
    candidates.append(DEFAULT_CONF_BASENAME)
    for basename in candidates:
        path = os.path.join(kernel_dir, basename)
        if ctx.host.fs.is_file(path):
            return path
    ctx.warn_once(
        "primer-missing",
        "no config file next to the kernel %s (looked for %s): using the defaults; "
        "`eval` shows the effective config" % (kernel_path, ", ".join(_unique(candidates))),
    )
    return os.path.join(kernel_dir, DEFAULT_CONF_BASENAME)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _compute_primer_conf(ctx, p):
    return load_conf_file(ctx.host.fs, p["state_primer_conf_file_abs_path_inited"])


def _compute_ref_root(ctx, p):
    kernel_dir = os.path.dirname(p["state_proto_code_file_abs_path_inited"])
    primer = p["state_primer_conf_file_data_loaded"]
    rel = primer.data.get("ref_root_dir_rel_path")
    if rel is None:
        return kernel_dir
    ref_root = _norm_join(kernel_dir, rel)
    if not ctx.host.fs.is_dir(ref_root):
        raise ConfigError(
            "%s: field ref_root_dir_rel_path is %r, so the ref root would be %s, which is not a directory"
            % (primer.path, rel, ref_root)
        )
    return ref_root


def _compute_global_conf_dir(ctx, p):
    primer = p["state_primer_conf_file_data_loaded"]
    rel = primer.data.get("global_conf_dir_rel_path") or DEFAULT_GLOBAL_CONF_DIR
    return _norm_join(p["state_ref_root_dir_abs_path_inited"], rel)


def _compute_global_conf_path(ctx, p):
    basename = os.path.basename(p["state_primer_conf_file_abs_path_inited"])
    return os.path.join(p["state_global_conf_dir_abs_path_inited"], basename)


def _compute_client_conf(ctx, p):
    """The global file. Its absence is worth a warning only where one is expected: the primer file names
    the global dir, or that dir exists (the min layout has neither, by design)."""
    conf = load_conf_file(ctx.host.fs, p["state_global_conf_file_abs_path_inited"])
    primer = p["state_primer_conf_file_data_loaded"]
    expected = "global_conf_dir_rel_path" in primer.data or ctx.host.fs.is_dir(os.path.dirname(conf.path))
    if not conf.present and expected:
        ctx.warn_once(
            "global-missing",
            "no global config %s: using the defaults; `eval` shows the effective config" % conf.path,
        )
    return conf


def _select_env(ctx, p, cli_env):
    fs = ctx.host.fs
    ref_root = p["state_ref_root_dir_abs_path_inited"]
    client = p["state_client_conf_file_data_loaded"]
    link_rel = client.data.get("local_conf_symlink_rel_path") or DEFAULT_LOCAL_CONF_SYMLINK
    link_path = _norm_join(ref_root, link_rel)
    if os.path.isabs(link_rel) or not _is_inside(link_path, ref_root) or link_path == ref_root:
        raise ConfigError(
            "%s: field local_conf_symlink_rel_path must be a path inside the ref root %s, relative to it; got %r"
            % (client.path, ref_root, link_rel)
        )
    link_target = None
    if fs.lexists(link_path):
        if not fs.is_symlink(link_path):
            raise ConfigError(
                "%s is not a symlink: protoprimer keeps a symlink there that points at the selected env dir "
                "(field local_conf_symlink_rel_path); move that file or directory away" % link_path
            )
        link_target = _norm_join(os.path.dirname(link_path), fs.read_link(link_path))
    if cli_env is not None:
        env_abs = _resolve_env_arg(ctx, ref_root, cli_env)
        source = "--env %s" % cli_env
    elif link_target is not None:
        if not fs.is_dir(link_target):
            raise ConfigError(
                "%s points to %s, which is not a directory: pick an env with --env DIR" % (link_path, link_target)
            )
        env_abs = link_target
        source = "the symlink %s" % link_path
    else:
        default_rel = client.data.get("default_env_dir_rel_path")
        if default_rel is None:
            return EnvSelection(None, None, "no env", link_path, False)
        env_abs = _norm_join(ref_root, default_rel)
        if os.path.isabs(default_rel) or not fs.is_dir(env_abs):
            raise ConfigError(
                "%s: field default_env_dir_rel_path must name a directory relative to the ref root %s; "
                "%r does not" % (client.path, ref_root, default_rel)
            )
        source = "field default_env_dir_rel_path in %s" % client.path
    if not _is_inside(env_abs, ref_root) or env_abs == ref_root:
        raise ConfigError(
            "env dir %s (from %s) must be a directory inside the ref root %s" % (env_abs, source, ref_root)
        )
    points_there = link_target is not None and fs.same_file(link_path, env_abs)
    return EnvSelection(env_abs, os.path.relpath(env_abs, ref_root), source, link_path, points_there)


def _resolve_env_arg(ctx, ref_root, cli_env):
    fs = ctx.host.fs
    if os.path.isabs(cli_env):
        candidates = [os.path.normpath(cli_env)]
    else:
        candidates = [_norm_join(ref_root, cli_env), _norm_join(ctx.host.env.cwd(), cli_env)]
    for candidate in candidates:
        if fs.is_dir(candidate):
            return candidate
    raise ConfigError("--env %s: no such directory (looked for %s)" % (cli_env, " and ".join(_unique(candidates))))


def _compute_env_selection_from_args(ctx, p):
    return _select_env(ctx, p, p["state_args_parsed"].selected_env_dir)


def _compute_env_selection(ctx, p):
    return _select_env(ctx, p, None)


def _compute_selected_env_rel(ctx, p):
    return p["state_env_selection_inited"].env_rel


def _compute_symlink_path(ctx, p):
    selection = p["state_env_selection_inited"]
    if selection.env_abs is None:
        return p["state_ref_root_dir_abs_path_inited"]
    return selection.link_path


def _compute_symlink_ensured(ctx, p):
    """Point the `lconf` link at the selected env when it does not already (writes; prime mode only)."""
    selection = p["state_env_selection_inited"]
    if selection.env_abs is None or selection.link_points_there:
        return False
    target = os.path.relpath(selection.env_abs, os.path.dirname(selection.link_path))
    ctx.host.fs.make_symlink(target, selection.link_path)
    ctx.log.info("pointed %s at %s (%s)" % (selection.link_path, target, selection.source))
    return True


def _local_conf_path(ctx, p, link_ready):
    selection = p["state_env_selection_inited"]
    basename = os.path.basename(p["state_primer_conf_file_abs_path_inited"])
    if selection.env_abs is None:
        return os.path.join(p["state_ref_root_dir_abs_path_inited"], basename)
    if link_ready or selection.link_points_there:
        return os.path.join(selection.link_path, basename)
    return os.path.join(selection.env_abs, basename)


def _compute_local_conf_path_prime(ctx, p):
    p["state_local_conf_symlink_ensured"]
    return _local_conf_path(ctx, p, True)


def _compute_local_conf_path(ctx, p):
    return _local_conf_path(ctx, p, False)


def _compute_env_conf(ctx, p):
    conf = load_conf_file(ctx.host.fs, p["state_local_conf_file_abs_path_inited"])
    selection = p["state_env_selection_inited"]
    if not conf.present and selection.env_abs is not None:
        ctx.warn_once(
            "local-missing",
            "no local config %s in the env dir %s: the global config applies as it is"
            % (os.path.basename(conf.path), selection.env_abs),
        )
    return conf


def _compute_conf_files_checked(ctx, p):
    """Warn once per field that no leap reads from the file it is in, naming the file and the field."""
    roles = []  # (ConfFile, leap)
    for name, leap in (
        ("state_primer_conf_file_data_loaded", ConfLeap.leap_primer),
        ("state_client_conf_file_data_loaded", ConfLeap.leap_client),
        ("state_env_conf_file_data_loaded", ConfLeap.leap_env),
    ):
        roles.append((p[name], leap))
    fs = ctx.host.fs
    by_file = []  # [(ConfFile, set of known fields, [leaps])]
    for conf, leap in roles:
        if not conf.present:
            continue
        for entry in by_file:
            if entry[0].path == conf.path or fs.same_file(entry[0].path, conf.path):
                entry[1].update(ROLE_FIELDS[leap])
                entry[2].append(leap)
                break
        else:
            by_file.append((conf, set(ROLE_FIELDS[leap]), [leap]))
    for conf, known, leaps in by_file:
        for field in conf.data:
            if field in known or field.startswith("_"):
                continue
            if field in FIELD_TYPES:
                where = [leap for leap, fields in ROLE_FIELDS.items() if field in fields]
                message = "%s: field %s is not read from this file (%s); it belongs in the %s config" % (
                    conf.path,
                    field,
                    " and ".join(_LEAP_TITLES[leap] for leap in leaps),
                    " or ".join(_LEAP_TITLES[leap] for leap in where),
                )
            else:
                message = "%s: unknown field %s is ignored (known fields: docs/config.md)" % (conf.path, field)
            ctx.warn_once("field:%s:%s" % (conf.path, field), message)
    return True


_LEAP_TITLES = {
    ConfLeap.leap_primer: "primer",
    ConfLeap.leap_client: "global",
    ConfLeap.leap_env: "local",
}


# --- derived fields


def parse_python_version(text):
    """'3', '3.11' or '3.11.7' -> a tuple of 1 to 3 ints; anything else -> None."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _compute_required_python_version(ctx, p):
    value, source = _override(p, "required_python_version")
    fs = ctx.host.fs
    if value is None:
        directory = p["state_ref_root_dir_abs_path_inited"]
        while True:
            candidate = os.path.join(directory, PYTHON_VERSION_FILE)
            if fs.is_file(candidate):
                value = _read_python_version_file(fs, candidate)
                source = candidate
                break
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent
        if value is None:
            raise ConfigError("%s has no version line: write one line such as 3.11" % source)
        if parse_python_version(value) is None:
            raise ConfigError("%s: %r is not a Python version: write X.Y or X.Y.Z, such as 3.11" % (source, value))
        return value
    if parse_python_version(value) is None:
        raise ConfigError(
            "%s: field required_python_version must be a version X, X.Y or X.Y.Z, such as \"3.11\"; got %r"
            % (source, value)
        )
    return value


def _read_python_version_file(fs, path):
    try:
        text = fs.read_text(path)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("cannot read %s: %s" % (path, e))
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return None


def _compute_selector_path(ctx, p):
    value, source = _override(p, "python_selector_file_rel_path")
    if value is None:
        return None
    return _norm_join(p["state_ref_root_dir_abs_path_inited"], value)


def probe_python(host, path):
    """Ask the interpreter at `path` for (version tuple, sys.executable); a reason string when it fails."""
    result = host.proc.run([path, "-I", "-c", PYTHON_PROBE_CODE])
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) < 2:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return "does not run (exit %d%s)" % (result.returncode, ": " + detail[-1] if detail else "")
    version = parse_python_version(lines[0])
    if version is None or len(version) != 3:
        return "answered the version probe with %r" % lines[0]
    return version, lines[1]


def version_matches(version, required):
    return tuple(version[: len(required)]) == tuple(required)


def find_python(host, required):
    """Search PATH for pythonX.Y.Z, pythonX.Y, pythonX, python; return the first whose version matches."""
    env = host.env
    path_var = env.get("PATH", "")
    names = []
    for size in (3, 2, 1):
        if len(required) >= size:
            names.append("python" + ".".join(str(part) for part in required[:size]))
    names.append("python")
    tried = []
    seen = []
    for name in _unique(names):
        found = host.proc.which(name, path_var)
        if found is None:
            tried.append("%s: not on PATH" % name)
            continue
        real = host.fs.real_path(found)
        if real in seen:
            continue
        seen.append(real)
        if host.fs.same_file(found, env.executable):
            facts = (env.version, env.executable)
        else:
            facts = probe_python(host, found)
        if not isinstance(facts, tuple):
            tried.append("%s: %s" % (found, facts))
            continue
        version, executable = facts
        if not version_matches(version, required):
            tried.append("%s: Python %s" % (found, ".".join(str(part) for part in version)))
            continue
        return PythonCandidate(executable, version, tried)
    return PythonCandidate(None, None, tried)


def _compute_python_candidate(ctx, p):
    required_text = p["state_required_python_version_inited"]
    if required_text is None:
        return PythonCandidate(None, None, [])
    return find_python(ctx.host, parse_python_version(required_text))


def _compute_selected_python_read(ctx, p):
    candidate = p["state_python_candidate_found"]
    required = p["state_required_python_version_inited"]
    if required is None:
        ctx.warn_once(
            "no-required-python",
            "no required Python version: set required_python_version in the global config, or add a %s file "
            "to the repo" % PYTHON_VERSION_FILE,
        )
    elif candidate.path is None:
        ctx.warn_once(
            "no-python",
            "no Python %s found on PATH (tried: %s)" % (required, "; ".join(candidate.tried) or "nothing"),
        )
    return candidate.path


def _dir_state(field):
    def compute(ctx, p):
        value, source = _override(p, field)
        return _norm_join(p["state_ref_root_dir_abs_path_inited"], value or DEFAULT_DIRS[field])

    return compute


def _compute_venv_driver(ctx, p):
    forced = ctx.host.env.get(EnvVar.PROTOPRIMER_VENV_DRIVER)
    if forced is not None:
        if forced not in VENV_DRIVERS:
            raise ConfigError(
                "%s=%r is not a venv driver (one of: %s)" % (EnvVar.PROTOPRIMER_VENV_DRIVER, forced, ", ".join(VENV_DRIVERS))
            )
        driver = forced
    else:
        value, source = _override(p, "venv_driver")
        if value is not None and value not in VENV_DRIVERS:
            raise ConfigError("%s: field venv_driver is %r; use one of: %s" % (source, value, ", ".join(VENV_DRIVERS)))
        driver = value or VenvDriverType.venv_pip
    candidate = p["state_python_candidate_found"]
    if driver == VenvDriverType.venv_uv and candidate.version is not None and candidate.version < (3, 8):
        ctx.warn_once("uv-old-python", "uv needs Python 3.8 or newer; using venv_pip for Python %d.%d" % candidate.version[:2])
        driver = VenvDriverType.venv_pip
    return driver


def _compute_constraints_basename(ctx, p):
    value, source = _override(p, "version_constraints_file_basename")
    if value is not None and (os.path.basename(value) != value or value in ("", ".", "..")):
        raise ConfigError("%s: field version_constraints_file_basename must be a file name, got %r" % (source, value))
    return value or DEFAULT_CONSTRAINTS_BASENAME


def _compute_project_descriptors(ctx, p):
    value, source = _override(p, "project_descriptors")
    if value is None:
        value = [{"build_root_dir_rel_path": "."}]
    return [
        {
            "build_root_dir_rel_path": item["build_root_dir_rel_path"],
            "install_extras": list(item.get("install_extras") or []),
            "install_group": item.get("install_group"),
        }
        for item in value
    ]


def _compute_install_specs(ctx, p):
    value, source = _override(p, "install_specs")
    return list(value or [])


def _compute_derived(ctx, p):
    p["state_conf_files_checked"]
    return dict((key, p[key]) for key in DERIVED_KEYS)


def _print_effective_config(ctx, p, as_one_document):
    leaps = conf_leaps(p)
    import json

    if as_one_document:
        text = json.dumps(leaps, indent=4) + "\n"
    else:
        text = "".join(json.dumps({name: value}, indent=4) + "\n" for name, value in leaps.items())
    ctx.host.env.write_stdout(text)
    return ExitCode.success


def _compute_effective_config_printed_app(ctx, p):
    return _print_effective_config(ctx, p, p["state_args_parsed"].print_json)


def _compute_effective_config_printed(ctx, p):
    return _print_effective_config(ctx, p, False)


def _effective_config_factory(coords):
    if coords.exec_mode != ExecMode.mode_read:
        return None
    if coords.entry_func in _APP:
        return StateImpl(_EFFECTIVE_PARENTS_APP, _compute_effective_config_printed_app)
    return StateImpl(_EFFECTIVE_LEAP_PARENTS, _compute_effective_config_printed)


def conf_leaps(p):
    """The five leaps as `eval` reports them: inputs, the three files as written, and the derived config."""
    return dict(
        (
            (ConfLeap.leap_input, {
                "state_proto_code_file_abs_path_inited": p["state_proto_code_file_abs_path_inited"],
                "state_primer_conf_file_abs_path_inited": p["state_primer_conf_file_abs_path_inited"],
            }),
            (ConfLeap.leap_primer, p["state_primer_conf_file_data_loaded"].data),
            (ConfLeap.leap_client, p["state_client_conf_file_data_loaded"].data),
            (ConfLeap.leap_env, p["state_env_conf_file_data_loaded"].data),
            (ConfLeap.leap_derived, p["state_derived_conf_data_loaded"]),
        )
    )


def _compute_not_implemented(ctx, p):
    derived = p["state_derived_conf_data_loaded"]
    sub_command = p["state_input_sub_command_arg_loaded"]
    raise PrimerError(
        "`%s` is not implemented in protoprimer %s yet: the config was resolved (env: %s); "
        "`eval` shows it" % (sub_command, __version__, derived["state_selected_env_dir_rel_path_inited"]),
        ExitCode.not_implemented,
    )


_APP = (EntryFunc.func_boot_env, EntryFunc.func_run_main)
_EFFECTIVE_LEAP_PARENTS = (
    "state_proto_code_file_abs_path_inited",
    "state_primer_conf_file_abs_path_inited",
    "state_primer_conf_file_data_loaded",
    "state_client_conf_file_data_loaded",
    "state_env_conf_file_data_loaded",
    "state_derived_conf_data_loaded",
)
_EFFECTIVE_PARENTS_APP = ("state_args_parsed",) + _EFFECTIVE_LEAP_PARENTS

FINAL_TARGETS = {
    ExecMode.mode_read: "state_effective_config_printed",
    ExecMode.mode_prime: "state_command_executed",
    ExecMode.mode_start: "state_app_started",
    ExecMode.mode_tool: "state_tool_executed",
}


def _app_or(app_impl, other_impl):
    """A factory: one implementation for the CLI entry functions (boot_env, run_main), one for the rest."""
    table = dict((entry, app_impl) for entry in _APP)
    table[None] = other_impl
    return impl_by_entry(table)


_DERIVED_PARENTS = tuple(DERIVED_KEYS) + ("state_conf_files_checked",)
_NOT_IMPLEMENTED = StateImpl(("state_derived_conf_data_loaded", "state_input_sub_command_arg_loaded"), _compute_not_implemented)
_NOT_IMPLEMENTED_PRIME = StateImpl(
    ("state_derived_conf_data_loaded", "state_input_sub_command_arg_loaded", "state_local_conf_symlink_ensured"),
    _compute_not_implemented,
)


def _sub_command_factory(coords):
    if coords.entry_func in _APP:
        return StateImpl(("state_args_parsed",), _compute_sub_command_from_args)
    if coords.entry_func == EntryFunc.func_start_app:
        return StateImpl((), lambda ctx, p: SubCommand.start)
    return StateImpl((), lambda ctx, p: None)


def builtin_states():
    """The maximum graph: every state name this kernel knows, mapped to its factory (a fresh list)."""
    return [
        # phase 1: inputs of the process, the CLI, logging, the exec mode
        ("state_input_py_exec_var_loaded", one_impl((), _compute_py_exec)),
        ("state_input_start_id_var_loaded", one_impl((), _compute_start_id)),
        ("state_input_proto_code_file_abs_path_var_loaded", one_impl((), _compute_proto_code_var)),
        ("state_args_parsed", impl_by_entry(dict((entry, StateImpl((), _compute_args)) for entry in _APP))),
        ("state_input_stderr_log_level_var_loaded", one_impl((), _compute_log_level_var)),
        (
            "state_stderr_log_level_finalized",
            _app_or(
                StateImpl(("state_input_stderr_log_level_var_loaded", "state_args_parsed"), _log_level_with_args),
                StateImpl(("state_input_stderr_log_level_var_loaded",), _log_level_from_var),
            ),
        ),
        ("state_stderr_log_configured", one_impl(("state_stderr_log_level_finalized",), _compute_log_configured)),
        ("state_input_sub_command_arg_loaded", _sub_command_factory),
        (
            "state_exec_mode_inited",
            one_impl(
                ("state_input_py_exec_var_loaded", "state_input_sub_command_arg_loaded", "state_stderr_log_configured"),
                _compute_exec_mode,
            ),
        ),
        (
            "state_final_target_inited",
            _app_or(
                StateImpl(("state_exec_mode_inited", "state_args_parsed"), _compute_final_target),
                StateImpl(("state_exec_mode_inited",), _compute_final_target),
            ),
        ),
        # phase 2: configuration leaps (input -> primer -> global -> local -> derived)
        (
            "state_proto_code_file_abs_path_inited",
            one_impl(("state_input_proto_code_file_abs_path_var_loaded",), _compute_proto_code_path),
        ),
        (
            "state_primer_conf_file_abs_path_inited",
            one_impl(("state_proto_code_file_abs_path_inited",), _compute_primer_conf_path),
        ),
        ("state_primer_conf_file_data_loaded", one_impl(("state_primer_conf_file_abs_path_inited",), _compute_primer_conf)),
        (
            "state_ref_root_dir_abs_path_inited",
            one_impl(("state_proto_code_file_abs_path_inited", "state_primer_conf_file_data_loaded"), _compute_ref_root),
        ),
        (
            "state_global_conf_dir_abs_path_inited",
            one_impl(("state_primer_conf_file_data_loaded", "state_ref_root_dir_abs_path_inited"), _compute_global_conf_dir),
        ),
        (
            "state_global_conf_file_abs_path_inited",
            one_impl(
                ("state_primer_conf_file_abs_path_inited", "state_global_conf_dir_abs_path_inited"),
                _compute_global_conf_path,
            ),
        ),
        (
            "state_client_conf_file_data_loaded",
            one_impl(("state_global_conf_file_abs_path_inited", "state_primer_conf_file_data_loaded"), _compute_client_conf),
        ),
        (
            "state_env_selection_inited",
            _app_or(
                StateImpl(
                    ("state_args_parsed", "state_ref_root_dir_abs_path_inited", "state_client_conf_file_data_loaded"),
                    _compute_env_selection_from_args,
                ),
                StateImpl(
                    ("state_ref_root_dir_abs_path_inited", "state_client_conf_file_data_loaded"), _compute_env_selection
                ),
            ),
        ),
        ("state_selected_env_dir_rel_path_inited", one_impl(("state_env_selection_inited",), _compute_selected_env_rel)),
        (
            "state_local_conf_symlink_abs_path_inited",
            one_impl(("state_env_selection_inited", "state_ref_root_dir_abs_path_inited"), _compute_symlink_path),
        ),
        (
            "state_local_conf_symlink_ensured",
            impl_by_mode({ExecMode.mode_prime: StateImpl(("state_env_selection_inited",), _compute_symlink_ensured)}),
        ),
        (
            "state_local_conf_file_abs_path_inited",
            impl_by_mode(
                {
                    ExecMode.mode_prime: StateImpl(
                        (
                            "state_env_selection_inited",
                            "state_primer_conf_file_abs_path_inited",
                            "state_ref_root_dir_abs_path_inited",
                            "state_local_conf_symlink_ensured",
                        ),
                        _compute_local_conf_path_prime,
                    ),
                    None: StateImpl(
                        (
                            "state_env_selection_inited",
                            "state_primer_conf_file_abs_path_inited",
                            "state_ref_root_dir_abs_path_inited",
                        ),
                        _compute_local_conf_path,
                    ),
                }
            ),
        ),
        (
            "state_env_conf_file_data_loaded",
            one_impl(("state_local_conf_file_abs_path_inited", "state_env_selection_inited"), _compute_env_conf),
        ),
        (
            "state_conf_files_checked",
            one_impl(
                (
                    "state_primer_conf_file_data_loaded",
                    "state_client_conf_file_data_loaded",
                    "state_env_conf_file_data_loaded",
                ),
                _compute_conf_files_checked,
            ),
        ),
        # derived fields
        ("state_required_python_version_inited", one_impl(COMMON_PARENTS, _compute_required_python_version)),
        ("state_python_selector_file_abs_path_inited", one_impl(COMMON_PARENTS, _compute_selector_path)),
        (
            "state_python_candidate_found",
            one_impl(("state_required_python_version_inited",), _compute_python_candidate),
        ),
        (
            "state_selected_python_file_abs_path_inited",
            one_impl(
                ("state_python_candidate_found", "state_required_python_version_inited"), _compute_selected_python_read
            ),
        ),
        ("state_local_venv_dir_abs_path_inited", one_impl(COMMON_PARENTS, _dir_state("local_venv_dir_rel_path"))),
        ("state_local_log_dir_abs_path_inited", one_impl(COMMON_PARENTS, _dir_state("local_log_dir_rel_path"))),
        ("state_local_tmp_dir_abs_path_inited", one_impl(COMMON_PARENTS, _dir_state("local_tmp_dir_rel_path"))),
        ("state_local_cache_dir_abs_path_inited", one_impl(COMMON_PARENTS, _dir_state("local_cache_dir_rel_path"))),
        (
            "state_venv_driver_inited",
            one_impl(COMMON_PARENTS + ("state_python_candidate_found",), _compute_venv_driver),
        ),
        ("state_version_constraints_file_basename_inited", one_impl(COMMON_PARENTS, _compute_constraints_basename)),
        ("state_project_descriptors_inited", one_impl(COMMON_PARENTS, _compute_project_descriptors)),
        ("state_install_specs_inited", one_impl(COMMON_PARENTS, _compute_install_specs)),
        ("state_derived_conf_data_loaded", one_impl(_DERIVED_PARENTS, _compute_derived)),
        # final targets, one per exec mode
        ("state_effective_config_printed", _effective_config_factory),
        ("state_command_executed", impl_by_mode({ExecMode.mode_prime: _NOT_IMPLEMENTED_PRIME})),
        ("state_app_started", impl_by_mode({ExecMode.mode_start: _NOT_IMPLEMENTED})),
        ("state_tool_executed", impl_by_mode({ExecMode.mode_tool: _NOT_IMPLEMENTED})),
    ]


# endregion: states


# region: CLI and logging


class _ParserExit(Exception):
    """argparse finished early (help): end the run with this exit code."""

    def __init__(self, status):
        Exception.__init__(self, status)
        self.status = status


# Options that take a value: the scan for the sub-command skips their values.
_VALUE_OPTIONS = ("-e", "--env", "-c", "--command", "--final_state", "-s", "--script", "-m", "--main")
_SUB_COMMAND_WORDS = (
    SubCommand.boot,
    SubCommand.reset,
    "reboot",
    SubCommand.eval,
    SubCommand.shell,
    SubCommand.start,
    SubCommand.wrap,
)


def _has_sub_command(argv):
    """Whether a positional word (the sub-command, or a stray word) appears in `argv`."""
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token == "--":
            return True
        if token.startswith("-") and token != "-":
            skip = token in _VALUE_OPTIONS
            continue
        return True
    return False


def _add_common_options(parser, prefix, default):
    parser.add_argument(
        "-v", "--verbose", action="count", dest=prefix + "stderr_log_level_verbose", default=default,
        help="log more to stderr (repeat for more: -v INFO, -vv DEBUG)",
    )
    parser.add_argument(
        "-q", "--quiet", action="count", dest=prefix + "stderr_log_level_quiet", default=default,
        help="log less to stderr (repeat for less)",
    )
    parser.add_argument(
        "-e", "--env", dest=prefix + "selected_env_dir", metavar="DIR", default=None if default == 0 else default,
        help="use the env dir DIR (relative to the ref root, or to the current dir) and point lconf at it",
    )


def build_cli_parser(env, prog):
    """The protoprimer CLI: `[-v|-q]... [-e DIR] [SUB_COMMAND [options]]`, `boot` by default."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def _print_message(self, message, file=None):
            if message:
                env.write_stdout(message)

        def exit(self, status=0, message=None):
            if message:
                env.write_stderr(message)
            raise _ParserExit(status)

        def error(self, message):
            raise UsageError("%s: %s (see `%s -h`)" % (self.prog, message, prog))

    def formatter(prog):
        return argparse.HelpFormatter(prog, width=100)

    parser = Parser(
        prog=prog,
        description="The early [proto] environment bootstrapper [primer].",
        epilog="Version: %s | kernel: %s" % (__version__, env.kernel_path),
        formatter_class=formatter,
    )
    _add_common_options(parser, "", 0)
    subs = parser.add_subparsers(dest="sub_command", metavar="SUB_COMMAND", title="sub-commands")
    suppress = argparse.SUPPRESS

    def sub(name, help_text, aliases=()):
        sub_parser = subs.add_parser(name, help=help_text, description=help_text, aliases=list(aliases), formatter_class=formatter)
        _add_common_options(sub_parser, "sub_", suppress)
        return sub_parser

    boot = sub(SubCommand.boot, "bootstrap the venv, then run the client's code or COMMAND (the default)")
    boot.add_argument("-c", "--command", dest="run_command", metavar="COMMAND", help="run COMMAND in a shell with the venv activated")
    boot.add_argument("--final_state", metavar="STATE", help="stop at the state STATE of the graph (for debugging)")
    sub(SubCommand.reset, "rebuild the venv from scratch: drop it, the pins and the tool venvs, then boot", aliases=("reboot",))
    ev = sub(SubCommand.eval, "print the effective config and write nothing")
    ev.add_argument("--json", dest="print_json", action="store_true", help="print one JSON document instead of one per leap")
    shell = sub(SubCommand.shell, "bootstrap, then start a shell with the venv activated (or run COMMAND in it)")
    shell.add_argument("-c", "--command", dest="run_command", metavar="COMMAND", help="run COMMAND instead of an interactive shell")
    start = sub(SubCommand.start, "run MODULE:FUNC inside the venv, which must exist already")
    start.add_argument("main_func", metavar="MODULE:FUNC")
    wrap = sub(SubCommand.wrap, "write an entry script that loads this kernel copy")
    wrap.add_argument("wrap_entry_func", metavar="ENTRY_FUNC", choices=("boot_env", "start_app"))
    wrap.add_argument("-s", "--script", dest="script_path", metavar="PATH", required=True, help="where to write the script")
    wrap.add_argument("-m", "--main", dest="main_func", metavar="MODULE:FUNC", help="the client function the script calls")
    wrap.add_argument("--force", action="store_true", help="overwrite a different existing file")
    return parser


def parse_cli(argv, env, prog=None):
    """Parse protoprimer's CLI; common options may come before or after the sub-command.

    Returns an argparse.Namespace with the reference's names: sub_command (aliases resolved),
    selected_env_dir, stderr_log_level_verbose, stderr_log_level_quiet, run_command, final_state,
    print_json, main_func, wrap_entry_func, script_path, force. Raises UsageError; help ends in _ParserExit.
    """
    argv = list(argv)
    if prog is None:
        prog = os.path.basename(env.argv[0]) if env.argv and env.argv[0] else "protoprimer"
    parser = build_cli_parser(env, prog)
    wants_help = "-h" in argv or "--help" in argv
    if not _has_sub_command(argv) and not wants_help:
        argv = [SubCommand.boot] + argv
    args = parser.parse_args(argv)
    if args.sub_command is None:
        args.sub_command = SubCommand.boot
    args.sub_command = SUB_COMMAND_ALIASES.get(args.sub_command, args.sub_command)
    args.stderr_log_level_verbose += getattr(args, "sub_stderr_log_level_verbose", 0)
    args.stderr_log_level_quiet += getattr(args, "sub_stderr_log_level_quiet", 0)
    if getattr(args, "sub_selected_env_dir", None) is not None:
        args.selected_env_dir = args.sub_selected_env_dir
    for name in ("sub_stderr_log_level_verbose", "sub_stderr_log_level_quiet", "sub_selected_env_dir"):
        if hasattr(args, name):
            delattr(args, name)
    for name, default in (
        ("run_command", None), ("final_state", None), ("print_json", False), ("main_func", None),
        ("wrap_entry_func", None), ("script_path", None), ("force", False),
    ):
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


_LEVEL_COLORS = {"DEBUG": "36", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


def _level_name(level):
    for name, value in (("CRITICAL", 50), ("ERROR", 40), ("WARNING", 30), ("INFO", 20), ("DEBUG", 10)):
        if level >= value:
            return name
    return "NOTSET"


class Log(object):
    """The kernel's own small logger: one stderr sink with a level (no `logging`: it costs 5 ms a start).

    Formats follow the reference: WARNING and above `LEVEL message`; INFO with the time, pid and the
    stride the process started at; DEBUG with the date too.
    """

    def __init__(self, env):
        self._env = env
        self.level = 30
        self._color = None

    def _use_color(self):
        if self._color is None:
            self._color = self._env.stderr_is_tty() and not self._env.get("NO_COLOR")
        return self._color

    def paint(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self._use_color() else text

    def enabled(self, level):
        return level >= self.level

    def log(self, level, message):
        if level < self.level:
            return
        name = _level_name(level)
        label = self.paint(_LEVEL_COLORS.get(name, "0"), name)
        if level >= 30:
            line = "%s %s" % (label, message)
        else:
            import time

            now = self._env.now()
            millis = int((now - int(now)) * 1000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S" if level < 20 else "%H:%M:%S", time.gmtime(now))
            stride = self._env.get(EnvVar.PROTOPRIMER_PY_EXEC) or StateStride.stride_py_unknown
            line = "%s.%03dZ pid:%d %s py:%s %s" % (stamp, millis, self._env.pid, label, stride, message)
        self._env.write_stderr(line + "\n")

    def debug(self, message):
        self.log(10, message)

    def info(self, message):
        self.log(20, message)

    def warning(self, message):
        self.log(30, message)

    def error(self, message):
        self.log(40, message)


_SAFE_SHELL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")


def shell_quote(word):
    """Quote `word` for a POSIX shell (like shlex.quote, without importing re)."""
    if word and all(char in _SAFE_SHELL_CHARS for char in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


# endregion: CLI and logging


# region: public API


class RunContext(object):
    """Everything one process knows: its host, its coordinates, its graph (with cached values), its log.

    One context per process of the chain; nothing is kept at module level.
    """

    def __init__(self, host, entry_func, main_func=None, forced_target=None):
        if entry_func not in ENTRY_FUNCS:
            raise ValueError("unknown entry function %r (one of: %s)" % (entry_func, ", ".join(ENTRY_FUNCS)))
        self.host = host
        self.entry_func = entry_func
        self.main_func = main_func
        self.forced_target = forced_target
        self.coordinates = Coordinates(entry_func)
        self.graph = StateGraph(builtin_states())
        self.log = Log(host.env)
        self._warned = set()

    def eval_state(self, name):
        return self.graph.eval(name, self)

    def register_state(self, name, factory, replace=False):
        return self.graph.register(name, factory, replace)

    @property
    def is_first_process(self):
        """True in the process the user started (no chain variable yet): warnings are given only there."""
        return self.host.env.get(EnvVar.PROTOPRIMER_PY_EXEC) is None

    def warn_once(self, key, message):
        """A warning given once per invocation: once per process, and only in the chain's first process."""
        if key in self._warned or not self.is_first_process:
            return
        self._warned.add(key)
        self.log.warning(message)

    def run(self):
        """Phase 1 learns the exec mode (parsing the CLI where there is one); phase 2 evaluates the final
        target chosen for the now complete coordinates. Returns the exit code."""
        mode = self.eval_state("state_exec_mode_inited")
        self.coordinates = Coordinates(self.entry_func, mode)
        target = self.eval_state("state_final_target_inited")
        return self.eval_state(target)

    def run_guarded(self):
        """Run, turning every failure into one message and a documented exit code; print the exit line."""
        try:
            code = self.run()
        except _ParserExit as e:
            return e.status
        except PrimerError as e:
            self.log.error(e.message)
            self._log_traceback()
            code = e.exit_code
        except Exception as e:
            self.log.error(
                "internal error: %s: %s (this is a protoprimer bug; rerun with -v for the traceback)"
                % (type(e).__name__, e)
            )
            self._log_traceback()
            code = ExitCode.internal_error
        if not isinstance(code, int) or isinstance(code, bool):
            self.log.error("internal error: the run ended with %r instead of an exit code" % (code,))
            code = ExitCode.internal_error
        self.print_exit_line(code)
        return code

    def _log_traceback(self):
        if self.log.enabled(20):
            import traceback

            self.host.env.write_stderr(traceback.format_exc())

    def print_exit_line(self, code):
        """`SUCCESS [0]: <python> <argv>` with -v; `FAILURE [N]: ...` unless silenced with -qq."""
        if code == 0 and not self.log.enabled(20):
            return
        if code != 0 and not self.log.enabled(50):
            return
        env = self.host.env
        status = self.log.paint("30;42", "SUCCESS") if code == 0 else self.log.paint("37;41", "FAILURE")
        command = " ".join(shell_quote(word) for word in [env.executable] + env.argv)
        env.write_stderr("%s [%d]: %s\n" % (status, code, command))


def _check_main_func(main_func):
    module_name, sep, func_name = (main_func or "").partition(":")
    if not sep or not module_name or not func_name:
        raise ValueError("%r is not of the form module:function, for example my_pkg.cli:main" % (main_func,))


def _run_entry(host, entry_func, main_func=None):
    host = host or real_host()
    if main_func is not None:
        try:
            _check_main_func(main_func)
        except ValueError as e:
            script = host.env.argv[0] if host.env.argv else "the entry script"
            host.env.write_stderr("ERROR %s calls %s(): %s\n" % (script, entry_func, e))
            raise SystemExit(ExitCode.config_error)
    raise SystemExit(RunContext(host, entry_func, main_func).run_guarded())


def boot_env(venv_main_func, host=None):
    """Entry script API: bootstrap the repo (CLI, restarts, venv), then call the client's "module:func"."""
    _run_entry(host, EntryFunc.func_boot_env, venv_main_func)


def start_app(venv_main_func, host=None):
    """Entry script API: hop into the existing venv and call the client's "module:func" (no CLI)."""
    _run_entry(host, EntryFunc.func_start_app, venv_main_func)


def main(host=None):
    """The kernel file run directly (`./proto_kernel.py [args]`)."""
    _run_entry(host, EntryFunc.func_run_main)


_LEAP_STATES = {
    ConfLeap.leap_primer: "state_primer_conf_file_data_loaded",
    ConfLeap.leap_client: "state_client_conf_file_data_loaded",
    ConfLeap.leap_env: "state_env_conf_file_data_loaded",
    ConfLeap.leap_derived: "state_derived_conf_data_loaded",
}


def get_config(conf_leap=ConfLeap.leap_derived, host=None):
    """The config of one leap as a dict, computed in-process: no CLI, no restarts, nothing written.

    Raises PrimerError (with .message and .exit_code) when the configuration is broken.
    """
    leap = getattr(conf_leap, "name", conf_leap)
    if leap not in CONF_LEAPS:
        raise ValueError("unknown conf leap %r (one of: %s)" % (conf_leap, ", ".join(CONF_LEAPS)))
    ctx = RunContext(host or real_host(), EntryFunc.func_call_lib)
    mode = ctx.eval_state("state_exec_mode_inited")
    ctx.coordinates = Coordinates(EntryFunc.func_call_lib, mode)
    if leap == ConfLeap.leap_input:
        return {
            "state_proto_code_file_abs_path_inited": ctx.eval_state("state_proto_code_file_abs_path_inited"),
            "state_primer_conf_file_abs_path_inited": ctx.eval_state("state_primer_conf_file_abs_path_inited"),
        }
    value = ctx.eval_state(_LEAP_STATES[leap])
    if leap == ConfLeap.leap_derived:
        return value
    return dict(value.data)


def parse_args(remaining_argv=None, host=None):
    """protoprimer's CLI for client code that must stay CLI-compatible across runtimes.

    On a usage error prints one message and raises SystemExit(2), like argparse.
    """
    host = host or real_host()
    argv = host.env.argv[1:] if remaining_argv is None else remaining_argv
    try:
        return parse_cli(argv, host.env)
    except UsageError as e:
        host.env.write_stderr("ERROR %s\n" % e.message)
        raise SystemExit(e.exit_code)
    except _ParserExit as e:
        raise SystemExit(e.status)


def get_proto_kernel_abs_path(host=None):
    """The absolute path of the repo's kernel copy this process was started from."""
    host = host or real_host()
    return RunContext(host, EntryFunc.func_call_lib).eval_state("state_proto_code_file_abs_path_inited")


def check_state_graphs(extra_states=()):
    """Walk every reachable coordinate combination and report every defect of the graphs they build:
    unregistered parents, states without an implementation, cycles. An empty list means all is well."""
    factories = dict(builtin_states())
    factories.update(dict(extra_states))
    problems = []
    for entry_func in ENTRY_FUNCS:
        problems.extend(walk_graph(factories, Coordinates(entry_func), "state_exec_mode_inited")[1])
        for mode in ENTRY_FUNC_MODES[entry_func]:
            coords = Coordinates(entry_func, mode)
            targets = ["state_final_target_inited", FINAL_TARGETS[mode]]
            if entry_func == EntryFunc.func_call_lib:
                targets = list(_LEAP_STATES.values()) + ["state_proto_code_file_abs_path_inited"]
            for target in targets:
                problems.extend(walk_graph(factories, coords, target)[1])
    return _unique(problems)


# endregion: public API


if __name__ == "__main__":
    main()
