"""The names of protoprimer 0.13's public API that client code imports and the kernel file does not carry.

(One module of about 650 lines, on purpose: it is one compatibility surface, served as a whole by the
kernel's module `__getattr__`; its regions are the reference's enums, its constant tables, the helpers
metaprimer calls, and the extension API over the meta runtime.)

Client code written for the reference imports these from `protoprimer.primer_kernel` (or from its copy,
`proto_kernel`): `metaprimer` 0.2.0 does, and so do the reference's documented examples. The kernel serves
them from this module on first lookup (its module-level `__getattr__`), so the kernel file stays small
and cheap to import. Nothing here is used by the bootstrap itself.

What is kept, and how (docs/compatibility.md has the full table):
- the reference's enums, by member name: `EnvState` (state names: the keys of `get_config()`'s derived
  dict), `TargetState`, `ConfField` (`.value` is the config field's name), `PathName`, `ParsedArg`,
  `ExecOperation`, `TermColor`, `SelectorFunc`, `ValueName`;
- its constant tables: `SyntaxArg`, `ConfConstGeneral`, `ConfConstInput`, `ConfConstPrimer`,
  `ConfConstClient`, `ConfConstEnv`, with this kernel's defaults where they differ;
- helpers `metaprimer` calls: the log formatters, `read_json_file`, `missing_conf_file_message`,
  `warn_once_at_state_stride`, `_get_shell_driver`;
- the names the extension API is declared with (`ValueType`, `StateNode`, `AbstractCachingStateNode`,
  `trivial_factory`), so that modules defining states import and define their classes;
- the handover of a 0.13 copy to the installed kernel (`ContextBuilder`, `EnvContext`, `run_process`): the
  copy looks them up on `protoprimer.primer_kernel`, so in the venv, where this package is.
"""

import enum
import json
import logging
import os
import sys
import typing

from protoprimer import meta as _meta
from protoprimer import primer_kernel as _kernel

ValueType = typing.TypeVar("ValueType")

logger = logging.getLogger()


# region: enums, by the reference's member names


def _same_names(*names):
    return [(name, name) for name in names]


# The reference's state names, in its order. A derived config key is `EnvState.<name>.name`.
EnvState = enum.Enum(
    "EnvState",
    _same_names(
        "state_input_py_exec_var_loaded",
        "state_is_app_defined",
        "state_input_is_stderr_log_enabled",
        "state_input_stderr_log_level_var_loaded",
        "state_default_stderr_log_handler_configured",
        "state_args_parsed",
        "state_input_stderr_log_level_eval_finalized",
        "state_input_stderr_log_level_handler_configured",
        "state_input_exec_operation_loaded",
        "state_print_conf_finalized",
        "state_prepare_venv_finalized",
        "state_input_final_state_eval_finalized",
        "state_func_boot_env_executed",
        "state_func_start_app_executed",
        "state_func_call_lib_executed",
        "state_everything_executed",
        "state_input_start_id_var_loaded",
        "state_input_proto_code_file_abs_path_var_loaded",
        "state_stride_py_arbitrary_reached",
        "state_proto_code_file_abs_path_inited",
        "state_wrap_executed",
        "state_primer_conf_file_abs_path_inited",
        "state_primer_conf_file_data_loaded",
        "state_ref_root_dir_abs_path_inited",
        "state_global_conf_dir_abs_path_inited",
        "state_global_conf_file_abs_path_inited",
        "state_client_conf_file_data_loaded",
        "state_selected_env_dir_rel_path_inited",
        "state_local_conf_symlink_abs_path_inited",
        "state_local_conf_file_abs_path_inited",
        "state_env_conf_file_data_loaded",
        "state_required_python_version_inited",
        "state_python_selector_file_abs_path_inited",
        "state_selected_python_file_abs_path_inited",
        "state_local_venv_dir_abs_path_inited",
        "state_local_log_dir_abs_path_inited",
        "state_local_run_dir_abs_path_inited",
        "state_local_tmp_dir_abs_path_inited",
        "state_local_cache_dir_abs_path_inited",
        "state_venv_driver_inited",
        "state_version_constraints_file_basename_inited",
        "state_project_descriptors_inited",
        "state_install_specs_inited",
        "state_derived_conf_data_loaded",
        "state_effective_conf_data_printed",
        "state_default_file_log_handler_configured",
        "state_stride_py_required_reached",
        "state_reset_triggered",
        "state_venv_driver_prepared",
        "state_stride_py_venv_reached",
        "state_protoprimer_package_installed",
        "state_version_constraints_generated",
        "state_stride_deps_updated_reached",
        "state_proto_code_updated",
        "state_stride_src_updated_reached",
        "state_input_command_line",
        "state_command_executed",
        "state_shell_executed",
        "state_start_executed",
    ),
)


