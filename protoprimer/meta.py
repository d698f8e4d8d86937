"""The meta runtime: a client's own states in the run's graph, reached by target name.

The proto runtime (the kernel) carries a run into the venv and calls the client's boot_env main there. That
main extends the same graph with states of its own and runs it to a target:

    from protoprimer.meta import States

    states = States()

    @states.state(parents=["state_boot_completed"])
    def hello_printed(ctx, p):
        ctx.host.env.write_stdout("Hello, world!\\n")

    states.target("hello", "hello_printed")

    def main():                     # the entry script: boot_env("my_repo.prime_env:main")
        return states.run("hello")  # `./prime --target NAME` picks another target

A state is a plain function `(ctx, p)`: `ctx` is the run (`ctx.host` its ports, `ctx.log` its log), `p[name]`
the value of a declared parent, computed on first read and cached for the process, as for the kernel's own
states. docs/meta-runtime.md is the guide; `protoprimer.reference_api` maps the reference's extension API
(ContextBuilder, register_factory, run_process, AbstractCachingStateNode) onto this module.
"""

import argparse
import sys
import traceback

# The kernel's exit codes (docs/exit-codes.md) that the meta runtime ends with.
EXIT_USAGE = 2
EXIT_CLIENT_STATE_FAILED = 11

# The state whose value is the parsed command line, kernel options and client options together.
CLIENT_ARGS_STATE = "state_client_args_parsed"


class MetaError(Exception):
    """A failure of the meta runtime a user can fix: one message, a documented exit code (the kernel's
    PrimerError shape, so that the kernel reports it as its own)."""

    def __init__(self, message, exit_code=EXIT_USAGE):
        Exception.__init__(self, message)
        self.message = message
        self.exit_code = exit_code


class StateFailed(MetaError):
    """A client state raised: the message names the state; the traceback is shown with -v."""

    def __init__(self, state, error):
        MetaError.__init__(self, "state %s failed: %s: %s" % (state, type(error).__name__, error), EXIT_CLIENT_STATE_FAILED)
        self.state = state
        self.error = error


def _is_user_error(error):
    """A kernel PrimerError (of any kernel module: the copy's or the installed one) or a MetaError."""
    return isinstance(getattr(error, "message", None), str) and isinstance(getattr(error, "exit_code", None), int)


def kernel_of(ctx):
    """The kernel module whose code runs `ctx` (a copy of another version may run it)."""
    module = sys.modules.get(type(ctx).__module__)
    if module is None:
        from protoprimer import primer_kernel as module
    return module


def current_run(host=None):
    """The meta runtime's run in this process (made on first use, then kept): it carries on the run that
    called the client's main (same entry function, main and command line, at the stride that run reached,
    the same log), with a graph of its own, so that a client state may replace a kernel state. When it first
    runs, it takes the values the proto runtime computed, except those of replaced states and of the
    states that depend on them, which it computes again (`inherit_values`). Where no run called the main (a
    main started some other way), it carries on as `proto_main()` does."""
    from protoprimer import primer_kernel

    host = host or primer_kernel.real_host()
    env = host.env
    ctx = env.recall("meta_context")
    if ctx is not None:
        return ctx
    caller = env.recall("run_context")
    kernel = kernel_of(caller) if caller is not None else primer_kernel
    stride, copy = env.recall("client_stride"), env.recall("proto_kernel_abs_path")
    chain = (stride, copy) if stride is not None and copy is not None else None
    if caller is not None:
        ctx = kernel.RunContext(host, caller.entry_func, caller.main_func, kernel_file=caller.kernel_file, chain=chain)
        ctx.log = caller.log  # its level, its file: one log for the run
    else:
        ctx = kernel.RunContext(host, kernel.EntryFunc.func_run_main, chain=chain)
    mode = ctx.eval_state("state_exec_mode_inited")
    ctx.coordinates = kernel.Coordinates(ctx.entry_func, mode)
    env.remember("meta_context", ctx)
    return ctx


class Impl(object):
    """One implementation of a client state, in the shape the kernel's graph takes (`parents`, `compute`)."""

    __slots__ = ("parents", "compute")

    def __init__(self, parents, compute):
        self.parents = tuple(parents)
        self.compute = compute


class _WithPrevious(object):
    """The parents a replacing state reads, plus `previous()`: the value the replaced implementation computes."""

    def __init__(self, ctx, name, parents, previous):
        self._ctx, self._name, self._parents, self._previous = ctx, name, parents, previous

    def __getitem__(self, parent):
        return self._parents[parent]

    def previous(self):
        impl = self._previous
        if impl is None:
            raise MetaError("state %s has no previous implementation in this run" % self._name)
        return impl.compute(self._ctx, kernel_of(self._ctx).ParentValues(self._ctx, self._name, impl.parents))