class TargetState(enum.Enum):
    """User-facing targets; each value is the EnvState it stands for (`.value.name` is the state name)."""

    target_everything_executed = EnvState.state_everything_executed
    target_derived_config_loaded = EnvState.state_derived_conf_data_loaded
    target_venv_activated = EnvState.state_stride_py_venv_reached
    target_proto_bootstrap_completed = EnvState.state_command_executed


class ConfField(enum.Enum):
    """Config fields; `.value` is the name written in the JSON files."""

    field_ref_root_dir_rel_path = "ref_root_dir_rel_path"
    field_global_conf_dir_rel_path = "global_conf_dir_rel_path"
    field_local_conf_symlink_rel_path = "local_conf_symlink_rel_path"
    field_default_env_dir_rel_path = "default_env_dir_rel_path"
    field_required_python_version = "required_python_version"
    field_python_selector_file_rel_path = "python_selector_file_rel_path"
    field_local_venv_dir_rel_path = "local_venv_dir_rel_path"
    field_local_log_dir_rel_path = "local_log_dir_rel_path"
    field_local_run_dir_rel_path = "local_run_dir_rel_path"
    field_local_tmp_dir_rel_path = "local_tmp_dir_rel_path"
    field_local_cache_dir_rel_path = "local_cache_dir_rel_path"
    field_venv_driver = "venv_driver"
    field_version_constraints_file_basename = "version_constraints_file_basename"
    field_project_descriptors = "project_descriptors"
    field_install_specs = "install_specs"
    field_build_root_dir_rel_path = "build_root_dir_rel_path"
    field_install_extras = "install_extras"
    field_install_group = "install_group"
    field_extra_command_args = "extra_command_args"


PathName = enum.Enum(
    "PathName",
    [
        ("path_" + name, name)
        for name in (
            "proto_code", "proto_dir", "ref_root", "primer_conf", "conf_client", "global_conf", "conf_env",
            "local_conf", "link_name", "default_env", "selected_env", "required_python", "python_selector",
            "selected_python", "local_venv", "local_log", "local_run", "local_tmp", "local_cache", "build_root",
        )
    ],
)


class ParsedArg(enum.Enum):
    """Attribute names of what `parse_args()` returns."""

    name_selected_env_dir = "selected_env_dir"
    name_command = "run_command"
    name_exec_operation = "sub_command"
    name_entry_func = "wrap_entry_func"
    name_entry_script_path = "script_path"
    name_main_func = "main_func"


class ExecOperation(enum.Enum):
    """The sub-commands, by the reference's names (`command_shell` is `shell`)."""

    op_boot = "boot"
    op_start = "start"
    op_reset = "reset"
    op_eval = "eval"
    command_shell = "shell"
    op_check = "check"
    op_wrap = "wrap"


class TermColor(enum.Enum):
    """ANSI styles (the reference's names; metaprimer's renderer paints with them)."""

    back_dark_red = "\033[41m"
    back_dark_green = "\033[42m"
    back_dark_yellow = "\033[43m"
    back_dark_blue = "\033[44m"
    fore_dark_black = "\033[30m"
    fore_dark_red = "\033[31m"
    fore_dark_green = "\033[32m"
    fore_dark_yellow = "\033[33m"
    fore_dark_cyan = "\033[36m"
    fore_bright_green = "\033[92m"
    fore_bright_yellow = "\033[93m"
    fore_bright_blue = "\033[94m"
    fore_bright_white = "\033[97m"
    fore_bold_dark_red = "\033[1;31m"
    reset_style = "\033[0m"
    # metaprimer's config renderer names these three (the reference's kernel adds them at run time)
    config_comment = "\033[2m"
    config_missing = "\033[33m"
    config_unused = "\033[31m"


class SelectorFunc(enum.Enum):
    select_python_file_abs_path = "select_python_file_abs_path"


ValueName = enum.Enum(
    "ValueName",
    [
        ("value_" + name, name)
        for name in (
            "stderr_log_level", "exec_operation", "final_state", "py_exec", "primer_runtime", "start_id",
            "project_descriptors", "install_specs", "install_group", "install_extras", "extra_command_args",
            "venv_driver", "python", "version", "file_basename", "version_constraints",
        )
    ],
)

# endregion: enums

# region: constant tables


class SyntaxArg(object):
    arg_h = "-h"
    arg_help = "--help"
    arg_c = "-c"
    arg_command = "--command"
    arg_q = "-q"
    arg_quiet = "--quiet"
    dest_quiet = "stderr_log_level_quiet"
    arg_v = "-v"
    arg_verbose = "--verbose"
    dest_verbose = "stderr_log_level_verbose"
    arg_e = "-e"
    arg_env = "--env"
    arg_s = "-s"
    arg_entry_script_path = "--entry_script_path"
    arg_m = "-m"
    arg_main_func = "--main_func"


class ConfConstGeneral(object):
    name_protoprimer_package = "protoprimer"
    name_proto_code = "proto_code"
    name_primer_kernel_module = "primer_kernel"
    default_proto_code_module = "proto_kernel"
    default_proto_code_basename = "proto_kernel.py"
    python_version_file_basename = _kernel.PYTHON_VERSION_FILE
    venv_config_file_basename = "pyvenv.cfg"
    name_pip_package = "pip"
    name_uv_package = "uv"
    curr_dir_rel_path = "."
    module_func_separator = ":"
    default_proto_main = ""
    file_rel_path_venv_bin = "bin"
    file_rel_path_venv_python = "bin/python"
    file_rel_path_venv_activate = "bin/activate"
    file_rel_path_venv_uv = "bin/uv"
    relative_path_field_note = "The path is relative to the ref root dir (field `ref_root_dir_rel_path`)."
    common_field_global_note = (
        "This field can be set in the global config (`leap_client`); the local env config (`leap_env`) overrides it."
    )
    common_field_local_note = "This env-specific value overrides the global one (see `leap_client`)."

    @staticmethod
    def func_note_derived_based_on_common(field_name):
        return "Derived from the field `%s` (local env config over global config, or the default)." % field_name

    @staticmethod
    def func_note_derived_based_on_conf_leap_field(field_name, conf_leap):
        leap = getattr(conf_leap, "name", conf_leap)
        return "Derived from `%s` of `%s`." % (field_name, leap)


class ConfConstInput(object):
    default_proto_conf_dir_rel_path = "proto_code"
    conf_file_ext = "json"
    default_file_basename_conf_primer = _kernel.DEFAULT_CONF_BASENAME
    ext_env_var_VIRTUAL_ENV = "VIRTUAL_ENV"
    ext_env_var_PATH = "PATH"
    ext_env_var_PYTHONPATH = "PYTHONPATH"
    default_PROTOPRIMER_STDERR_LOG_LEVEL = "WARNING"
    default_PROTOPRIMER_PY_EXEC = _kernel.StateStride.stride_py_unknown


class ConfConstPrimer(object):
    default_client_conf_dir_rel_path = _kernel.DEFAULT_GLOBAL_CONF_DIR
    default_file_basename_leap_client = _kernel.DEFAULT_CONF_BASENAME
    default_client_conf_file_rel_path = _kernel.DEFAULT_GLOBAL_CONF_DIR + "/" + _kernel.DEFAULT_CONF_BASENAME


class ConfConstClient(object):
    default_dir_rel_path_leap_env_link_name = _kernel.DEFAULT_LOCAL_CONF_SYMLINK
    default_file_basename_leap_env = _kernel.DEFAULT_CONF_BASENAME
    default_pyproject_toml_basename = "pyproject.toml"


class ConfConstEnv(object):
    default_dir_rel_path_venv = _kernel.DEFAULT_DIRS["local_venv_dir_rel_path"]
    default_dir_rel_path_log = _kernel.DEFAULT_DIRS["local_log_dir_rel_path"]
    default_dir_rel_path_tmp = _kernel.DEFAULT_DIRS["local_tmp_dir_rel_path"]
    default_dir_rel_path_cache = _kernel.DEFAULT_DIRS["local_cache_dir_rel_path"]
    default_venv_driver = _kernel.VenvDriverType.venv_pip
    default_version_constraints_file_basename = _kernel.DEFAULT_CONSTRAINTS_BASENAME
    default_project_descriptors = [{"build_root_dir_rel_path": ".", "install_extras": [], "install_group": None}]
    default_install_specs = []
    latest_known_python_version = "3.13"