def guarded(name, function):
    """`function(ctx, p)` whose unexpected exceptions become StateFailed(name): the innermost client state
    that raised is the one named."""

    def compute(ctx, p):
        try:
            return function(ctx, p)
        except Exception as error:
            if _is_user_error(error):
                raise
            ctx.meta_failure_traceback = traceback.format_exc()
            raise StateFailed(name, error)

    return compute


class States(object):
    """A client's states, targets and command-line options, added to a run's graph by `run()` (or `add_to`)."""

    def __init__(self):
        self._states = []  # (name, parents, function, replace)
        self._targets = {}
        self._options = []  # (flags, argparse keywords)

    # --- declaring

    def state(self, name=None, parents=(), replace=False):
        """Decorator: `function(ctx, p)` is the state `name` (the function's name by default) with these
        parents. With replace=True it replaces a state of that name (the kernel's or another client's); the
        function may call `p.previous()` for what the replaced implementation computes."""
        if isinstance(parents, str):
            parents = parents.split()

        def decorate(function):
            self.add(name or function.__name__, parents, function, replace)
            return function

        return decorate

    def add(self, name, parents, function, replace=False):
        """`state` without the decorator."""
        if not isinstance(name, str) or not name:
            raise ValueError("a state name must be a non-empty string, not %r" % (name,))
        for known, _, known_function, _ in self._states:
            if known == name:
                raise MetaError("state %s is declared twice: by %s and by %s" % (name, _qualname(known_function), _qualname(function)))
        self._states.append((name, tuple(parents), function, replace))
        return self

    def target(self, name, state, help=None):
        """A user-facing target name (`./prime --target NAME`) for `state`: the name stays when the state is
        renamed."""
        self._targets[name] = (state, help)
        return self

    def option(self, *flags, **keywords):
        """A command-line option of the client's own (argparse's `add_argument`): accepted by `./prime` in
        every runtime and parsed here; its value is in the state `state_client_args_parsed`. An option
        with a value is written `--name=value` (the proto runtime cannot know it takes one)."""
        self._options.append((flags, keywords))
        return self

    # --- running

    def run(self, target=None, host=None):
        """Add the states to this process's run and evaluate it to a target: the one on the command line
        (`--target`), else `target`, else nothing more (the states are registered, nothing runs). Returns
        the exit code: the target's value if it is an int, else 0; a failure is one message and its code."""
        ctx = current_run(host)
        return reach(ctx, target, prepare=self.add_to)

    def add_to(self, ctx):
        """Register the states, targets and options into the run `ctx`. A name the graph has already is an
        error naming both declarations, unless the state was declared with replace=True."""
        ensure_client_args_state(ctx, self._options)
        graph = ctx.graph
        owners = ctx.__dict__.setdefault("meta_owners", {})
        for name, parents, function, replace in self._states:
            if graph.is_registered(name) and not replace:
                raise MetaError(
                    "state %s is declared by %s and by %s: pick another name, or declare the second with "
                    "replace=True to replace the first" % (name, owners.get(name, "the kernel"), _qualname(function))
                )
            if replace and not graph.is_registered(name):
                raise MetaError("%s replaces the state %s, which is not in the graph" % (_qualname(function), name))
            if "state_command_executed" in parents:
                raise MetaError("state %s waits for state_command_executed, which is where the client's main runs: "
                                "wait for state_boot_completed (the target boot) instead" % name)
            if replace:
                note_replaced(ctx, name)
            replaced = {}
            replaced["factory"] = graph.register(name, _factory(name, parents, function, replaced), replace=replace)
            owners[name] = _qualname(function)
        ctx.meta_targets = dict(getattr(ctx, "meta_targets", {}), **self._targets)
        return ctx


def inherit_values(ctx):
    """Seed the meta runtime's graph with the values the calling run computed, once, after the client's
    states are registered: every value whose state and ancestors no client replaced."""
    caller = ctx.host.env.recall("run_context")
    if caller is None or caller is ctx or getattr(ctx, "meta_inherited", False):
        return
    ctx.meta_inherited = True
    replaced = getattr(ctx, "meta_replaced", set())
    tainted = {}

    def is_tainted(name):
        if name not in tainted:
            tainted[name] = True  # until proven otherwise (and a guard against cycles)
            try:
                parents = ctx.graph.impl(name, ctx.coordinates).parents
            except Exception:
                return True
            tainted[name] = name in replaced or any(is_tainted(parent) for parent in parents)
        return tainted[name]

    ctx.graph.seed(dict((name, value) for name, value in caller.graph.cached().items() if not is_tainted(name)))