# endregion: constant tables

# region: helpers metaprimer calls


class _UtcFormatter(logging.Formatter):
    def __init__(self, fmt):
        logging.Formatter.__init__(self, fmt, "%Y-%m-%dT%H:%M:%S")
        import time

        self.converter = time.gmtime

    def formatTime(self, record, datefmt=None):
        return "%s.%03dZ" % (logging.Formatter.formatTime(self, record, datefmt), record.msecs)


class DefaultFileLogFormatter(_UtcFormatter):
    """The kernel's file log line: `<UTC time> pid:<pid> <LEVEL> <message>`."""

    def __init__(self):
        _UtcFormatter.__init__(self, "%(asctime)s pid:%(process)d %(levelname)s %(message)s")


class DefaultStderrLogFormatter(_UtcFormatter):
    """The kernel's stderr line: `LEVEL message` at WARNING and above; with time and pid below that."""

    def __init__(self, log_level=logging.WARNING):
        _UtcFormatter.__init__(self, "%(asctime)s pid:%(process)d %(levelname)s %(message)s")
        self.log_level = log_level

    def format(self, record):
        if record.levelno >= logging.WARNING:
            return "%s %s" % (record.levelname, record.getMessage())
        return _UtcFormatter.format(self, record)


def read_json_file(file_path):
    with open(file_path, encoding="utf-8") as f:
        return json.load(f)


def missing_conf_file_message(file_abs_path):
    return "the config file %s does not exist: the defaults apply" % file_abs_path


def warn_once_at_state_stride(log_message, *args, **kwargs):
    """The reference warns in the first process of a chain only; client code runs once, so: warn."""
    logger.warning(log_message)


class _ShellDriver(object):
    """A shell with the venv activated: interactive, or `-c COMMAND`; replaces this process."""

    def __init__(self, shell, cache_dir, activate_venv):
        self.shell = shell
        self.cache_dir = cache_dir
        self.activate_venv = activate_venv

    def run_shell(self, start_interactive, command_line, local_venv_dir_abs_path):
        if command_line is None and not start_interactive:
            return 0
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("PROTOPRIMER_"))
        if self.activate_venv:
            env["VIRTUAL_ENV"] = local_venv_dir_abs_path
            env["PATH"] = os.path.join(local_venv_dir_abs_path, "bin") + os.pathsep + env.get("PATH", "")
        argv = [self.shell]
        if command_line is not None:
            argv += ["-c", command_line]
        else:
            argv.append("-i")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(self.shell, argv, env)


def _get_shell_driver(local_cache_dir_abs_path, activate_venv=True):
    """The user's $SHELL when it is bash or zsh, else bash found on PATH (the reference's rule)."""
    import shutil

    shell = os.environ.get("SHELL") or ""
    if os.path.basename(shell) not in ("bash", "zsh"):
        if shell:
            raise ValueError("unsupported shell %s: bash or zsh" % shell)
        shell = shutil.which("bash")
        if shell is None:
            raise ValueError("SHELL is not set and bash is not on PATH")
    return _ShellDriver(shell, local_cache_dir_abs_path, activate_venv)


# endregion: helpers

# region: the extension API, mapped onto the meta runtime (protoprimer.meta)

# Reference state names a client state may read whose state here has another name. The reference's
# `state_command_executed` (TargetState.target_proto_bootstrap_completed) is the end of the bootstrap; here
# the client's main runs inside `state_command_executed`, so a client state that waits for the bootstrap
# reads `state_boot_completed`. (The reference ran `-c COMMAND` there and replaced the process before any
# client state ran; here the command runs after the client's main.)
STATE_ALIASES = {
    "state_command_executed": "state_boot_completed",
    "state_effective_conf_data_printed": "state_effective_config_printed",
    "state_input_exec_operation_loaded": "state_input_sub_command_arg_loaded",
}


def _state_name(name):
    name = getattr(name, "name", name)
    return STATE_ALIASES.get(name, name)


def _value(attribute):
    """A class attribute of the reference's form (`staticmethod(lambda: ...)`) or a plain value."""
    return attribute() if callable(attribute) else attribute


class StateNode(typing.Generic[ValueType]):
    """A state of the reference's graph: a name, its parents, and how its value is computed."""

    def __init__(self, env_ctx, parent_states=None, state_name=None):
        self.env_ctx = env_ctx
        if parent_states is None:
            parent_states = _value(getattr(self, "_parent_states", None)) or []
        if state_name is None:
            state_name = _value(getattr(self, "_state_name", None))
        if not isinstance(state_name, str):
            raise AssertionError("%s has no state name (set _state_name or pass state_name)" % type(self).__name__)
        names = [getattr(parent, "name", parent) for parent in parent_states]
        if len(names) != len(set(names)) or not all(isinstance(name, str) for name in names):
            raise AssertionError("the parents of %s must be distinct names: %r" % (state_name, parent_states))
        self.state_name = state_name
        self.parent_states = names

    def get_state_name(self):
        return self.state_name

    def get_parent_states(self):
        return self.parent_states

    def eval_parent_state(self, parent_state):
        name = getattr(parent_state, "name", parent_state)
        if name not in self.parent_states:
            raise AssertionError("parent_state [%s] is not parent of [%s]" % (name, self.state_name))
        return self.env_ctx.eval_state(name)

    def eval_own_state(self):
        return self._eval_own_state()

    def _eval_own_state(self):
        raise NotImplementedError()


class NodeFactory(typing.Generic[ValueType]):
    """Makes the node of one state for a context (the reference's conditional factories subclass it)."""

    def __init__(self, env_ctx):
        self.env_ctx = env_ctx

    def create_state_node(self):
        raise NotImplementedError()


class AbstractCachingStateNode(StateNode[ValueType]):
    """A state whose parents are all evaluated, in order, before `_eval_state_once`, which runs once.

    Both forms of 0.13 construct it: class attributes `_state_name`/`_parent_states` (with
    `@trivial_factory`; the constructor takes `env_ctx`), or `parent_states=`/`state_name=` given to it."""

    _parent_states = staticmethod(lambda: [])

    def __init__(self, env_ctx, parent_states=None, state_name=None):
        StateNode.__init__(self, env_ctx, parent_states, state_name)
        self.is_cached = False
        self.cached_value = None

    def _eval_own_state(self):
        if not self.is_cached:
            for parent in self.parent_states:
                self.eval_parent_state(parent)
            self.cached_value = self._eval_state_once()
            self.is_cached = True
        return self.cached_value

    def _eval_state_once(self):
        raise NotImplementedError()


def trivial_factory(state_node_class):
    """Class decorator: the node class is its own factory (its instance for a context is the node)."""
    state_node_class.create_state_node = lambda self: self
    return state_node_class


def conditional_factory(state_node_class):
    """The reference's marker for a node class that a NodeFactory chooses: changes nothing."""
    return state_node_class


class _KernelStateFactory(NodeFactory):
    """What `register_factory(..., replace_existing=True)` returns for a state of this kernel: a factory
    whose node computes the replaced implementation (the reference's "replace by new and use old")."""

    def __init__(self, env_ctx, state_name, factory):
        NodeFactory.__init__(self, env_ctx)
        self.state_name = state_name
        self._factory = factory

    def create_state_node(self):
        ctx = self.env_ctx.run
        impl = self._factory(ctx.coordinates)
        factory = self

        class _Replaced(StateNode):
            def _eval_own_state(self):
                return impl.compute(ctx, _meta.kernel_of(ctx).ParentValues(ctx, factory.state_name, impl.parents))

        return _Replaced(self.env_ctx, [], self.state_name)