def note_replaced(ctx, name):
    """A state replaced in the meta runtime: refused once the meta runtime has taken the proto runtime's
    values (the replacement would not apply to what was already computed)."""
    if getattr(ctx, "meta_inherited", False) and ctx.graph.cached(name) is not None:
        raise MetaError("state %s was already computed in this run: register its replacement before the meta "
                        "runtime first runs" % name)
    ctx.__dict__.setdefault("meta_replaced", set()).add(name)


def kernel_args(ctx):
    """The kernel's parsed command line, where the run has one (boot_env, run_main); None for start_app."""
    entry = kernel_of(ctx).EntryFunc
    if ctx.coordinates.entry_func not in (entry.func_boot_env, entry.func_run_main):
        return None
    return ctx.eval_state("state_args_parsed")


def ensure_client_args_state(ctx, options=()):
    """Register `state_client_args_parsed`: the kernel's options and the client's `options` in one
    namespace; an argument neither knows is a usage error."""
    options = list(options)

    def parse(ctx, p):
        args = kernel_args(ctx)
        merged = argparse.Namespace(**vars(args)) if args is not None else argparse.Namespace()
        parser = _ClientParser(prog="client options", add_help=False)
        for flags, keywords in options:
            parser.add_argument(*flags, **keywords)
        parsed = parser.parse_args(list(getattr(args, "client_args", ()) or ()))
        for key, value in vars(parsed).items():
            setattr(merged, key, value)
        return merged

    ctx.graph.register(CLIENT_ARGS_STATE, lambda coords: Impl((), parse), replace=ctx.graph.is_registered(CLIENT_ARGS_STATE))


def reach(ctx, target=None, prepare=None):
    """The meta runtime's run: `prepare(ctx)` (register states), then evaluate the target named on the
    command line (`--target`), else `target`. Returns the exit code: the target's value if it is an int,
    else 0; a failure is logged as one message and its code returned (the traceback with -v)."""
    ctx.host.env.remember("meta_ran", True)  # the kernel checks it after the main: a --target was taken
    try:
        if prepare is not None:
            prepare(ctx)
        inherit_values(ctx)
        args = kernel_args(ctx)
        if args is not None and args.client_args:
            ctx.eval_state(CLIENT_ARGS_STATE)  # an unknown client option fails here, before any state runs
        name = (args.final_state if args is not None else None) or target
        if not name:
            return 0
        value = ctx.eval_state(resolve_target(ctx, name))
    except KeyboardInterrupt:
        raise
    except Exception as error:
        if not _is_user_error(error):
            raise
        ctx.log.error(error.message)
        trace = getattr(ctx, "meta_failure_traceback", None)
        if trace and ctx.log.enabled(20):
            ctx.host.env.write_stderr(trace)
        return error.exit_code
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _ClientParser(argparse.ArgumentParser):
    def error(self, message):
        raise MetaError("%s (the kernel's options: ./prime -h)" % message, EXIT_USAGE)


def _factory(name, parents, function, replaced):
    """A kernel-graph factory for a client state. `replaced["factory"]` is the factory it replaced (None for a
    new state): its implementation at the same coordinates is what `p.previous()` computes."""
    wrapped = guarded(name, function)

    def factory(coords):
        previous_factory = replaced.get("factory")
        if previous_factory is None:
            return Impl(parents, wrapped)
        previous = previous_factory(coords)
        return Impl(parents, lambda ctx, p: wrapped(ctx, _WithPrevious(ctx, name, p, previous)))

    return factory


def known_targets(ctx):
    """Target name -> state: the kernel's, then the client's (a client name wins)."""
    targets = dict(kernel_of(ctx).TARGETS)
    for name, (state, _) in getattr(ctx, "meta_targets", {}).items():
        targets[name] = state
    return targets


def resolve_target(ctx, name):
    """The state a target name (or a state name) stands for; an unknown one is a usage error listing the
    known targets, the client's included."""
    targets = known_targets(ctx)
    state = targets.get(name, name)
    if ctx.graph.is_registered(state):
        return state
    client = sorted(getattr(ctx, "meta_targets", {}))
    raise MetaError(
        "--target %s: no target or state of that name (targets: %s%s)"
        % (name, ", ".join(sorted(kernel_of(ctx).TARGETS)), "; the client's: " + ", ".join(client) if client else ""),
        EXIT_USAGE,
    )


def _qualname(function):
    return "%s.%s" % (getattr(function, "__module__", "?"), getattr(function, "__qualname__", repr(function)))