class EnvContext(object):
    """The reference's context, over a run of this kernel: the run that called the client's main when there
    is one (its values are reused), else a new one. `register_factory` adds a state to that run's graph."""

    def __init__(self, run=None, forced_final_state=None, host=None):
        self.run = run or _meta.current_run(host)
        self._forced_final_state = forced_final_state
        self._nodes = {}

    def eval_state(self, state_name):
        return self.run.eval_state(_state_name(state_name))

    def register_factory(self, state_name, factory_class, replace_existing=False):
        """Add `factory_class(env_ctx)` as the state `state_name`; returns None for a new name, the previous
        factory with replace_existing=True; a name already registered without it is an AssertionError."""
        name = _state_name(state_name)
        graph = self.run.graph
        known = graph.is_registered(name)
        if known and not replace_existing:
            raise AssertionError("[NodeFactory] for [%s] is already registered." % name)
        factory = factory_class(self)
        if known:
            _meta.note_replaced(self.run, name)
        previous = graph.register(name, self._kernel_factory(name, factory), replace=known)
        if previous is None:
            return None
        return getattr(previous, "reference_factory", None) or _KernelStateFactory(self, name, previous)

    def _kernel_factory(self, name, factory):
        env_ctx = self

        def node():
            if name not in env_ctx._nodes:
                env_ctx._nodes[name] = factory.create_state_node()
            return env_ctx._nodes[name]

        def compute(ctx, p):
            return node().eval_own_state()

        def kernel_factory(coords):
            return _meta.Impl([_state_name(parent) for parent in node().parent_states], _meta.guarded(name, compute))

        kernel_factory.reference_factory = factory
        return kernel_factory

    def print_exit_line(self, exit_code, test_failure=False):
        self.run.print_exit_line(exit_code)


class ContextBuilder(object):
    """The reference's builder: fluent setters, then `build_context()` (entry_func is required).

    In client code (a boot_env main) the context is the run that called the main; `forced_final_state`
    is the state `run_process` reaches (a `--target` on the command line wins). A protoprimer 0.13 kernel
    copy also uses it to hand over to the installed kernel at stride_deps_updated (`state_stride` set): this
    kernel then refreshes the copy and restarts, so that the refreshed copy runs the client's main."""

    def __init__(self):
        self._entry_func = None
        self._state_stride = None
        self._final_state = None

    def entry_func(self, value):
        self._entry_func = getattr(value, "value", value)
        return self

    def state_stride(self, value):
        self._state_stride = getattr(value, "name", value)
        return self

    def forced_final_state(self, value):
        self._final_state = getattr(value, "name", value)
        return self

    def _ignored(self, value):
        return self  # the kernel derives these itself (is_app, prepare_venv, exec_operation, ...)

    is_app = prepare_venv = exec_operation = is_log_enabled = forced_proto_kernel_abs_path = _ignored

    def build_context(self, host=None):
        if self._entry_func not in _kernel.ENTRY_FUNCS:
            raise AssertionError("ContextBuilder needs entry_func (one of: %s)" % ", ".join(_kernel.ENTRY_FUNCS))
        host = host or _kernel.real_host()
        if self._state_stride is not None and self._final_state is None and host.env.recall("run_context") is None:
            run = _kernel.RunContext(host, self._entry_func)  # a 0.13 copy handing over
            run.restart_after_refresh = True
            return EnvContext(run)
        return EnvContext(forced_final_state=self._final_state, host=host)


def run_process(env_ctx):
    """Run the context to its end and exit with its code (SystemExit, as the reference): the forced final
    state (or `--target`) with the meta runtime's error reporting, else the kernel's own flow."""
    if hasattr(env_ctx, "build_context"):
        env_ctx = env_ctx.build_context()
    run = env_ctx.run
    if run.restart_after_refresh:
        raise SystemExit(run.run_guarded())
    called_by_main = run.host.env.recall("run_context") is not None
    if env_ctx._forced_final_state is None and not called_by_main:
        raise SystemExit(run.run_guarded())
    _meta.ensure_client_args_state(run)
    code = _meta.reach(run, _state_name(env_ctx._forced_final_state) if env_ctx._forced_final_state else None)
    if not called_by_main:
        run.print_exit_line(code)
    raise SystemExit(code)


# What the kernel serves from here (its module-level __getattr__); nothing else of this module is public.
__all__ = [
    "EnvState", "TargetState", "ConfField", "PathName", "ParsedArg", "ExecOperation", "TermColor", "SelectorFunc",
    "ValueName", "SyntaxArg", "ConfConstGeneral", "ConfConstInput", "ConfConstPrimer", "ConfConstClient",
    "ConfConstEnv", "DefaultFileLogFormatter", "DefaultStderrLogFormatter", "read_json_file",
    "missing_conf_file_message", "warn_once_at_state_stride", "_get_shell_driver", "ValueType", "StateNode",
    "AbstractCachingStateNode", "trivial_factory", "ContextBuilder", "EnvContext", "run_process", "NodeFactory",
    "conditional_factory",
]
