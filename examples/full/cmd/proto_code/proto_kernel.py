#!/usr/bin/env python3
####################################################################################################
# GENERATED CONTENT - ANY CHANGES WILL BE LOST
####################################################################################################
# This is a (proto) copy of `protoprimer.primer_kernel` updated automatically.
# It is supposed to be versioned
# (to be available in the "target" repo on clone),
# but it should not be linted
# (as its content/style is owned by the `protoprimer` project).
####################################################################################################
"""protoprimer kernel: the stand-alone bootstrapper of a git repo.

protoprimer-kernel-file

Rules this file lives by (tests enforce them):
- standard library only; valid Python 3.7 syntax that 3.6 still parses, so that 3.6 is refused politely;
- no module-level mutable state: one run of a process is one `RunContext`;
- every effect (files, processes, environment, clock, output) goes through the ports of a `Host`; the real
  adapters live in the "adapters" region below and nowhere else touches os/sys/subprocess/shutil/open;
- stdlib modules that only some paths need are imported where they are used, to keep start-up cheap.
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
# clock. Everything else receives a `Host` and calls its ports; another implementation of a port must have
# the same shape (docs/design.md, "Ports").
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class Record(object):
    """A value object: `__slots__` names its fields in the order the constructor takes them (positionally
    or by name); `_defaults` are the values of the last fields when they are not given."""

    __slots__ = ()
    _defaults = ()

    def __init__(self, *values, **named):
        fields = self.__slots__
        given = dict(zip(fields[len(fields) - len(self._defaults):], self._defaults))
        given.update(zip(fields, values))
        given.update(named)
        for name in fields:
            setattr(self, name, given[name])


class RunResult(Record):
    """What a finished command left behind: its exit code and its captured output (text)."""

    __slots__ = ("argv", "returncode", "stdout", "stderr")
    _defaults = ("", "")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def __repr__(self):
        return "RunResult(%r, returncode=%r)" % (self.argv, self.returncode)


class RealFileSystem(object):
    """Filesystem port. Paths are absolute strings; text is UTF-8."""

    def read_text(self, path):
        with open(path, "r", encoding="utf-8") as f:
            return f.read()

    @staticmethod
    def _sibling_of(path):
        """A temporary sibling of `path` to write and rename over it; the parent directories are created, and
        the siblings a killed process left (its pid is gone) are removed."""
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        prefix = ".%s.tmp-" % os.path.basename(path)
        for name in os.listdir(parent or "."):
            pid = name[len(prefix):]
            if name.startswith(prefix) and pid.isdigit() and int(pid) != os.getpid() and not _is_alive(int(pid)):
                os.remove(os.path.join(parent, name))
        return os.path.join(parent, prefix + str(os.getpid()))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def write_text(self, path, text, mode=None, mtime_ns=None):
        """Write atomically: a sibling temporary file is renamed over `path` (with its mode, and its
        modification time when given).

        Parent directories are created. `path` itself is replaced, so a caller that wants to update the
        target of a symlink passes the resolved path.
        """
        tmp_path = self._sibling_of(path)
        try:
            with open(tmp_path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            if mode is not None:
                os.chmod(tmp_path, mode)
            if mtime_ns is not None:
                os.utime(tmp_path, ns=(mtime_ns, mtime_ns))
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.lexists(tmp_path):
                os.remove(tmp_path)
            raise
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
        tmp_path = self._sibling_of(path)
        if os.path.lexists(tmp_path):
            os.remove(tmp_path)
        os.symlink(target, tmp_path)
        os.replace(tmp_path, path)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def append_text(self, path, text):
        self._sibling_of(path)  # the parent directories
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)

    def stat_signature(self, path):
        """'size:mtime_ns:inode' of the file behind `path` (links followed), or None when there is none."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        return "%d:%d:%d" % (st.st_size, st.st_mtime_ns, st.st_ino)

    def make_dirs(self, path):
        os.makedirs(path, exist_ok=True)

    def real_path(self, path):
        return os.path.realpath(path)

    def same_file(self, path_a, path_b):
        try:
            return os.path.samefile(path_a, path_b)
        except OSError:
            return False
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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

    def copy(self, src, dst):
        """A file or a whole tree (symlinks kept, times preserved so cached bytecode stays valid)."""
        import shutil
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


class RealProcesses(object):
    """Processes port: run a command, replace the current process, find an executable, call client code."""

    def run(self, argv, env=None, cwd=None, stream=False, on_tick=None):
        """Run `argv` to completion; a program that cannot start gives 127.

        Output is captured, unless `stream`: then it goes to this process's stdout/stderr. `on_tick`, when
        given, is called with the elapsed seconds about every 0.1 s while the command runs.
        """
        import subprocess
        import time

        pipe = None if stream else subprocess.PIPE
        try:
            child = subprocess.Popen(
                list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe,
                universal_newlines=True,
            )
        except OSError as e:
            return RunResult(list(argv), 127, "", "cannot run %s: %s" % (argv[0], e.strerror or e))
        if on_tick is None:
            stdout, stderr = child.communicate()
        else:
            started = time.time()
            stdout, stderr = None, None
            while True:
                try:
                    stdout, stderr = child.communicate(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    on_tick(time.time() - started)
        return RunResult(list(argv), child.returncode, stdout or "", stderr or "")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def replace(self, argv, env):
        """Replace this process with `argv` (argv[0] is the executable's path). Never returns."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(argv[0], list(argv), dict(env))

    def which(self, name, path):
        """The path of the executable `name` found on the PATH string `path`, or None."""
        import shutil

        return shutil.which(name, path=path)

    def call_main(self, module_name, func_name, argv=None):
        """Import `module_name` and call its `func_name()`; return what it returns. With `argv`, the function
        sees it as sys.argv (`start MODULE:FUNC ARG...`).

        Failing to import the module or find the function raises ClientCodeMissing; whatever the function
        raises propagates as it is. Client code can `import proto_kernel`, as under an entry script.
        """
        import importlib
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
        if argv is not None:
            sys.argv[:] = list(argv)
        if "proto_kernel" not in sys.modules:
            sys.modules["proto_kernel"] = sys.modules.get(__name__) or _module_of_this_namespace()
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            missing = getattr(e, "name", None)
            if missing and (module_name == missing or module_name.startswith(missing + ".")):
                raise ClientCodeMissing("cannot import %s: %s" % (module_name, e))
            raise  # the client module exists but its own imports fail: its traceback says why
        func = getattr(module, func_name, None)
        if func is None:
            raise ClientCodeMissing("%s has no function %s" % (module_name, func_name))
        return func()

    def import_module(self, name):
        """Import the module `name` (ImportError when it cannot be)."""
        import importlib

        return importlib.import_module(name)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def find_module_file(self, name):
        """The file the module `name` would be imported from, without running it (None if not found)."""
        import importlib.util

        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        return spec.origin if spec is not None and spec.has_location else None

    def load_file_function(self, path, func_name):
        """Run the Python file at `path` (whatever its suffix) as a module of its own and return its
        function `func_name`; ClientCodeMissing when it defines none. Errors of its own code propagate.
        No bytecode is cached next to it: it is the user's config, not an installed module."""
        import types

        with open(path, "rb") as f:
            source = f.read()
        module = types.ModuleType("protoprimer_loaded_file")
        module.__file__ = path
        exec(compile(source, path, "exec"), module.__dict__)
        func = getattr(module, func_name, None)
        if func is None:
            raise ClientCodeMissing("%s defines no function %s" % (path, func_name))
        return func
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def try_lock(self, path):
        """Take the exclusive lock on `path` (created if missing) and write our pid in it; None if another
        live process holds it. The OS drops the lock when its holder dies."""
        import fcntl

        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        pid = ("%d\n" % os.getpid()).encode()
        os.write(fd, pid)  # first the pid, then the cut: a waiter never reads an empty file from us
        os.ftruncate(fd, len(pid))
        return fd

    def unlock(self, handle):
        """Release the lock; the file is emptied, so a pid found in it later means a holder that died."""
        import fcntl
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
        os.ftruncate(handle, 0)
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)

    def lock_holder(self, path):
        """The pid written in the lock file `path`, or None."""
        try:
            with open(path, "r") as f:
                text = f.read().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def is_alive(self, pid):
        return _is_alive(pid)


def _is_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as e:
        return not isinstance(e, ProcessLookupError)  # PermissionError: alive, someone else's
    return True
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _module_of_this_namespace():
    """This kernel as a module object, for an entry script that executed it without registering it in
    sys.modules (the reference's `wrap` writes such scripts): a module sharing this namespace's names. The
    kernel keeps no mutable state at module level, so the two are the same kernel."""
    import types

    module = types.ModuleType("proto_kernel")
    module.__dict__.update(globals())
    return module


class RealEnvironment(object):
    """Environment port: variables, argv, cwd, facts about this interpreter, the clock, the streams."""

    def get(self, name, default=None):
        return os.environ.get(name, default)

    def variables(self):
        """A copy of the environment variables."""
        return dict(os.environ)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def stderr_is_tty(self):
        try:
            return sys.stderr.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def isolated(self):
        """Whether this interpreter runs isolated (-I)."""
        return bool(getattr(sys.flags, "isolated", 0))

    def sleep(self, seconds):
        import time

        time.sleep(seconds)

    def unset(self, name):
        """Remove a variable from this process's environment (what client code will see)."""
        os.environ.pop(name, None)

    def remember(self, key, value):
        """Keep `value` for the life of this process, for any kernel module in it (a copy or the installed
        one): the handover of facts such as the kernel copy's path to client code, without env vars."""
        memory = getattr(sys, "_protoprimer_memory", None)
        if memory is None:
            memory = {}
            sys._protoprimer_memory = memory
        memory[key] = value
        installed = sys.modules.get("protoprimer.primer_kernel")
        if key == "proto_kernel_abs_path" and hasattr(installed, "_proto_kernel_abs_path"):
            installed._proto_kernel_abs_path = value  # where a protoprimer 0.13 installed kernel looks
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def recall(self, key, default=None):
        value = getattr(sys, "_protoprimer_memory", {}).get(key)
        if value is None and key == "proto_kernel_abs_path":
            value = globals().get("_proto_kernel_abs_path")  # set by a protoprimer 0.13 copy's start_app
        return default if value is None else value

    def terminal_width(self):
        import shutil

        return shutil.get_terminal_size((80, 24)).columns

    def enable_site(self):
        """Load `site` (the venv's site-packages, .pth files) when this interpreter started without it
        (-S, the fast entry script's way to start the venv's python): client code needs it."""
        if sys.flags.no_site:
            import site

            site.main()


# endregion: adapters
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class Host(Record):
    """The world as the kernel sees it: a filesystem, processes and an environment."""

    __slots__ = ("fs", "proc", "env")


def real_host():
    """The host of this real process."""
    return Host(RealFileSystem(), RealProcesses(), RealEnvironment())


# region: domain names (kept at the top so other tools can read them without running the kernel)

# What the kernel runs to learn an interpreter's facts: one line each for version, executable, prefix
# and base_prefix. Valid under Python 2.7 too, so an old candidate is reported by version, not by error.
PYTHON_PROBE_CODE = (
    "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3])); print(sys.executable); "
    "print(sys.prefix); print(getattr(sys, 'base_prefix', sys.prefix))"
)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
# The entry script `wrap` writes. No blank lines inside: the kernel copy's generated body markers replace
# blank lines, which would change a multi-line string.
ENTRY_SCRIPT_LINES = (
    "#!/usr/bin/env python3",
    "# Entry script generated by protoprimer (`wrap`): it loads the repo's kernel copy by its path relative to",
    "# this file and calls {entry_func}. Regenerate it with the `wrap` sub-command instead of editing it.",
    "import sys",
    "#",
    "if sys.version_info < (3, 7):",
    "    sys.stderr.write(",
    "        \"ERROR: protoprimer needs Python 3.7 or newer, but this is Python %d.%d.%d (%s).\\n\"",
    "        % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sys.executable)",
    "    )",
    "    sys.exit(9)",
    "#",
    "import importlib.machinery",
    "import os",
    "#",
    "PROTO_KERNEL_REL_PATH = \"{kernel_rel_path}\"",
    "#",
    "#",
    "def import_proto_kernel():",
    "    script_dir = os.path.dirname(os.path.realpath(__file__))  # a symlink to the script works too",
    "    kernel_path = os.path.normpath(os.path.join(script_dir, PROTO_KERNEL_REL_PATH))",
    "    if not os.path.isfile(kernel_path):",
    "        sys.stderr.write(\"ERROR the kernel copy %s is missing or a broken link: restore it (git checkout)\\n\" % kernel_path)",
    "        sys.exit(10)",
    "    loader = importlib.machinery.SourceFileLoader(\"proto_kernel\", kernel_path)  # importlib.util: 4 ms more",
    "    module = type(sys)(\"proto_kernel\")",
    "    module.__file__, module.__loader__ = kernel_path, loader",
    "    module.__spec__ = importlib.machinery.ModuleSpec(\"proto_kernel\", loader, origin=kernel_path)",
    "    sys.modules[\"proto_kernel\"] = module",
    "    loader.exec_module(module)",
    "    return module",
    "#",
    "#",
    "if __name__ == \"__main__\":",
    "    import_proto_kernel().{entry_func}({main_arg})",
)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# The entry script `wrap` writes on POSIX: a POSIX-shell front and the Python entry script in one file. For
# sh, the line after the shebang runs `true`; for Python it opens a string literal that hides the shell part.
# The front tells the kernel what it saw in PROTOPRIMER_FAST (docs/design.md, "The fast entry script").
FAST_ENTRY_FRONT = (
    "#!/bin/sh",
    "''''true",
    "# Entry script generated by protoprimer (`wrap`): a POSIX-shell front and a Python entry script in one",
    "# file. Once the venv is built, the front starts its python directly (before: python3 on PATH), and the",
    "# kernel confirms the venv by the record of its last good boot; without a client main, a run with nothing",
    "# to do ends in the front. Regenerate it with `wrap` (`wrap --plain`: the Python part alone).",
    'self="$0"',
    '# started through a symlink (~/bin/prime): find the script itself (without readlink: the slow path)',
    'while [ -h "$self" ] && link="$(readlink "$self" 2>/dev/null)"; do',
    '    case "$link" in /*) self="$link" ;; *) self="${{self%/*}}/$link" ;; esac',
    "done",
    'case "$self" in */*) here="${{self%/*}}" ;; *) here=. ;; esac',
    'venv="{venv_dir}"',
    '{noop}PROTOPRIMER_FAST=; export PROTOPRIMER_FAST  # the kernel: a front started me (docs/design.md)',
    'if [ -f "$venv/protoprimer.stamp" ] && [ -x "$venv/bin/python" ]; then',
    '{check}    exec "$venv/bin/python" -I -S "$0" "$@"',
    "fi",
    'exec python3 "$0" "$@"',
    "'" "''",
)
# The no-op of a boot_env script without a client main. The venv's record of its last good boot (written by
# the kernel) names the inputs; when each is as that boot found it (content: cksum; links: where they lead;
# nothing modified since that boot began), a run without arguments ends here and `-c CMD` runs in the venv.
FAST_NOOP_LINES = (
    'case "$(export -p)" in *PROTOPRIMER_*) knob=1 ;; *) knob= ;; esac  # a knob set: the kernel decides',
    "fast() {  # are the record's inputs as its boot found them? PROTOPRIMER_FAST: how they are now",
    "    set -f; nl='",
    "'; rec=\"$venv/protoprimer.fast\"; seen=; dirs=; v=; old=",
    "    command -v ls >/dev/null && command -v cksum >/dev/null || return 1  # what it needs, or the kernel decides",
    '    [ "$rec" -nt "$venv/bin/python" ] || old=1',
    "    while IFS= read -r line; do",
    '        case "$line" in venv=*) v="${line#venv=}" ;; file=*) set -- "$@" "${line#file=}" ;;',
    '            dir=*) dirs="$dirs$nl${line#dir=}" ;; seen=*) seen="$seen${seen:+$nl}${line#seen=}" ;; esac',
    '        case "$line" in file=*|dir=*) [ ! -e "${line#*=}" ] || [ "$rec" -nt "${line#*=}" ] || old=1 ;; esac',
    '    done <"$rec"',
    "    PROTOPRIMER_FAST=\"$(printf '%s\\n' \"${0##*/}\"; LC_ALL=C ls -diL \"$venv/bin/python\"; IFS=$nl",
    '        for d in "$here"$dirs; do cd "$d" 2>/dev/null && pwd -P; done; cksum "$@" </dev/null 2>/dev/null)"',
    '    [ -z "$old" ] && [ -n "$seen" ] && [ "$PROTOPRIMER_FAST" = "$seen" ]',
    "}",
)
FAST_NOOP_CHECK = (
    '    if [ -z "$knob" ] && [ -f "$venv/protoprimer.fast" ] && fast; then',
    "        [ $# -eq 0 ] && exit 0",
    '        if [ $# -eq 2 ] && [ -n "$v" ] && [ -z "${VIRTUAL_ENV-}" ] && [ -e "${SHELL-}" ]; then  # as the kernel runs -c',
    '            case "$1:${SHELL##*/}" in -c:bash | -c:zsh | -c:sh | --command:bash | --command:zsh | --command:sh)',
    "                unset PROTOPRIMER_FAST PYTHONPATH PYTHONHOME VIRTUAL_ENV_PROMPT __PYVENV_LAUNCHER__",
    '                VIRTUAL_ENV="$v"; PATH="$v/bin:$PATH"; export VIRTUAL_ENV PATH; exec "$SHELL" -c "$2" ;;',
    "            esac",
    "        fi",
    "    fi",
)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def render_fast_entry_script(entry_func, kernel_rel_path, main_func, venv_dir):
    """The fast form of an entry script (what `wrap` writes on POSIX); `venv_dir` is "$here/<path relative to
    the script>" or absolute. A boot_env script without a client main gets the no-op (FAST_NOOP_LINES)."""
    noop = entry_func == "boot_env" and main_func is None
    front = "\n".join(FAST_ENTRY_FRONT).format(venv_dir=venv_dir, noop="".join(
        line + "\n" for line in FAST_NOOP_LINES) if noop else "", check="".join(line + "\n" for line in FAST_NOOP_CHECK) if noop else "")
    return front + "\n" + render_entry_script(entry_func, kernel_rel_path, main_func).split("\n", 1)[1]


def render_entry_script(entry_func, kernel_rel_path, main_func=None):
    """The text of an entry script that loads the kernel copy at `kernel_rel_path` (relative to the
    script's directory) and calls `entry_func` ("boot_env" or "start_app") with "module:func" (boot_env
    may have none: it then bootstraps and runs `-c` or nothing)."""
    main_arg = "" if main_func is None else '"%s"' % main_func
    return "\n".join(ENTRY_SCRIPT_LINES).format(
        entry_func=entry_func, kernel_rel_path=kernel_rel_path, main_arg=main_arg
    ) + "\n"

# endregion: domain names
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# region: domain names (continued)


class ProtocolName(str):
    """A name of the protocol: a plain string (what crosses processes and versions) that also answers `.name`
    and `.value` like a member of the reference's enums, whose client code reads `ConfLeap.leap_env.name`."""

    def __new__(cls, value, name):
        member = str.__new__(cls, value)
        member.name = name
        member.value = value
        return member

    def __reduce__(self):
        return ProtocolName, (str(self), self.name)


class NameTable(type):
    """The metaclass of the kernel's name tables: each public string attribute becomes a ProtocolName, and the
    table answers the reference enums' lookups (`ConfLeap["leap_derived"]`, iteration, `in`)."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def __new__(mcs, cls_name, bases, namespace):
        members = []
        for key, value in list(namespace.items()):
            if not key.startswith("_") and isinstance(value, str):
                namespace[key] = ProtocolName(value, key)
                members.append(namespace[key])
        namespace["_members"] = tuple(members)
        return type.__new__(mcs, cls_name, bases, namespace)

    def __getitem__(cls, name):
        member = getattr(cls, name, None) if isinstance(name, str) and not name.startswith("_") else None
        if member not in cls._members:
            raise KeyError(name)
        return member

    def __iter__(cls):
        return iter(cls._members)


# The base of the name tables, made by calling the metaclass: the `metaclass=` keyword is Python 3 syntax,
# and the kernel must still parse under Python 2.7 to refuse it with its message.
NameTables = NameTable("NameTables", (object,), {"__doc__": "A table of protocol names (see NameTable)."})
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class StateStride(NameTables):
    """The milestones of the restart chain, carried between processes in PROTOPRIMER_PY_EXEC by name.

    The names are a protocol shared with older and newer kernels: never rename, only append.
    """

    stride_py_unknown = "stride_py_unknown"
    stride_py_arbitrary = "stride_py_arbitrary"
    stride_py_required = "stride_py_required"
    stride_py_venv = "stride_py_venv"
    stride_deps_updated = "stride_deps_updated"
    stride_src_updated = "stride_src_updated"


STRIDE_ORDER = (StateStride.stride_py_unknown, StateStride.stride_py_arbitrary, StateStride.stride_py_required,
                StateStride.stride_py_venv, StateStride.stride_deps_updated, StateStride.stride_src_updated)


class EntryFunc(NameTables):
    """How the kernel was entered: the first graph coordinate, known before anything is evaluated."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    func_boot_env = "boot_env"  # an entry script: CLI, restarts, venv, then the client's main
    func_start_app = "start_app"  # an entry script: no CLI; one hop into the venv, then the client's main
    func_call_lib = "call_lib"  # get_config() from client code: in-process, no CLI, no restarts, no writes
    func_run_main = "run_main"  # the kernel file run directly: CLI like boot_env, no client main


ENTRY_FUNCS = (EntryFunc.func_boot_env, EntryFunc.func_start_app, EntryFunc.func_call_lib, EntryFunc.func_run_main)


class ExecMode(NameTables):
    """What the run has to do: the second graph coordinate, derived from the sub-command (or from the
    entry function when there is no CLI). Known only after the CLI is parsed."""

    mode_read = "mode_read"  # resolve and report config; no restarts that matter, no writes (eval, get_config)
    mode_prime = "mode_prime"  # the whole chain: python, venv, installs, handover (boot, reset, shell)
    mode_start = "mode_start"  # the venv must exist already; one hop into it (start_app, start)
    mode_tool = "mode_tool"  # a local tool that needs no venv (wrap)


EXEC_MODES = (ExecMode.mode_read, ExecMode.mode_prime, ExecMode.mode_start, ExecMode.mode_tool)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
# The exec modes each entry function can reach.
ENTRY_FUNC_MODES = {
    EntryFunc.func_boot_env: EXEC_MODES,
    EntryFunc.func_run_main: EXEC_MODES,
    EntryFunc.func_start_app: (ExecMode.mode_start,),
    EntryFunc.func_call_lib: (ExecMode.mode_read,),
}


class SubCommand(NameTables):
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
SUB_COMMAND_ALIASES = {"reboot": SubCommand.reset}


class EnvVar(NameTables):
    """Environment variables of the protocol between the processes of a chain (and the user's knobs)."""

    PROTOPRIMER_PY_EXEC = "PROTOPRIMER_PY_EXEC"
    PROTOPRIMER_PROTO_CODE = "PROTOPRIMER_PROTO_CODE"
    PROTOPRIMER_START_ID = "PROTOPRIMER_START_ID"
    PROTOPRIMER_MAIN_FUNC = "PROTOPRIMER_MAIN_FUNC"
    PROTOPRIMER_STDERR_LOG_LEVEL = "PROTOPRIMER_STDERR_LOG_LEVEL"
    PROTOPRIMER_CONF_BASENAME = "PROTOPRIMER_CONF_BASENAME"
    PROTOPRIMER_VENV_DRIVER = "PROTOPRIMER_VENV_DRIVER"
    PROTOPRIMER_ENV_DIR = "PROTOPRIMER_ENV_DIR"
    PROTOPRIMER_FAST = "PROTOPRIMER_FAST"  # set by an entry script's shell front: what it saw (may be empty)


class ConfLeap(NameTables):
    """The hops of configuration discovery, in order."""

    leap_input = "leap_input"
    leap_primer = "leap_primer"
    leap_client = "leap_client"
    leap_env = "leap_env"
    leap_derived = "leap_derived"
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

CONF_LEAPS = (ConfLeap.leap_input, ConfLeap.leap_primer, ConfLeap.leap_client, ConfLeap.leap_env, ConfLeap.leap_derived)


class VenvDriverType(NameTables):
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
    no_python = 5  # no interpreter matches the required Python version
    tool_failed = 6  # a venv or installer command failed (pip, uv, python -m venv)
    venv_not_ready = 7  # start_app / start: the venv is missing or incomplete (run ./prime)
    refused = 8  # wrap: the script exists with other content (pass --force)
    python_too_old = 9  # the running interpreter is older than 3.7
    file_error = 10  # a file or directory protoprimer needs cannot be read or written (permissions, space)
    client_state_failed = 11  # a state of the client's (the meta runtime, protoprimer.meta) raised
    interrupted = 130  # Ctrl-C
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# Config fields: name -> (expected JSON type, what it is for). The names are the public schema.
PRIMER_FIELDS = ("ref_root_dir_rel_path", "global_conf_dir_rel_path")
CLIENT_FIELDS = ("local_conf_symlink_rel_path", "default_env_dir_rel_path")
COMMON_FIELDS = ("required_python_version", "python_selector_file_rel_path", "local_venv_dir_rel_path", "local_log_dir_rel_path",
                 "local_tmp_dir_rel_path", "local_cache_dir_rel_path", "venv_driver", "version_constraints_file_basename",
                 "project_descriptors", "install_specs")
LIST_FIELDS = ("project_descriptors", "install_specs")
FIELD_TYPES = dict((name, list if name in LIST_FIELDS else str) for name in PRIMER_FIELDS + CLIENT_FIELDS + COMMON_FIELDS)
# Which leaps read which fields (the "roles" a file plays).
ROLE_FIELDS = {ConfLeap.leap_primer: PRIMER_FIELDS, ConfLeap.leap_client: CLIENT_FIELDS + COMMON_FIELDS, ConfLeap.leap_env: COMMON_FIELDS}
DESCRIPTOR_FIELDS = {"build_root_dir_rel_path": str, "install_extras": list, "install_group": str}

DEFAULT_CONF_BASENAME = "protoprimer.json"
DEFAULT_GLOBAL_CONF_DIR = "gconf"
DEFAULT_LOCAL_CONF_SYMLINK = "lconf"
DEFAULT_DIRS = {"local_venv_dir_rel_path": "venv", "local_log_dir_rel_path": "log", "local_tmp_dir_rel_path": "tmp",
                "local_cache_dir_rel_path": "cache"}
DEFAULT_CONSTRAINTS_BASENAME = "constraints.txt"
VENV_STAMP_BASENAME = "protoprimer.stamp"
FAST_RECORD_BASENAME = "protoprimer.fast"  # beside the stamp: the inputs of the last good boot (the fast path)
INSTALLED_KERNEL_MODULE = "protoprimer.primer_kernel"
PYTHON_VERSION_FILE = ".python-version"
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class PrimerError(Exception):
    """A failure the user can fix: one message, a documented exit code, no traceback unless -v."""

    exit_code = ExitCode.internal_error

    def __init__(self, message, exit_code=None):
        Exception.__init__(self, message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


# The PrimerErrors of one exit code each: the command line, a config file or field, a chain variable.
UsageError = type("UsageError", (PrimerError,), {"exit_code": ExitCode.usage_error})
ConfigError = type("ConfigError", (PrimerError,), {"exit_code": ExitCode.config_error})
ChainError = type("ChainError", (PrimerError,), {"exit_code": ExitCode.chain_error})


class ClientCodeMissing(Exception):
    """The client's module:func cannot be imported or found (raised by the process port)."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class GraphError(Exception):
    """A defect of the state graph itself (a programming error, not a user error)."""


# endregion: domain names


# region: graph engine
# An append-only registry maps each state name to a factory. A factory looks at the graph coordinates
# (entry function, exec mode) and returns the implementation of that state for them: its declared parents
# and the function that computes its value, or None when the state has no meaning there. Graphs are built
# backwards from a target, one node at a time, as values are asked for; a node reads only the parents it
# declares, and only those it needs. Values are cached for the life of the context (one process).


class Coordinates(Record):
    """Where in the space of graphs a run is: (entry function, exec mode). Immutable.

    The exec mode is None until the CLI is parsed; factories that need it must not be reached before.
    """
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    __slots__ = ("entry_func", "exec_mode")
    _defaults = (None,)

    def __repr__(self):
        return "(%s, %s)" % (self.entry_func, self.exec_mode)


class StateImpl(Record):
    """One implementation of a state: its declared parents (a tuple) and `compute(ctx, parents) -> value`."""

    __slots__ = ("parents", "compute")


def one_impl(parents, compute):
    """A factory with one implementation for every coordinate."""
    impl = StateImpl(parents, compute)
    return lambda coords: impl


def impl_by_mode(table, need_mode=True):
    """A factory choosing by exec mode: `table` maps a mode (or None for "any other") to a StateImpl."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def cached(self, name=None, default=None):
        """The value of `name` if this process has evaluated it, else `default` (nothing is evaluated); without
        a name, all the values computed so far (a copy)."""
        return dict(self._values) if name is None else self._values.get(name, default)

    def seed(self, values):
        """Take values computed by another graph of the same run (the meta runtime's, from the proto runtime's)."""
        self._values.update(values)

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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
        if ctx.log.enabled(10):
            ctx.log.log(10, "state %s = %s" % (name, _short_repr(value)))
        return value


def _short_repr(value):
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# endregion: graph engine


# region: states


class ConfFile(Record):
    """A config file as read: where it is, whether it exists, and its JSON object (empty when missing)."""

    __slots__ = ("path", "present", "data")


class EnvSelection(Record):
    """Which env dir this run uses, why (`source`; `kind`: cli, link, default or none), and the state of the
    `lconf` link that names it."""

    __slots__ = ("env_abs", "env_rel", "source", "link_path", "link_points_there", "kind")


class PythonCandidate(Record):
    """An interpreter found for the required version (`path` is its sys.executable; `found` the PATH hit
    that led to it, such as a pyenv shim), or the record of why none was."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    __slots__ = ("path", "version", "tried", "found")
    _defaults = (None,)


def _json_type_name(value):
    kinds = ((type(None), "null"), (bool, "a boolean"), ((int, float), "a number"), (str, "a string"), (list, "a list"),
             (dict, "an object"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


_EXPECTED_TYPE_NAMES = {str: "a string", list: "a list", dict: "an object"}


def _check_type(path, field_path, value, expected, allow_null=True):
    if value is None and allow_null:
        return
    if isinstance(value, bool) or not isinstance(value, expected):
        raise ConfigError(
            "%s: field %s must be %s, got %s (%s)"
            % (path, field_path, _EXPECTED_TYPE_NAMES[expected], _json_type_name(value), _short_json(value))
        )
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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
            field = "%s.install_extras[%d]" % (where, extra_index)
            _check_type(path, field, extra, str, allow_null=False)
            if not extra or extra.strip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"):
                raise ConfigError("%s: field %s = %r is not an extra name (letters, digits, '.', '_', '-'), "
                                  "such as \"test\"" % (path, field, extra))
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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

    if text.startswith("\ufeff"):
        raise ConfigError("%s starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without a BOM" % path)
    try:
        data = json.loads(text)
    except RecursionError:
        raise ConfigError("%s: the JSON nests too deeply to be a config file" % path)
    except ValueError as e:
        if getattr(e, "lineno", None) is None:  # not a syntax error: a value Python will not hold (a huge number)
            raise ConfigError("%s: a value cannot be read: %s" % (path, str(e).split(";")[0]))
        raise ConfigError("%s: malformed JSON at line %s, column %s: %s" % (path, e.lineno, e.colno, e.msg))
    if not isinstance(data, dict):
        raise ConfigError(
            "%s: the top level is %s, but a config file holds one JSON object {...}" % (path, _json_type_name(data))
        )
    _check_conf_types(path, data)
    return ConfFile(path, True, data)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _loaded(ctx, conf):
    if conf.present:
        ctx.log.info("read %s: %s" % (conf.path, ", ".join(sorted(conf.data)) or "no fields"))
    else:
        ctx.log.info("no config file %s: its defaults apply" % conf.path)
    return conf


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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- phase 1: what the process was started with (no exec mode yet)


KNOBS = (EnvVar.PROTOPRIMER_CONF_BASENAME, EnvVar.PROTOPRIMER_VENV_DRIVER)


def knob(ctx, name):
    """A user's PROTOPRIMER_* setting: from the environment, or (in client code, where the variables are
    gone) as the run that started the client code had it."""
    value = ctx.host.env.get(name)
    return value if value is not None else ctx.host.env.recall("knobs", {}).get(name)


def _compute_py_exec(ctx, p):
    value = ctx.chain[0] if ctx.chain else ctx.host.env.get(EnvVar.PROTOPRIMER_PY_EXEC)
    if value is None:
        return StateStride.stride_py_unknown
    if value not in STRIDE_ORDER:
        raise ChainError(
            "%s=%r is not a stride name (one of: %s). protoprimer sets it only between its own processes: "
            "unset it and run again." % (EnvVar.PROTOPRIMER_PY_EXEC, value, ", ".join(STRIDE_ORDER))
        )
    return value
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_start_id(ctx, p):
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_START_ID)
    if value is not None:
        if not value or "/" in value or value.startswith("."):
            raise ChainError(
                "%s=%r is not a start id; it is set only between protoprimer's own processes: unset it"
                % (EnvVar.PROTOPRIMER_START_ID, value)
            )
        return value
    return new_start_id(ctx.host.env)


def new_start_id(env):
    """A start id: the UTC time and the pid, `20261207T181618Z.4242` (it names the run's log file)."""
    import time

    return "%sZ.%d" % (time.strftime("%Y%m%dT%H%M%S", time.gmtime(env.now())), env.pid)


def _compute_proto_code_var(ctx, p):
    if ctx.chain:
        return ctx.chain[1]
    value = ctx.host.env.get(EnvVar.PROTOPRIMER_PROTO_CODE)
    if value is None:
        stride = p["state_input_py_exec_var_loaded"]
        if stride_rank(stride) >= stride_rank(StateStride.stride_py_venv):
            raise ChainError(
                "%s=%s is set but %s is not: a chain at that stride always names the kernel copy. It leaked from "
                "another run, or was set by hand: unset %s and run again"
                % (EnvVar.PROTOPRIMER_PY_EXEC, stride, EnvVar.PROTOPRIMER_PROTO_CODE, EnvVar.PROTOPRIMER_PY_EXEC)
            )
        return None
    if ctx.host.env.get(EnvVar.PROTOPRIMER_PY_EXEC) is None:
        raise ChainError(
            "%s is set but %s is not: it leaked from another protoprimer run (a client main or shell of an "
            "older version); unset it and run again" % (EnvVar.PROTOPRIMER_PROTO_CODE, EnvVar.PROTOPRIMER_PY_EXEC)
        )
    if not os.path.isabs(value) or not ctx.host.fs.is_file(value):
        raise ChainError(
            "%s=%r must be the absolute path of an existing kernel file; it is set only between "
            "protoprimer's own processes: unset it and run again." % (EnvVar.PROTOPRIMER_PROTO_CODE, value)
        )
    return os.path.normpath(value)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# The CLI in two tables: they build the parser, tell the sub-command scan which options take a value, and
# give DefaultArgs. Sub-commands: (name, aliases, help). Options: (sub-command, or "*" for the common ones
# accepted before and after it; option strings, none for a positional; dest; kind: "count", "flag", "value",
# "required" (a value that must be given), "rest" (every word after it) or a tuple of choices; metavar; help).
CLI_SUB_COMMANDS = (
    (SubCommand.boot, (), "bootstrap the venv, then run the entry script's client main (if it names one), then "
                          "COMMAND (with -c); the default sub-command"),
    (SubCommand.reset, ("reboot",), "rebuild the venv from scratch: drop it, the pins and the tool venvs, then boot"),
    (SubCommand.eval, (), "print the effective config and write nothing"),
    (SubCommand.shell, (), "bootstrap, then start a shell with the venv activated (or run COMMAND in it)"),
    (SubCommand.start, (), "run MODULE:FUNC inside the venv, which must exist already"),
    (SubCommand.wrap, (), "write an entry script that loads this kernel copy"),
)
CLI_OPTIONS = (
    ("*", ("-v", "--verbose"), "stderr_log_level_verbose", "count", None, "log more to stderr (repeat for more: -v INFO, -vv DEBUG)"),
    ("*", ("-q", "--quiet"), "stderr_log_level_quiet", "count", None, "log less to stderr (repeat for less)"),
    ("*", ("-e", "--env"), "selected_env_dir", "value", "DIR",
     "use the env dir DIR (relative to the ref root, or to the current dir) and point lconf at it"),
    (SubCommand.boot, ("-c", "--command"), "run_command", "value", "COMMAND", "run COMMAND in a shell with the venv activated"),
    (SubCommand.boot, ("-t", "--target", "--final_state"), "final_state", "value", "TARGET",
     "stop at TARGET: a target name (boot, venv, config, or one a client main adds) or a state name"),
    (SubCommand.eval, ("--json",), "print_json", "flag", None, "print one JSON document instead of one per leap"),
    (SubCommand.shell, ("-c", "--command"), "run_command", "value", "COMMAND", "run COMMAND instead of an interactive shell"),
    (SubCommand.start, (), "main_func", "value", "MODULE:FUNC", None),
    (SubCommand.start, (), "main_args", "rest", "ARG", "passed to the function as sys.argv[1:]"),
    (SubCommand.wrap, (), "wrap_entry_func", ("boot_env", "start_app"), "ENTRY_FUNC", None),
    (SubCommand.wrap, ("-s", "--script"), "script_path", "required", "PATH", "where to write the script"),
    (SubCommand.wrap, ("-m", "--main"), "main_func", "value", "MODULE:FUNC", "the client function the script calls"),
    (SubCommand.wrap, ("--force",), "force", "flag", None, "overwrite a different existing file"),
    (SubCommand.wrap, ("--plain",), "plain", "flag", None, "the Python entry script alone, without the POSIX-shell "
     "front that POSIX gets by default (its fast path: docs/design.md); what Windows gets"),
    (SubCommand.wrap, ("--fast",), "fast", "flag", None, "the POSIX-shell front, also on Windows"),
)
_VALUE_OPTIONS = tuple(flag for option in CLI_OPTIONS if option[3] in ("value", "required") for flag in option[1])
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
# What parse_cli([]) returns, without argparse: a run without arguments (a warm ./prime) saves its import
# and the building of its parsers, about 6 ms a process.
DefaultArgs = type("DefaultArgs", (object,), dict(
    [(option[2], {"count": 0, "flag": False}.get(option[3])) for option in CLI_OPTIONS]
    + [("sub_command", SubCommand.boot), ("client_args", ()), ("__doc__", "The arguments of a run without any.")]
))


def _compute_args(ctx, p):
    argv = ctx.host.env.argv[1:]
    client_args = ctx.main_func is not None and ctx.entry_func == EntryFunc.func_boot_env
    return parse_cli(argv, ctx.host.env, client_args=client_args) if argv else DefaultArgs()


LOG_LEVEL_NAMES = {"NOTSET": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}


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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _args(ctx, p):
    """The parsed CLI where the entry function has one (boot_env, run_main; see `_with_args`), else what a
    run without arguments gets."""
    return p["state_args_parsed"] if ctx.coordinates.entry_func in _APP else DefaultArgs


def _compute_log_level(ctx, p):
    level = p["state_input_stderr_log_level_var_loaded"]
    args = _args(ctx, p)
    level = (30 if level is None else level) + 10 * (args.stderr_log_level_quiet - args.stderr_log_level_verbose)
    return max(level, 0)


def _compute_log_configured(ctx, p):
    level = p["state_stderr_log_level_finalized"]
    ctx.log.level = level
    return level


def _compute_sub_command_from_args(ctx, p):
    return p["state_args_parsed"].sub_command
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_exec_mode(ctx, p):
    p["state_input_py_exec_var_loaded"]  # a forged chain variable stops every run, whatever it does
    sub_command = p["state_input_sub_command_arg_loaded"]
    p["state_stderr_log_configured"]
    if ctx.entry_func == EntryFunc.func_call_lib:
        return ExecMode.mode_read
    return SUB_COMMAND_MODES[sub_command]


# User-facing target names (`--target NAME`): stable, while the states they stand for may be renamed.
TARGETS = {"config": "state_derived_conf_data_loaded", "venv": "state_venv_prepared", "boot": "state_boot_completed"}


def _compute_final_target(ctx, p):
    if ctx.forced_target is not None:
        return ctx.forced_target
    final_state = _args(ctx, p).final_state
    if final_state:
        state = TARGETS.get(final_state, final_state)
        if ctx.graph.is_registered(state):
            return state
        if ctx.main_func is None or ctx.entry_func != EntryFunc.func_boot_env:
            raise UsageError("--target %s: no target or state of that name (targets: %s)" % (final_state, ", ".join(sorted(TARGETS))))
        ctx.meta_target = final_state  # a target the client's main may add (the meta runtime): checked after it
    return FINAL_TARGETS[p["state_exec_mode_inited"]]
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- phase 2: configuration leaps


def _compute_proto_code_path(ctx, p):
    """The kernel copy: named by the chain variable in later processes, kept in-process for client code
    (which never sees the variable), else the file of the kernel that is running."""
    from_var = p["state_input_proto_code_file_abs_path_var_loaded"]
    if from_var is not None:
        return from_var
    remembered = ctx.host.env.recall("proto_kernel_abs_path")
    if remembered is not None:
        return remembered
    running = os.path.normpath(ctx.host.env.kernel_path)
    if running.endswith(os.sep + INSTALLED_KERNEL_MODULE.replace(".", os.sep) + ".py"):
        return _find_repo_copy(ctx)  # the package's own module (imported, or run with -m) is no repo's copy
    return running


# Where a repo keeps its kernel copy by default: the instant layout, then the reference's max layout.
DEFAULT_COPY_PLACES = ("proto_kernel.py", os.path.join("cmd", "proto_code", "proto_kernel.py"))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _find_repo_copy(ctx):
    """The repo's kernel copy for a process that no entry script started (a plain `venv/bin/python`, a
    tool the client runs from its venv) and that runs the installed kernel: the copy named by the stamp of the venv this
    process runs in, else the first default place from the current directory upward."""
    env, fs = ctx.host.env, ctx.host.fs
    looked = []
    if env.prefix != env.base_prefix:
        stamp_file = os.path.join(env.prefix, VENV_STAMP_BASENAME)
        copy = (read_stamp(fs, stamp_file) or {}).get("proto_code")
        if copy and fs.is_file(copy):
            return copy
        looked.append("the stamp %s" % stamp_file)
    directory = env.cwd()
    while True:
        for place in DEFAULT_COPY_PLACES:
            if fs.is_file(os.path.join(directory, place)):
                return os.path.join(directory, place)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    looked.append("%s in %s and its parents" % (" or ".join(DEFAULT_COPY_PLACES), env.cwd()))
    raise ConfigError(
        "cannot tell which repo this is: the process runs the installed protoprimer (%s), not a repo's kernel "
        "copy, and no copy was found (looked at %s). Start it through the repo's entry script (start_app), "
        "from the repo's venv, or from inside the repo" % (env.kernel_path, "; ".join(looked))
    )
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_primer_conf_path(ctx, p):
    kernel_path = p["state_proto_code_file_abs_path_inited"]
    kernel_dir = os.path.dirname(kernel_path)
    candidates = primer_conf_candidates(ctx, kernel_path)
    for basename in candidates:
        path = os.path.join(kernel_dir, basename)
        if ctx.host.fs.lexists(path):  # a directory or a link loop there is reported when it is read
            ctx.log.info("primer config %s (next to the kernel copy %s)" % (path, kernel_path))
            return path
    message = "no config file next to the kernel %s (looked for %s): using the defaults; `eval` shows the " \
        "effective config" % (kernel_path, ", ".join(_unique(candidates)))
    if ctx.host.fs.is_dir(os.path.join(kernel_dir, DEFAULT_DIRS["local_venv_dir_rel_path"])):
        ctx.log.info(message)  # said on the first boot; the instant layout is a supported layout, not a mistake
    else:
        ctx.warn_once("primer-missing", message)
    return os.path.join(kernel_dir, DEFAULT_CONF_BASENAME)


def primer_conf_candidates(ctx, kernel_path):
    """The basenames the primer config is looked for under, next to the kernel copy, in order."""
    candidates = []
    forced = knob(ctx, EnvVar.PROTOPRIMER_CONF_BASENAME)
    if forced is not None:
        if not forced or os.path.basename(forced) != forced or forced in (".", ".."):
            raise ConfigError(
                "%s=%r must be a file name (no directory part), for example proto_kernel.json"
                % (EnvVar.PROTOPRIMER_CONF_BASENAME, forced)
            )
        candidates.append(forced)
    argv = ctx.host.env.argv
    if argv and argv[0]:
        candidates.append(os.path.splitext(os.path.basename(argv[0]))[0] + ".json")
    return candidates + [os.path.splitext(os.path.basename(kernel_path))[0] + ".json", DEFAULT_CONF_BASENAME]
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _compute_primer_conf(ctx, p):
    return _loaded(ctx, load_conf_file(ctx.host.fs, p["state_primer_conf_file_abs_path_inited"]))


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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_global_conf_dir(ctx, p):
    primer = p["state_primer_conf_file_data_loaded"]
    rel = primer.data.get("global_conf_dir_rel_path") or DEFAULT_GLOBAL_CONF_DIR
    ref_root = p["state_ref_root_dir_abs_path_inited"]
    path = _norm_join(ref_root, rel)
    if not _is_inside(path, ref_root) or (ctx.host.fs.lexists(path) and not ctx.host.fs.is_dir(path)):
        raise ConfigError("%s: field global_conf_dir_rel_path = %r must name a directory inside the ref root %s "
                          "(%s %s)" % (primer.path, rel, ref_root, path, "is outside it" if not _is_inside(path, ref_root)
                                        else "is not a directory"))
    return path


def _compute_global_conf_path(ctx, p):
    basename = os.path.basename(p["state_primer_conf_file_abs_path_inited"])
    return os.path.join(p["state_global_conf_dir_abs_path_inited"], basename)


def _compute_client_conf(ctx, p):
    """The global file. Its absence is worth a warning only where one is expected: the primer file names
    the global dir, or that dir exists (the min layout has neither, by design)."""
    conf = _loaded(ctx, load_conf_file(ctx.host.fs, p["state_global_conf_file_abs_path_inited"]))
    primer = p["state_primer_conf_file_data_loaded"]
    expected = "global_conf_dir_rel_path" in primer.data or ctx.host.fs.is_dir(os.path.dirname(conf.path))
    if not conf.present and expected:
        ctx.warn_once(
            "global-missing",
            "no global config %s: using the defaults; `eval` shows the effective config" % conf.path,
        )
    return conf
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _select_env(ctx, p, cli_env, resetting=False, chained=None):
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
    stale = link_target is not None and not fs.is_dir(link_target)
    if chained == "none":
        return EnvSelection(None, None, "no env", link_path, True, "none")
    if cli_env is not None:
        env_abs = _resolve_env_arg(ctx, ref_root, cli_env)
        source = "--env %s" % cli_env if chained is None else "the run's first process (%s)" % chained
        kind = chained or "cli"
    elif link_target is not None and not (stale and resetting):
        if stale:
            raise ConfigError(
                "%s points to %s, which is not a directory: pick an env with --env DIR, or run reset"
                % (link_path, link_target)
            )
        env_abs, kind = link_target, "link"
        source = "the symlink %s" % link_path
    else:
        if stale:
            ctx.log.warning("%s points to %s, which is gone: reset goes back to the default env" % (link_path, link_target))
        default_rel = client.data.get("default_env_dir_rel_path")
        if default_rel is None:
            ctx.log.info("no env: no --env, no %s symlink, no default_env_dir_rel_path in %s" % (link_path, client.path))
            return EnvSelection(None, None, "no env", link_path, False, "none")
        env_abs = _norm_join(ref_root, default_rel)
        if os.path.isabs(default_rel) or not fs.is_dir(env_abs):
            raise ConfigError(
                "%s: field default_env_dir_rel_path must name a directory relative to the ref root %s; "
                "%r does not" % (client.path, ref_root, default_rel)
            )
        source, kind = "field default_env_dir_rel_path in %s" % client.path, "default"
    real_env, real_root = fs.real_path(env_abs), fs.real_path(ref_root)
    if not _is_inside(env_abs, ref_root) or env_abs == ref_root or not _is_inside(real_env, real_root) or real_env == real_root:
        raise ConfigError(
            "env dir %s (from %s) must be a directory inside the ref root %s" % (env_abs, source, ref_root)
        )
    # a run that found its env through the link leaves the link alone, even if another run re-points it meanwhile
    points_there = chained == "link" or link_target is not None and fs.same_file(link_path, env_abs)
    ctx.log.info("env %s, chosen by %s" % (env_abs, source))
    return EnvSelection(env_abs, os.path.relpath(env_abs, ref_root), source, link_path, points_there, kind)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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


def _compute_env_selection(ctx, p):
    """The env of the run: the chain's later processes take the one its first process chose (carried in
    PROTOPRIMER_ENV_DIR as `kind:path`), so that another run re-pointing the link meanwhile changes nothing."""
    args = _args(ctx, p)
    kind, _, path = (ctx.host.env.get(EnvVar.PROTOPRIMER_ENV_DIR) or "").partition(":")
    later = ctx.chain is not None or ctx.host.env.get(EnvVar.PROTOPRIMER_PY_EXEC) is not None
    if args.selected_env_dir is None and later and kind in ("link", "default", "none"):
        return _select_env(ctx, p, path or None, chained=kind)
    return _select_env(ctx, p, args.selected_env_dir, resetting=args.sub_command == SubCommand.reset)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_selected_env_rel(ctx, p):
    return p["state_env_selection_inited"].env_rel


def _compute_symlink_path(ctx, p):
    selection = p["state_env_selection_inited"]
    if selection.env_abs is None:
        return p["state_ref_root_dir_abs_path_inited"]
    return selection.link_path


def _compute_symlink_ensured(ctx, p):
    """Point the `lconf` link at the selected env when it does not already (writes; prime mode only). Done
    when the boot has succeeded, so that a failed `--env X` leaves the link where it was: the run reads the
    env's files at their real path meanwhile, and every process of the chain gets `--env X` again."""
    selection = p["state_env_selection_inited"]
    fs = ctx.host.fs
    if selection.env_abs is None and fs.lexists(selection.link_path) and not fs.exists(selection.link_path):
        fs.remove(selection.link_path)  # reset with no default env: the stale link goes
        ctx.log.info("removed the stale link %s" % selection.link_path)
        return True
    if selection.env_abs is None or selection.link_points_there:
        return False
    target = os.path.relpath(selection.env_abs, os.path.dirname(selection.link_path))
    ctx.host.fs.make_symlink(target, selection.link_path)
    ctx.log.info("pointed %s at %s (%s)" % (selection.link_path, target, selection.source))
    return True
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_local_conf_path(ctx, p):
    """The local config file: through the `lconf` link when it points at the env (the reference's form of
    the derived value), else in the env dir itself; in the ref root when there is no env."""
    selection = p["state_env_selection_inited"]
    basename = os.path.basename(p["state_primer_conf_file_abs_path_inited"])
    if selection.env_abs is None:
        return os.path.join(p["state_ref_root_dir_abs_path_inited"], basename)
    return os.path.join(selection.link_path if selection.link_points_there else selection.env_abs, basename)


def _compute_env_conf(ctx, p):
    path = p["state_local_conf_file_abs_path_inited"]
    selection = p["state_env_selection_inited"]
    if selection.env_abs is not None:  # read (and named in messages) in the env dir, not through the link
        path = os.path.join(selection.env_abs, os.path.basename(path))
    conf = _loaded(ctx, load_conf_file(ctx.host.fs, path))
    if not conf.present and selection.env_abs is not None:
        ctx.warn_once(
            "local-missing",
            "no local config %s in the env dir %s: the global config applies as it is"
            % (os.path.basename(conf.path), selection.env_abs),
        )
    return conf
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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
                import difflib
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
                nearest = difflib.get_close_matches(field, sorted(FIELD_TYPES), 1, 0.75)
                hint = "known fields: docs/config.md"
                if nearest:
                    belongs = [_LEAP_TITLES[leap] for leap, fields in ROLE_FIELDS.items() if nearest[0] in fields]
                    hint = "did you mean %s?%s" % (nearest[0], "" if nearest[0] in known else
                                                   " It is read from the %s config" % " or ".join(belongs))
                message = "%s: unknown field %s is ignored (%s)" % (conf.path, field, hint)
            ctx.warn_once("field:%s:%s" % (conf.path, field), message)
    return True


_LEAP_TITLES = {
    ConfLeap.leap_primer: "primer",
    ConfLeap.leap_client: "global",
    ConfLeap.leap_env: "local",
}


# --- derived fields

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
def parse_python_version(text):
    """'3', '3.11' or '3.11.7' -> a tuple of 1 to 3 ints; anything else -> None."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(part and part.strip("0123456789") == "" for part in parts):
        return None
    return tuple(int(part) for part in parts)


def parse_required_version(text):
    """A required version as users write it -> (numeric prefix as 1 to 3 ints, ignored suffix), or None.
    Pre-release forms the reference accepted match by their numeric prefix: '3.13.0rc2', '3.12.0a1',
    '3.10b5', '3.10.1-beta.2' -> (3, 13, 0), (3, 12, 0), (3, 10), (3, 10, 1)."""
    text = text.strip()
    end = 0
    while end < len(text) and text[end] in "0123456789.":
        end += 1
    prefix, suffix = text[:end], text[end:]
    if prefix.endswith(".") and suffix:
        prefix, suffix = prefix[:-1], "." + suffix
    version = parse_python_version(prefix) if prefix else None
    if version is None:
        return None
    if suffix:
        letters = suffix.lstrip("-.")
        if not letters[:1].isalpha() or not all(c.isalnum() or c in ".-+" for c in letters):
            return None
    return version, suffix
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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


class Probe(Record):
    """What an interpreter said about itself (version, sys.executable, its venv dir or None), or the
    `problem` that kept it from answering."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    __slots__ = ("version", "executable", "venv", "problem")
    _defaults = (None, None, None, None)


def probe_python(host, path):
    """Ask the interpreter at `path` about itself (with -E -s, which Python 2 accepts too, so that an old
    interpreter is reported by its version)."""
    result = host.proc.run([path, "-E", "-s", "-c", PYTHON_PROBE_CODE], env=clean_env(host.env.variables()))
    lines = result.stdout.splitlines()
    if result.returncode == 0 and len(lines) < 2:
        return Probe(problem="answered the probe with too little (%r)" % result.stdout[:100])
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else ""
        last = last if len(last) <= 160 else last[:157] + "..."
        return Probe(problem="does not run (exit %d%s)" % (result.returncode, ": " + last if last else ""))
    version = parse_python_version(lines[0])
    if version is None or len(version) != 3:
        return Probe(problem="answered the version probe with %r" % lines[0])
    in_venv = len(lines) >= 4 and lines[2] != lines[3]
    return Probe(version, lines[1], lines[2] if in_venv else None)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def probe_base_python(host, path, known=None):
    """Probe a candidate to make a venv from. The running interpreter needs no process; an unchanged file
    probed before (`known`: real path -> (file signature, version, executable)) is not probed again; a venv's
    python is rejected. The executable is the real file, the interpreter's identity."""
    env = host.env
    fs = host.fs
    if fs.same_file(path, env.executable) and env.prefix == env.base_prefix:
        return Probe(env.version, fs.real_path(env.executable))
    remembered = (known or {}).get(fs.real_path(path))
    if remembered is not None and remembered[0] == fs.stat_signature(path):
        return Probe(remembered[1], remembered[2])
    probe = probe_python(host, path)
    if probe.venv is not None:
        return Probe(problem="is the python of the venv %s, not a base interpreter" % probe.venv)
    if probe.problem is None:
        probe.executable = fs.real_path(probe.executable)
    return probe


def version_matches(version, required):
    return tuple(version[: len(required)]) == tuple(required)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def find_python(host, required, known=None):
    """Search every PATH directory (without an active foreign venv) for pythonX.Y.Z, pythonX.Y, pythonX,
    python; return the first base interpreter whose version matches."""
    path_dirs = [d for d in clean_env(host.env.variables()).get("PATH", "").split(os.pathsep) if d]
    names = ["python" + ".".join(str(part) for part in required[:size]) for size in (3, 2, 1) if len(required) >= size]
    tried = []
    seen = []
    for name in _unique(names + ["python"]):
        hits = _unique([hit for hit in (host.proc.which(name, d) for d in path_dirs) if hit is not None])
        if not hits:
            tried.append("%s: not on PATH" % name)
        for found in hits:
            real = host.fs.real_path(found)
            if real in seen:
                continue
            probe = probe_base_python(host, found, known)
            if probe.problem is not None:
                tried.append("%s: %s" % (found, probe.problem))
                if not probe.problem.startswith("is the python of the venv"):
                    seen.append(real)
                continue
            seen.append(real)
            if not version_matches(probe.version, required):
                tried.append("%s: Python %s" % (found, _version_text(probe.version)))
                continue
            return PythonCandidate(probe.executable, probe.version, tried, found)
    return PythonCandidate(None, None, tried)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_selected_python_read(ctx, p):
    candidate = p["state_python_candidate_found"]
    requirement = p["state_python_requirement_inited"]
    required = None if requirement is None else requirement.text
    if ctx.coordinates.entry_func in _APP:
        pass  # eval: the boot's own error follows the printed config
    elif required is None:
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

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
def _dir_state(field):
    def compute(ctx, p):
        value, source = _override(p, field)
        return _norm_join(p["state_ref_root_dir_abs_path_inited"], value or DEFAULT_DIRS[field])

    return compute


def _compute_venv_dir(ctx, p):
    """The venv dir, which every command that reads the config derives: the config files are checked
    here, so a typo warns in boot, start and eval alike (once per invocation). It must be a directory of
    its own: a rebuild moves it aside whole."""
    p["state_conf_files_checked"]
    venv = _dir_state("local_venv_dir_rel_path")(ctx, p)
    fs, ref_root = ctx.host.fs, p["state_ref_root_dir_abs_path_inited"]
    held = [path for path in (p["state_proto_code_file_abs_path_inited"], p["state_global_conf_file_abs_path_inited"],
                              os.path.join(ref_root, "pyproject.toml")) if _is_inside(path, venv)]
    if held or (fs.lexists(venv) and not fs.is_dir(venv)):
        value, source = _override(p, "local_venv_dir_rel_path")
        raise ConfigError(
            "%s: field local_venv_dir_rel_path = %r names %s, which %s: the venv needs a directory of its own "
            "(a rebuild moves it aside whole), such as \"venv\"" % (
                source or "the default", value, venv, "holds %s" % held[0] if held else "is not a directory"))
    return venv
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_venv_driver(ctx, p):
    forced = knob(ctx, EnvVar.PROTOPRIMER_VENV_DRIVER)
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

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_effective_config_printed(ctx, p):
    """`eval`: print what resolves, then fail wherever a boot would fail on the same config (a check for
    scripts and CI: the same ERROR line and exit code as ./prime)."""
    code = _print_effective_config(ctx, p, _args(ctx, p).print_json)
    check_python_selected(p)
    check_projects(ctx, p)
    return code


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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- the chain: Python selection, the venv, installs, the handover to client code


class PythonRequirement(Record):
    """The required Python version as written, parsed, and where it was written."""

    __slots__ = ("text", "version", "source")


def _compute_python_requirement(ctx, p):
    value, source = _override(p, "required_python_version")
    if value is not None:
        parsed = parse_required_version(value)
        if parsed is None:
            raise ConfigError(
                "%s: field required_python_version must be a version X, X.Y or X.Y.Z, such as \"3.11\"; got %r"
                % (source, value)
            )
        return _requirement(ctx, value, parsed, "field required_python_version in %s" % source)
    fs = ctx.host.fs
    directory = p["state_ref_root_dir_abs_path_inited"]
    while True:
        candidate = os.path.join(directory, PYTHON_VERSION_FILE)
        if fs.lexists(candidate):  # what is not a readable file there is reported when it is read
            break
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    value = _read_python_version_file(fs, candidate)
    if value is None:
        raise ConfigError("%s has no version line: write one line such as 3.11" % candidate)
    parsed = parse_required_version(value)
    if parsed is None:
        raise ConfigError("%s: %r is not a Python version: write X.Y or X.Y.Z, such as 3.11" % (candidate, value))
    return _requirement(ctx, value, parsed, candidate)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _requirement(ctx, text, parsed, source):
    version, suffix = parsed
    if suffix:
        ctx.warn_once(
            "version-suffix",
            "required Python version %r (%s): the suffix %r is ignored; any Python %s matches"
            % (text, source, suffix, _version_text(version)),
        )
    ctx.log.info("required Python version %s, from %s" % (text, source))
    return PythonRequirement(text, version, source)


def _compute_required_python_version(ctx, p):
    requirement = p["state_python_requirement_inited"]
    return None if requirement is None else requirement.text


def _version_text(version):
    return ".".join(str(part) for part in version)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_python_candidate(ctx, p):
    candidate = _python_candidate(ctx, p)
    for line in candidate.tried:
        ctx.log.info("rejected %s" % line)
    if candidate.path is not None:
        ctx.log.info("Python %s: %s%s" % (
            _version_text(candidate.version), candidate.path,
            "" if candidate.found in (None, candidate.path) else " (found as %s)" % candidate.found))
    return candidate


def _python_candidate(ctx, p):
    requirement = p["state_python_requirement_inited"]
    if requirement is None:
        return PythonCandidate(None, None, [])
    tried = []
    stamp = p["state_venv_stamp_loaded"] or {}
    known = {}
    version = parse_python_version(stamp.get("python_version", ""))
    if stamp.get("python_found") and version is not None:
        known[ctx.host.fs.real_path(stamp["python_found"])] = (stamp.get("python_found_sig"), version, stamp.get("python"))
    selector = p["state_python_selector_file_abs_path_inited"]
    if selector is not None:
        chosen = _run_python_selector(ctx, p, selector, requirement)
        if chosen is not None:
            probe = probe_base_python(ctx.host, chosen, known)
            if probe.problem is not None:
                tried.append("%s (from the selector): %s" % (chosen, probe.problem))
            elif not version_matches(probe.version, requirement.version):
                tried.append("%s (from the selector): Python %s" % (chosen, _version_text(probe.version)))
            else:
                return PythonCandidate(probe.executable, probe.version, tried, chosen)
            ctx.warn_once("selector-rejected", "the python selector %s chose %s" % (selector, tried[-1]))
    kept = stamp.get("python")
    if kept and version is not None and version_matches(version, requirement.version):
        if ctx.host.fs.stat_signature(kept) == stamp.get("venv_python_sig"):
            # the venv keeps the interpreter it was made from while that file is unchanged (reset re-selects)
            return PythonCandidate(kept, version, tried, stamp.get("python_found"))
    found = find_python(ctx.host, requirement.version, known)
    for line in found.tried:
        if ": does not run" in line or ": answered" in line:
            ctx.warn_once("broken:" + line, "skipping %s" % line)
    return PythonCandidate(found.path, found.version, tried + found.tried, found.found)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _run_python_selector(ctx, p, path, requirement):
    """Call `select_python_file_abs_path(version)` of the selector script; its answer or None."""
    if not ctx.host.fs.lexists(path) or ctx.host.fs.is_dir(path):  # a link loop is reported by the loader
        value, source = _override(p, "python_selector_file_rel_path")
        raise ConfigError("%s: field python_selector_file_rel_path = %r: %s is not a file; fix the path or add the "
                          "selector there" % (source, value, path))
    try:
        select = ctx.host.proc.load_file_function(path, "select_python_file_abs_path")
    except ClientCodeMissing:
        raise ConfigError("python selector %s defines no function select_python_file_abs_path(required_version)" % path)
    except (Exception, SystemExit) as e:
        raise ConfigError("python selector %s cannot be loaded: %s: %s" % (path, type(e).__name__, e))
    try:
        # the reference's protocol: always three parts, (3, 11, 0) for "3.11"
        chosen = select(tuple(requirement.version) + (0,) * (3 - len(requirement.version)))
    except (Exception, SystemExit) as e:
        raise ConfigError("python selector %s failed: %s: %s" % (path, type(e).__name__, e))
    if chosen is not None and not (isinstance(chosen, str) and os.path.isabs(chosen)):
        raise ConfigError("python selector %s returned %r; it must return an absolute path or None" % (path, chosen))
    return chosen
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_selected_python_prime(ctx, p):
    """The interpreter the venv is made from: an error naming everything tried when there is none."""
    return check_python_selected(p)


def check_python_selected(p):
    """The selected interpreter, or the error a boot stops with (eval stops with it too, after printing)."""
    candidate = p["state_python_candidate_found"]
    requirement = p["state_python_requirement_inited"]
    if requirement is None:
        raise ConfigError(
            "no required Python version: set required_python_version in the global config %s, or add a %s "
            "file to the repo" % (p["state_global_conf_file_abs_path_inited"], PYTHON_VERSION_FILE)
        )
    if candidate.path is None:
        raise PrimerError(
            "no Python %s found (required by %s). Tried: %s. Install Python %s and put it on PATH (as python%s), "
            "point a python selector at it, or change the requirement." % (requirement.text, requirement.source,
                                                                          "; ".join(candidate.tried) or "nothing on PATH",
                                                                          requirement.text, requirement.text),
            ExitCode.no_python,
        )
    return candidate.path
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

class VenvPaths(object):
    """Where a venv's parts are."""

    __slots__ = ("dir", "python", "cfg", "stamp", "lock")

    def __init__(self, venv_dir, tmp_dir):
        self.dir = venv_dir
        self.python = os.path.join(venv_dir, "bin", "python")
        self.cfg = os.path.join(venv_dir, "pyvenv.cfg")
        self.stamp = os.path.join(venv_dir, VENV_STAMP_BASENAME)
        self.lock = os.path.join(tmp_dir, os.path.basename(venv_dir) + ".lock")


def _site_packages(fs, venv_dir):
    return os.path.join(venv_dir, "lib", fs.list_dir(os.path.join(venv_dir, "lib"))[0], "site-packages")


def _compute_venv_paths(ctx, p):
    return VenvPaths(p["state_local_venv_dir_abs_path_inited"], p["state_local_tmp_dir_abs_path_inited"])
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

STAMP_HEADER = "# protoprimer: this venv was built completely. Delete this file to force a rebuild.\n"


def read_stamp(fs, path):
    """The stamp of a completed build as a dict, or None when there is none (or it is unreadable)."""
    try:
        text = fs.read_text(path)
    except (OSError, UnicodeDecodeError):
        return None
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[key.strip()] = value.strip()
    return values if values.get("format") == "1" else None


def write_stamp(fs, path, values):
    lines = [STAMP_HEADER, "format=1\n"] + ["%s=%s\n" % (key, values[key]) for key in sorted(values)]
    fs.write_text(path, "".join(lines))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _digest(text):
    """A change detector for the stamp (CRC-32 and length): binascii loads in 0.5 ms where hashlib's
    OpenSSL takes 3 to 5 at every start."""
    import binascii

    data = text.encode("utf-8")
    return "%08x-%x" % (binascii.crc32(data) & 0xFFFFFFFF, len(data))


def _compute_install_inputs(ctx, p):
    """Everything a build depends on, each as a short digest: the stamp compares them one by one, so a
    changed input is named and triggers only the work it needs."""
    fs = ctx.host.fs
    ref_root = p["state_ref_root_dir_abs_path_inited"]
    descriptors = p["state_project_descriptors_inited"]
    inputs = {
        "driver": p["state_venv_driver_inited"],
        "python": p["state_selected_python_file_abs_path_inited"],
        "python_version": _version_text(p["state_python_candidate_found"].version),
        "kernel": __version__,
        "install_config": _digest(repr((descriptors, p["state_install_specs_inited"]))),
        "constraints": _digest(_read_or_empty(fs, p["state_version_constraints_file_abs_path_inited"])),
    }
    check_projects(ctx, p)
    for index, descriptor in enumerate(descriptors):
        project_dir = _norm_join(ref_root, descriptor["build_root_dir_rel_path"])
        inputs["project.%d" % index] = _digest("\0".join(
            "%s\0%s" % (name, _read_or_empty(fs, path)) for name, path in project_metadata_files(fs, project_dir)))
    return inputs
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


def check_projects(ctx, p):
    """Every project descriptor names a directory with a project, or the error a boot (and eval) stops with,
    naming the config file and the descriptor, before any venv or installer runs."""
    fs, ref_root = ctx.host.fs, p["state_ref_root_dir_abs_path_inited"]
    for index, descriptor in enumerate(p["state_project_descriptors_inited"]):
        project_dir = _norm_join(ref_root, descriptor["build_root_dir_rel_path"])
        if not any(fs.is_file(os.path.join(project_dir, name)) for name in PROJECT_FILES):
            value, source = _override(p, "project_descriptors")
            raise ConfigError(
                "%s: project_descriptors[%d].build_root_dir_rel_path = %r: %s has no %s; fix the path or add the "
                "project there" % (source or "the default project descriptor (the ref root)", index,
                                   descriptor["build_root_dir_rel_path"], project_dir, " or ".join(PROJECT_FILES)))


def project_metadata_files(fs, project_dir):
    """[(name, path)] of the files a project's build reads for its metadata, so that a change in any of them
    reinstalls: the project files, the files `[tool.setuptools.dynamic]` names (dependencies read from a
    requirements file), and the requirements*.txt files next to them (setup.py reads those by hand)."""
    names = list(PROJECT_FILES)
    names += _dynamic_files(_read_or_empty(fs, os.path.join(project_dir, "pyproject.toml")))
    try:
        listing = fs.list_dir(project_dir)
    except OSError:
        listing = []
    names += sorted(name for name in listing if name.startswith("requirements") and name.endswith(".txt"))
    return [(name, os.path.join(project_dir, name)) for name in _unique(names)]
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _dynamic_files(pyproject):
    """The quoted names under [tool.setuptools.dynamic] (its `file = ...` entries), read without a TOML
    parser (the kernel has none on 3.7-3.10). An `attr` value comes along too: as a file that does not exist
    it reads as empty every time, so it never counts as a change."""
    found, section = [], ""
    for line in pyproject.splitlines():
        text = line.split("#", 1)[0].strip()
        if text.startswith("["):
            section = text.strip("[] ")
        elif section == "tool.setuptools.dynamic" or section.startswith("tool.setuptools.dynamic."):
            found += [part for i, part in enumerate(text.replace("'", '"').split('"')) if i % 2 and part]
    return found


def _read_or_empty(fs, path):
    """The text of `path`, or "" when there is none (or it is not text); a file that exists but cannot be
    read is an error (it names the file), never taken for an empty one."""
    try:
        return fs.read_text(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return ""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_constraints_path(ctx, p):
    selection = p["state_env_selection_inited"]
    directory = selection.env_abs if selection.env_abs is not None else p["state_ref_root_dir_abs_path_inited"]
    return os.path.join(directory, p["state_version_constraints_file_basename_inited"])


class VenvCheck(Record):
    """What a venv needs: nothing ("good"), a reinstall ("stale"), or a rebuild ("rebuild"/"missing").
    `fresh`: a stale venv whose declared dependencies changed, built afresh so that it holds only what the
    projects require now (what a fresh clone gets), as `uv sync` makes a venv match the lock."""

    __slots__ = ("status", "reason", "fresh")
    _defaults = (False,)


_REBUILD_KEYS = ("driver", "python", "python_version")


def check_venv(fs, paths, inputs, requirement, stamp=None):
    """Judge a venv without starting a process: the stamp of a completed build, pyvenv.cfg, its python
    (the file it links to must be the one the build probed: a replaced base interpreter means a rebuild)."""
    if not fs.lexists(paths.dir):
        return VenvCheck("missing", "there is no venv at %s" % paths.dir)
    if not fs.is_file(paths.cfg):
        return VenvCheck("rebuild", "%s has no readable pyvenv.cfg" % paths.dir)
    stamp = stamp if stamp is not None else read_stamp(fs, paths.stamp)
    if stamp is None:
        return VenvCheck("rebuild", "%s is not marked complete (an earlier build was interrupted, or another tool made it)" % paths.dir)
    if not fs.exists(paths.python):
        return VenvCheck("rebuild", "the python of %s is gone (it was made from %s)" % (paths.dir, stamp.get("python")))
    if stamp.get("venv_python_sig") != fs.stat_signature(paths.python):
        return VenvCheck("rebuild", "the python of %s changed since the build (the interpreter it links to was replaced)" % paths.dir)
    if stamp.get("driver") != inputs["driver"]:
        return VenvCheck("rebuild", "%s was made with %s and this run uses %s" % (paths.dir, stamp.get("driver"), inputs["driver"]))
    version = parse_python_version(stamp.get("python_version", ""))
    if version is None or not version_matches(version, requirement.version):
        return VenvCheck("rebuild", "%s has Python %s but %s is required" % (paths.dir, stamp.get("python_version"), requirement.text))
    if stamp.get("python") != inputs["python"] and not fs.same_file(stamp.get("python") or "", inputs["python"]):
        return VenvCheck("rebuild", "%s was made from %s and this run selects %s" % (paths.dir, stamp.get("python"), inputs["python"]))
    if "install_config" not in stamp:
        return VenvCheck("stale", "the last install into %s did not complete" % paths.dir)
    changed = sorted(key for key in inputs if key not in _REBUILD_KEYS and stamp.get(key) != inputs[key])
    if changed:
        fresh = any(key == "install_config" or key.startswith("project.") for key in changed)
        return VenvCheck("stale", "changed since the last install: %s" % ", ".join(
            _unique([_INPUT_TITLES.get(k.split(".")[0], k) for k in changed])), fresh)
    return VenvCheck("good", "up to date")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

_INPUT_TITLES = {
    "kernel": "the kernel version",
    "install_config": "the project descriptors or install specs",
    "constraints": "the constraints file",
    "project": "a project's pyproject.toml/setup.cfg/setup.py",
}


def _compute_venv_stamp(ctx, p):
    """The venv's stamp as this process found it (read once: selection and the venv check share it)."""
    return read_stamp(ctx.host.fs, p["state_venv_paths_inited"].stamp)


def _compute_venv_checked(ctx, p):
    check = check_venv(
        ctx.host.fs, p["state_venv_paths_inited"], p["state_install_inputs_inited"], p["state_python_requirement_inited"],
        p["state_venv_stamp_loaded"],
    )
    ctx.log.info("venv %s: %s" % (p["state_venv_paths_inited"].dir, {
        "good": "reused, up to date", "stale": "reused, reinstalling: %s", "missing": "to build: %s",
        "rebuild": "to rebuild: %s"}[check.status].replace("%s", check.reason)))
    return check
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_venv_ready_for_start(ctx, p):
    """start_app and `start` need a venv that a boot completed; they never build one."""
    paths = p["state_venv_paths_inited"]
    fs = ctx.host.fs
    if not fs.is_file(paths.stamp) or not fs.exists(paths.python) or not fs.is_file(paths.cfg):
        what = "there is no venv at %s" % paths.dir if not fs.lexists(paths.dir) else "the venv %s is incomplete or broken" % paths.dir
        raise PrimerError("%s: run ./prime (boot) first to build it" % what, ExitCode.venv_not_ready)
    return paths


# --- the record of the last good boot: the entry script's fast path (docs/design.md, "The fast entry script")


class FastRecord(Record):
    """The venv's record as this process found it before reading any input: its values, the signature of its
    inputs now, whether they are as its boot found them, and when this run began (`since`: fs clock)."""

    __slots__ = ("values", "sig", "verified", "since")

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
FAST_RECORD_HEADER = "# protoprimer: what the last good boot read (for the entry script's fast path). Delete it to have the " \
    "next run confirm the venv.\n"


def read_fast_record(fs, path):
    """{"inputs": [its venv=/file=/dir= lines], "file": [...], "dir": [...], "seen": [...], "sig": ...} or None."""
    try:
        text = fs.read_text(path)
    except (OSError, UnicodeDecodeError):
        return None
    values = {"inputs": [], "file": [], "dir": [], "seen": []}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[key] = values[key] + [value] if isinstance(values.get(key), list) else value
            values["inputs"] += [line] if key in ("venv", "file", "dir") else []
    return values


def _write_fast_record(ctx, path, lines, since=None):
    """`since`: the record's time, when the run it records began: what is modified after is newer than it. A
    record that cannot be written (a read-only venv) costs a warning and the fast path, not the run."""
    try:
        ctx.host.fs.write_text(path, FAST_RECORD_HEADER + "".join(line + "\n" for line in lines), mtime_ns=since)
        return _mtime(ctx.host.fs.stat_signature(path))
    except OSError as e:
        ctx.log.warning("cannot write %s: %s (the entry script's fast path waits for a run that can)" % (path, e.strerror or e))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _mtime(signature):
    return None if signature is None else int(signature.split(":")[1])


def fast_signature(ctx, venv, copy, values, since):
    """The record's inputs as they are now, as one digest (the files' contents, where the dirs lead, the venv's
    python, the primer config this script reads), and whether one was modified at or after `since`."""
    fs = ctx.host.fs
    primer = [name for name in primer_conf_candidates(ctx, copy) if fs.lexists(os.path.join(os.path.dirname(copy), name))]
    parts, modified = [copy, primer[:1]], False
    for kind, path in [("python", os.path.join(venv, "bin", "python"))] + [(kind, path) for kind in ("file", "dir")
                                                                           for path in values[kind]]:
        signature = fs.stat_signature(path)
        modified = modified or (signature is not None and since is not None and _mtime(signature) >= since)
        parts.append(signature if kind == "python" else fs.real_path(path) if kind == "dir" else
                     signature and _digest(_read_or_empty(fs, path)))
    return _digest(repr(parts)), modified


def _compute_fast_record_checked(ctx, p):
    """Before the run reads any input: the venv's record (FastRecord), when an entry script's front started this
    process in the venv's python without a knob set; else None. A boot that finds it unverified replaces it at
    once by a pending one, whose time marks when the run began (the boot records itself at its end)."""
    env, fs = ctx.host.env, ctx.host.fs
    venv = os.path.dirname(os.path.dirname(env.executable))
    path, seen = os.path.join(venv, FAST_RECORD_BASENAME), env.get(EnvVar.PROTOPRIMER_FAST)
    values = read_fast_record(fs, path) if seen is not None and not _knobs_set(env) and ctx.is_first_process and \
        fs.is_file(os.path.join(venv, "pyvenv.cfg")) else None
    if values is None:
        return None
    since, copy = _mtime(fs.stat_signature(path)), p["state_proto_code_file_abs_path_inited"]
    sig, modified = fast_signature(ctx, venv, copy, values, since)
    verified = not modified and sig == values.get("sig") and env.isolated and env.get("PYTHONPATH") is None
    if verified and seen and values["seen"] != seen.split("\n"):  # what a front saw of these very inputs: its no-op
        _write_fast_record(ctx, path, values["inputs"] + ["sig=" + sig] + ["seen=" + line for line in seen.split("\n")], since)
    elif not verified and ctx.coordinates.exec_mode == ExecMode.mode_prime and copy in values["file"]:  # ours, not a
        since = _write_fast_record(ctx, path, [])  # foreign venv's (python3 on PATH): pending, the boot replaces it
    return FastRecord(values, sig, verified, since)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _knobs_set(env):
    """A PROTOPRIMER_* variable but the front's own: a run of its own kind, which neither reads nor writes the record."""
    return [name for name in env.variables() if name.startswith("PROTOPRIMER_") and name != EnvVar.PROTOPRIMER_FAST]


def _compute_fast_recorded(ctx, p):
    """After a good boot that an entry script's front started: the venv's record for the next runs. The inputs'
    signature and what the front saw of them go in only when this process found the record with the same
    inputs before reading any, nothing warned (a warning is given again) and no python selector is set (its
    answer may depend on anything); otherwise the next run records them."""
    p["state_boot_completed"]
    fast, seen = p["state_fast_record_checked"], ctx.host.env.get(EnvVar.PROTOPRIMER_FAST)
    if seen is None or (fast is not None and fast.verified) or (ctx.is_first_process and _knobs_set(ctx.host.env)):
        return False
    paths = p["state_venv_paths_inited"]
    files, dirs = _fast_inputs(ctx, p)
    lines = ["venv=" + paths.dir] + ["file=" + path for path in files] + ["dir=" + path for path in dirs]
    keep = fast is not None and fast.since is not None and fast.values["inputs"] == lines and not ctx.log.warnings \
        and p["state_python_selector_file_abs_path_inited"] is None
    lines += ["sig=" + fast.sig] + ["seen=" + line for line in seen.split("\n") if seen] if keep else []
    if "\n" not in "".join(lines):
        _write_fast_record(ctx, os.path.join(paths.dir, FAST_RECORD_BASENAME), lines, fast.since if keep else None)
    return True
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _fast_inputs(ctx, p):
    """What a warm boot reads to find that it has nothing to do, as absolute paths: the files whose content
    counts (a missing one by its absence) and the dirs where they lead to and what they hold count."""
    fs = ctx.host.fs
    copy, ref_root, paths = p["state_proto_code_file_abs_path_inited"], p["state_ref_root_dir_abs_path_inited"], p["state_venv_paths_inited"]
    names = primer_conf_candidates(ctx, copy)
    primer = os.path.basename(p["state_primer_conf_file_abs_path_inited"])
    files = [os.path.join(os.path.dirname(copy), name) for name in names[:names.index(primer) + 1 if primer in names else None]]
    files += [p["state_global_conf_file_abs_path_inited"], p["state_env_conf_file_data_loaded"].path, paths.stamp, paths.cfg,
              p["state_version_constraints_file_abs_path_inited"], copy, ctx.host.proc.find_module_file(INSTALLED_KERNEL_MODULE)]
    source, directory = p["state_python_requirement_inited"].source, ref_root
    while os.path.isabs(source):  # .python-version, looked for upward from the ref root
        files.append(os.path.join(directory, PYTHON_VERSION_FILE))
        if files[-1] == source or os.path.dirname(directory) == directory:
            break
        directory = os.path.dirname(directory)
    dirs = [p["state_env_selection_inited"].link_path, p["state_global_conf_dir_abs_path_inited"], _site_packages(fs, paths.dir)]
    for descriptor in p["state_project_descriptors_inited"]:
        dirs.append(_norm_join(ref_root, descriptor["build_root_dir_rel_path"]))
        files += [path for name, path in project_metadata_files(fs, dirs[-1])]
    return _unique([path for path in files if path]), _unique(dirs)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- running tools


def clean_env(variables, keep_knobs=False):
    """The environment for processes the kernel starts: no chain variable, no foreign venv."""
    env = dict(variables)
    foreign = env.pop("VIRTUAL_ENV", None)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV_PROMPT", "__PYVENV_LAUNCHER__"):
        env.pop(name, None)
    kept = KNOBS + (EnvVar.PROTOPRIMER_STDERR_LOG_LEVEL,) if keep_knobs else ()
    for name in list(env):
        if name.startswith("PROTOPRIMER_") and name not in kept:
            del env[name]
    if foreign and "PATH" in env:
        foreign_bin = os.path.join(foreign, "bin")
        env["PATH"] = os.pathsep.join(d for d in env["PATH"].split(os.pathsep) if os.path.normpath(d) != foreign_bin)
    return env


def _tool_env(ctx, venv_dir=None):
    env = clean_env(ctx.host.env.variables())
    if venv_dir is not None:
        env["PATH"] = os.path.join(venv_dir, "bin") + os.pathsep + env.get("PATH", "")
    return env
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _installer_verbosity(ctx):
    """-q/-v for pip and uv from the kernel's own level: quiet below WARNING-visible, verbose at DEBUG."""
    level = ctx.log.level
    if level >= 40:
        return ["-q"] * min((level - 30) // 10, 3)
    if level <= 10:
        return ["-v"]
    return []


def run_tool(ctx, argv, what, env=None, hint=None, capture=False):
    """Run a venv/installer command with a status line on a terminal; a failure is one message with the
    command line, its exit code, the tail of its output and a hint. With -v its output streams, unless
    the kernel needs it (`capture`)."""
    log = ctx.log
    stream = log.level <= 20 and not capture
    ticker = log.progress(what)
    result = ctx.host.proc.run(argv, env=env, stream=stream, on_tick=ticker.tick if ticker else None)
    if ticker:
        ticker.done()
    if result.returncode != 0:
        for line in ((result.stdout or "") + (result.stderr or "")).splitlines():
            log.to_file("  | " + line)  # the whole output, for the record
        reason = failure_reason(result)
        if callable(hint):
            hint = hint(result)
        more = "all of its output: rerun with -v" + ("" if log.file_path is None else ", or see %s" % log.file_path)
        raise PrimerError("%s failed (exit %d): %s%s\n(%s)%s" % (
            what, result.returncode, " ".join(shell_quote(word) for word in argv), ("\n" + reason) if reason else "", more,
            ("\nhint: " + hint) if hint else ""), ExitCode.tool_failed)
    return result
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

FAILURE_TAIL_LINES = 20


def failure_reason(result):
    """What a failed tool said about why: the tail of its stderr, where pip and uv write errors (pip's
    stdout is progress, which would push the reason out); its stdout only when stderr is empty."""
    lines = (result.stderr or "").strip().splitlines() or (result.stdout or "").strip().splitlines()
    return "\n".join(lines[-FAILURE_TAIL_LINES:])


# What pip and uv say when the requirements cannot be satisfied together (a resolution conflict).
RESOLUTION_CONFLICT_MARKERS = ("ResolutionImpossible", "conflicting dependencies", "No solution found",
                               "Cannot install", "requirements are unsatisfiable")


# --- drivers


class PipDriver(object):
    """venv_pip: the stdlib venv module makes the venv, pip installs into it. What ensurepip would put in it
    (pip, and setuptools before 3.12) is copied from a seed venv that ensurepip filled once per interpreter
    in the cache dir, under the seed's own lock: a copy takes a fraction of a second, ensurepip several."""
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    name = VenvDriverType.venv_pip

    def prepare(self, ctx, inputs, cache_dir):
        # one seed per version and interpreter name: python3.13 and python3.13t (free-threaded) differ
        self.seed = os.path.join(cache_dir, "venv", "pip-%s-%s.venv" % (inputs["python_version"], os.path.basename(inputs["python"])))
        return self

    def _ensure_seed(self, ctx, python):
        fs, seed = ctx.host.fs, self.seed
        if fs.exists(os.path.join(seed, "protoprimer.seeded")) and fs.is_dir(os.path.join(_site_packages(fs, seed), "pip")):
            return
        if fs.lexists(seed):  # left half-made by a killed run, or emptied of its pip: ensurepip fills it again
            fs.remove_tree(seed)
        run_tool(ctx, [python, "-I", "-m", "venv", seed], "creating the pip seed venv %s" % seed, env=_tool_env(ctx),
                 hint="check that %s has the venv and ensurepip modules (Debian: apt install python3-venv)" % python)
        fs.write_text(os.path.join(seed, "protoprimer.seeded"), "")

    def create(self, ctx, python, paths):
        fs, seed = ctx.host.fs, self.seed
        _with_lock(ctx, seed + ".lock", seed, lambda waited: self._ensure_seed(ctx, python))
        run_tool(ctx, [python, "-I", "-m", "venv", "--without-pip", paths.dir], "creating the venv %s with %s" % (paths.dir, python), env=_tool_env(ctx))
        source_site, site = _site_packages(fs, seed), _site_packages(fs, paths.dir)
        for name in fs.list_dir(source_site):
            fs.copy(os.path.join(source_site, name), os.path.join(site, name))
        plain = len(paths.python) < 126 and " " not in paths.python  # pip's rule: else the sh+Python form
        head = "#!%s\n" % paths.python if plain else "#!/bin/sh\n'''exec' %s \"$0\" \"$@\"\n' '''\n" % shell_quote(paths.python)
        for name in fs.list_dir(os.path.join(seed, "bin")):  # pip's scripts (easy_install's too), for the new venv
            script, source = os.path.join(paths.dir, "bin", name), os.path.join(seed, "bin", name)
            if not fs.lexists(script) and not fs.is_symlink(source):
                text = fs.read_text(source)
                fs.write_text(script, head + (text.split("\n' '''\n", 1)[1] if text.startswith("#!/bin/sh\n") else text.split("\n", 1)[1]), 0o755)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def install_command(self, ctx, paths, constraints, extra_args, editables):
        return [paths.python, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input"] + _installer_verbosity(ctx) + [
            "--constraint", constraints] + list(extra_args) + _editable_args(editables)

    def freeze_command(self, paths):
        # --local: a venv that sees the global site-packages (include-system-site-packages) pins only its own
        return [paths.python, "-I", "-m", "pip", "freeze", "--local", "--exclude-editable", "--disable-pip-version-check"]


class UvDriver(object):
    """venv_uv: uv, kept in a tool venv in the cache dir, makes the venv from the already selected
    interpreter (never downloading one) and installs into it."""

    name = VenvDriverType.venv_uv

    def __init__(self, uv=None):
        self.uv = uv

    def prepare(self, ctx, inputs, cache_dir):
        python, tool_venv = inputs["python"], os.path.join(cache_dir, "venv", "uv.venv")
        uv = os.path.join(tool_venv, "bin", "uv")
        if not ctx.host.fs.exists(uv):
            run_tool(ctx, [python, "-I", "-m", "venv", tool_venv], "creating the uv tool venv %s" % tool_venv, env=_tool_env(ctx))
            run_tool(
                ctx,
                [os.path.join(tool_venv, "bin", "python"), "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                + _installer_verbosity(ctx) + ["uv"],
                "installing uv into %s" % tool_venv,
                env=_tool_env(ctx, tool_venv),
                hint="uv comes from the package index; use the venv_pip driver offline",
            )
        return UvDriver(uv)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def create(self, ctx, python, paths):
        env = _tool_env(ctx)
        env["UV_PYTHON_DOWNLOADS"] = "never"
        run_tool(ctx, [self.uv, "venv"] + _installer_verbosity(ctx) + ["--no-python-downloads", "--python", python, paths.dir],
                 "creating the venv %s with uv and %s" % (paths.dir, python), env=env)

    def install_command(self, ctx, paths, constraints, extra_args, editables):
        return [self.uv, "pip", "install"] + _installer_verbosity(ctx) + [
            "--python", paths.python, "--compile-bytecode", "--constraint", constraints] + list(extra_args) + _editable_args(editables)

    def freeze_command(self, paths):
        return [self.uv, "pip", "freeze", "--exclude-editable", "--python", paths.python]


DRIVERS = {VenvDriverType.venv_pip: PipDriver, VenvDriverType.venv_uv: UvDriver}


def _editable_args(editables):
    args = []
    for path, extras in editables:
        args += ["--editable", path + ("[%s]" % ",".join(extras) if extras else "")]
    return args
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def install_groups(descriptors, install_specs, ref_root):
    """[(group, extra_args, [(abs project dir, extras)])]: groups named by install_specs first, in their
    order, then the others in order of first appearance; unknown spec groups are returned as warnings."""
    groups = []
    by_name = {}
    for descriptor in descriptors:
        name = descriptor["install_group"]
        if name not in by_name:
            by_name[name] = []
            groups.append(name)
        by_name[name].append((_norm_join(ref_root, descriptor["build_root_dir_rel_path"]), descriptor["install_extras"]))
    ordered = []
    warnings = []
    for spec in install_specs:
        name, options = list(spec.items())[0]
        if name not in by_name:
            warnings.append("install_specs names the group %s, which no project descriptor has: ignored" % name)
            continue
        ordered.append((name, list(options.get("extra_command_args") or []), by_name[name]))
    named = [name for name, _, _ in ordered]
    ordered += [(name, [], by_name[name]) for name in groups if name not in named]
    return ordered, warnings
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- the install lock and the build


def _with_lock(ctx, lock, what, work):
    """Run `work(waited)` holding `lock` (the install lock of the venv `what`, or of a pip seed). A second run
    waits (saying so); a lock left by a killed run is taken over (the OS released it; its pid is still in the file)."""
    proc = ctx.host.proc
    previous = proc.lock_holder(lock)
    handle = proc.try_lock(lock)
    if handle is not None and previous is not None and not proc.is_alive(previous):
        ctx.log.warning("took over the install lock %s left by pid %d, which is no longer running" % (lock, previous))
    waited = 0
    while handle is None:
        holder = proc.lock_holder(lock)
        if waited == 0 and holder is None:
            waited = -1  # the holder may be writing its pid this very moment: look again once
        elif waited <= 0:
            ctx.log.warning(
                "waiting for another protoprimer run (pid %s) to finish with %s (lock %s)" % (holder or "?", what, lock)
            )
            waited = 1
        ctx.host.env.sleep(0.1 if waited < 0 else 0.5)
        handle = proc.try_lock(lock)
    try:
        return work(waited != 0)
    finally:
        proc.unlock(handle)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_venv_prepared(ctx, p):
    """Make the venv good: nothing when its stamp matches; otherwise, under the install lock, re-check
    (another run may have done the work), then rebuild and/or reinstall, pin, and stamp it last."""
    paths = p["state_venv_paths_inited"]
    check = p["state_venv_checked"]
    reset = p["state_input_sub_command_arg_loaded"] == SubCommand.reset
    if check.status == "good" and not reset:
        ctx.log.info("venv %s is up to date: nothing to install" % paths.dir)
        return False
    inputs = dict(p["state_install_inputs_inited"])
    requirement = p["state_python_requirement_inited"]

    def work(waited):
        fs = ctx.host.fs
        current = check
        before = (read_stamp(fs, paths.stamp) or {}).get("protoprimer", "unknown")
        if waited:  # the other run may have built, installed and re-pinned: judge the venv afresh
            constraints = p["state_version_constraints_file_abs_path_inited"]
            inputs["constraints"] = _digest(_read_or_empty(fs, constraints))
            current = check_venv(fs, paths, inputs, requirement)
        previous_pins = None
        if reset:
            previous_pins = _read_or_empty(fs, p["state_version_constraints_file_abs_path_inited"])
            _reset(ctx, p, paths)
            current = VenvCheck("missing", "reset")
        elif current.status == "good":
            ctx.log.info("venv %s was completed by the other run: nothing to do" % paths.dir)
            return False
        make_generated_dir(ctx, p, p["state_local_cache_dir_abs_path_inited"])
        driver = DRIVERS[inputs["driver"]]().prepare(ctx, inputs, p["state_local_cache_dir_abs_path_inited"])
        records = {"built_by": p["state_input_start_id_var_loaded"], "proto_code": p["state_proto_code_file_abs_path_inited"]}
        candidate = p["state_python_candidate_found"]
        if candidate.found is not None:
            records["python_found"] = candidate.found
            records["python_found_sig"] = fs.stat_signature(candidate.found)
        if current.status in ("missing", "rebuild") or current.fresh:
            if current.status == "rebuild":
                ctx.log.warning("rebuilding the venv: %s" % current.reason)
                _move_aside(ctx, p, paths.dir, "broken")
            elif current.fresh:
                ctx.log.notice("%s; a fresh venv, so that what no project requires any more goes" % current.reason)
                _move_aside(ctx, p, paths.dir, "before")
            driver.create(ctx, inputs["python"], paths)
            if _is_inside(paths.dir, p["state_ref_root_dir_abs_path_inited"]) and not fs.lexists(os.path.join(paths.dir, ".gitignore")):
                _ignore_all(fs, paths.dir)  # uv writes its own; venv does not
            _verify_new_venv(ctx, paths, requirement)
            records["venv_python_sig"] = fs.stat_signature(paths.python)
        else:
            ctx.log.info("reinstalling into %s: %s" % (paths.dir, current.reason))
            records["venv_python_sig"] = (read_stamp(fs, paths.stamp) or {}).get("venv_python_sig")
        # the venv is good, its projects not yet: a failed install is retried by the next run, not rebuilt
        pending = dict((key, inputs[key]) for key in _REBUILD_KEYS)
        pending.update(records)
        write_stamp(fs, paths.stamp, pending)
        _install_projects(ctx, p, driver, paths, previous_pins)
        records.update(protoprimer=installed_protoprimer(fs, paths.dir), protoprimer_before=before)
        final = dict(inputs)
        final.update(records)
        final["constraints"] = _digest(_read_or_empty(fs, p["state_version_constraints_file_abs_path_inited"]))
        write_stamp(fs, paths.stamp, final)
        _prune_moved_aside(ctx, p, paths.dir)
        return True
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    make_generated_dir(ctx, p, os.path.dirname(paths.lock))
    return _with_lock(ctx, paths.lock, paths.dir, work)


MAX_MOVED_ASIDE = 2


def _prune_moved_aside(ctx, p, venv_dir):
    """After a good build keep only the newest MAX_MOVED_ASIDE venvs moved aside (they are whole venvs)."""
    fs = ctx.host.fs
    tmp_dir = p["state_local_tmp_dir_abs_path_inited"]
    if not fs.is_dir(tmp_dir):
        return
    base = os.path.basename(venv_dir)
    aside = sorted(
        (_start_id_order(name), name)
        for name in fs.list_dir(tmp_dir)
        if name.startswith(base + ".broken.") or name.startswith(base + ".before.")
    )
    for _, name in aside[: max(len(aside) - MAX_MOVED_ASIDE, 0)]:
        fs.remove_tree(os.path.join(tmp_dir, name))
        ctx.log.info("removed the old venv %s" % os.path.join(tmp_dir, name))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _start_id_order(name):
    """Orders names that end with a start id (`<...>.<UTC time>Z.<pid>`) by time, then by pid as a number."""
    parts = name.rsplit(".", 2)
    pid = parts[-1] if len(parts) == 3 else ""
    return (parts[-2] if len(parts) == 3 else name, int(pid) if pid.isdigit() else -1)


def make_generated_dir(ctx, p, path):
    """Create a directory the kernel fills (log, tmp, cache dirs, the venv): one made inside the repo gets
    a `.gitignore` of `*`, as uv does for a venv, so `git status` stays clean without the user's own
    .gitignore (which is never touched). A directory that exists already is left as it is."""
    fs = ctx.host.fs
    if fs.is_dir(path):
        return
    if fs.lexists(path) or not _is_inside(path, p["state_ref_root_dir_abs_path_inited"]):
        fs.make_dirs(path)  # outside the repo; or a file or a link is in the way: its error names the path
        return
    # made whole beside it, then renamed into place: a kill or a failed write leaves no directory without
    # its .gitignore (a leftover `<dir>.new-<pid>` holds only ignored files, so git shows nothing)
    parent, base = os.path.split(path)
    for name in fs.list_dir(parent) if fs.is_dir(parent) else ():
        pid = name[len(base) + len(".new-"):] if name.startswith(base + ".new-") else ""
        if pid.isdigit() and not ctx.host.proc.is_alive(int(pid)):  # left by a run cut short before its rename
            fs.remove_tree(os.path.join(parent, name))
    staging = "%s.new-%d" % (path, ctx.host.env.pid)
    fs.make_dirs(staging)
    _ignore_all(fs, staging)
    try:
        if fs.is_dir(path):  # another run made it meanwhile
            raise OSError("made by another run")
        fs.move(staging, path)
    except OSError:
        if not fs.is_dir(path):
            raise
        fs.remove_tree(staging)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _ignore_all(fs, directory):
    """A `.gitignore` of `*` in `directory`: git shows nothing of what the kernel generates there."""
    fs.write_text(os.path.join(directory, ".gitignore"), "*\n")


def _move_aside(ctx, p, path, why):
    target = os.path.join(p["state_local_tmp_dir_abs_path_inited"], "%s.%s.%s" % (os.path.basename(path), why, p["state_input_start_id_var_loaded"]))
    make_generated_dir(ctx, p, os.path.dirname(target))
    ctx.host.fs.move(path, target)
    ctx.log.info("moved %s aside to %s" % (path, target))
    _prune_moved_aside(ctx, p, path)  # builds that fail (or are cut short) must not pile venvs up either


def _reset(ctx, p, paths):
    """reset/reboot: the old venv moves aside, the pins and the tool venvs (uv, pip seeds) go; the build starts afresh."""
    fs = ctx.host.fs
    if fs.lexists(paths.dir):
        _move_aside(ctx, p, paths.dir, "before")
    constraints = p["state_version_constraints_file_abs_path_inited"]
    if fs.lexists(constraints):
        pins = len(_pins(_read_or_empty(fs, constraints)))
        fs.remove(constraints)
        ctx.log.notice("reset: dropped the %d pins of %s (the lock file); they are made afresh from what installs now"
                       % (pins, constraints))
    tool_venvs = os.path.join(p["state_local_cache_dir_abs_path_inited"], "venv")
    names = [name for name in (fs.list_dir(tool_venvs) if fs.is_dir(tool_venvs) else [])
             if name.startswith(("uv.venv", "pip-")) and ".venv" in name]  # only what the drivers make there
    for name in names:
        path = os.path.join(tool_venvs, name)
        if fs.is_dir(path) and not fs.is_symlink(path):
            fs.remove_tree(path)
        else:
            fs.remove(path)
    if names:
        ctx.log.notice("reset: removed the tool venvs in %s (%s)" % (tool_venvs, ", ".join(names)))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _verify_new_venv(ctx, paths, requirement):
    probe = probe_python(ctx.host, paths.python)
    if probe.problem is not None or probe.venv is None or not version_matches(probe.version, requirement.version):
        got = probe.problem or "is Python %s%s" % (_version_text(probe.version), "" if probe.venv else " outside any venv")
        raise PrimerError(
            "the new venv's python %s %s, but Python %s is required" % (paths.python, got, requirement.text),
            ExitCode.tool_failed,
        )


def _install_projects(ctx, p, driver, paths, previous_pins=None):
    """Install the projects against the pins, then re-pin from what is installed and say what changed
    (`previous_pins`: the pins before a reset dropped them)."""
    fs = ctx.host.fs
    constraints = p["state_version_constraints_file_abs_path_inited"]
    pinned_before = fs.is_file(constraints) or previous_pins is not None
    if not fs.is_file(constraints):
        fs.write_text(constraints, "")
        ctx.log.info("created the empty constraints file %s" % constraints)
    groups, warnings = install_groups(
        p["state_project_descriptors_inited"], p["state_install_specs_inited"], p["state_ref_root_dir_abs_path_inited"]
    )
    for warning in warnings:
        ctx.log.warning(warning)
    if not groups:
        ctx.log.warning("project_descriptors is empty: nothing to install")
    env = _tool_env(ctx, paths.dir)
    for name, extra_args, editables in groups:
        argv = driver.install_command(ctx, paths, constraints, extra_args, editables)
        pinned = bool(_read_or_empty(fs, constraints).strip())
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
        def hint(result, pinned=pinned):
            said = (result.stdout or "") + (result.stderr or "")
            if any(marker in said for marker in RESOLUTION_CONFLICT_MARKERS):
                if pinned:
                    return "the constraints in %s pin what is installed; remove the line of a package named above " \
                           "to let it move" % constraints
                return "the projects' dependencies conflict: relax one of the requirements named above"
            if "No matching distribution" in said or "not found in the package registry" in said:
                return "check the name and version above, and that the package index is reachable"
            return None

        run_tool(ctx, argv, "installing %s" % ("group %s" % name if name else "the projects"), env=env, hint=hint)
    frozen = run_tool(ctx, driver.freeze_command(paths), "listing the installed versions", env=env, capture=True).stdout
    before = _read_or_empty(fs, constraints)
    if before != frozen:
        fs.write_text(constraints, frozen)
        ctx.log.info("pinned %d versions in %s" % (len(frozen.splitlines()), constraints))
        for line in pin_changes(_pins(before if previous_pins is None else previous_pins), _pins(frozen), pinned_before):
            ctx.log.notice("%s: %s" % (os.path.basename(constraints), line))

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
def _pins(text):
    """{canonical name: the pin line} of a constraints/freeze text."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        name = line.split("==", 1)[0].split("@", 1)[0].strip()
        if name and not line.startswith("-"):
            pins[name.lower().replace("_", "-").replace(".", "-")] = line
    return pins


def pin_changes(before, after, report_added=True):
    """What changed between two pin sets, as lines: dropped (no longer installed), changed, and added
    (not on a first install, where every pin is new)."""
    lines = []
    dropped = sorted(name for name in before if name not in after)
    changed = sorted(name for name in before if name in after and before[name] != after[name])
    added = sorted(name for name in after if name not in before)
    if dropped:
        lines.append("dropped %s (no longer required)" % ", ".join(before[name] for name in dropped))
    if changed:
        lines.append("changed %s" % ", ".join("%s -> %s" % (before[name], after[name]) for name in changed))
    if added and report_added:
        lines.append("added %s" % ", ".join(after[name] for name in added))
    return lines
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- restarts and the handover


def running_venv(env, venv_dir, fs):
    """Whether this process runs the venv `venv_dir`: its interpreter was started from the venv's bin, as
    CPython decides (sys.prefix would not say so under -S, before site reads pyvenv.cfg). Real paths."""
    started_in = os.path.dirname(os.path.dirname(env.executable))
    return fs.is_file(os.path.join(started_in, "pyvenv.cfg")) and fs.real_path(started_in) == fs.real_path(venv_dir)


def replace_process(ctx, python, stride, proto_code):
    """Hand the run to `python` at `stride`: the same argv and cwd, isolated, the chain variables set."""
    env = ctx.host.env
    current = ctx.chain[0] if ctx.chain else env.get(EnvVar.PROTOPRIMER_PY_EXEC)
    if current == stride and ctx.host.fs.same_file(env.executable, python):
        # the same stride by the same interpreter would restart forever (a venv its python does not recognise)
        raise ChainError(
            "restart loop: this process runs %s at %s and would restart into the same interpreter at the same "
            "stride. Is the venv broken (its pyvenv.cfg missing)? Run ./prime reset" % (python, stride)
        )
    next_env = clean_env(env.variables(), keep_knobs=True)
    next_env[EnvVar.PROTOPRIMER_PY_EXEC] = stride
    next_env[EnvVar.PROTOPRIMER_START_ID] = ctx.eval_state("state_input_start_id_var_loaded")
    next_env[EnvVar.PROTOPRIMER_PROTO_CODE] = proto_code
    selection = ctx.graph.cached("state_env_selection_inited")
    if selection is not None:
        next_env[EnvVar.PROTOPRIMER_ENV_DIR] = "%s:%s" % (selection.kind, selection.env_abs or "")
    if env.get(EnvVar.PROTOPRIMER_FAST) is not None and not _knobs_set(env):  # from a front: the last process records
        next_env[EnvVar.PROTOPRIMER_FAST] = ""  # what the front saw is of no use after a restart
    argv = [python, "-I"] + env.argv
    ctx.log.info("restarting as %s at %s" % (python, stride))
    ctx.log.flush_file()
    ctx.host.proc.replace(argv, next_env)
    raise PrimerError("the process port returned from replace(%s)" % python)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_deps_updated(ctx, p):
    """Reach stride_deps_updated: the venv is good and its python runs this program, isolated. A process
    that runs the venv's python already continues in-process only when it is isolated (-I, no PYTHONPATH)
    and nothing was installed (a new editable install's .pth is read only by a new interpreter)."""
    stride = p["state_input_py_exec_var_loaded"]
    paths = p["state_venv_paths_inited"]
    p["state_file_log_configured"]
    running = running_venv(ctx.host.env, paths.dir, ctx.host.fs)
    if stride_rank(stride) >= stride_rank(StateStride.stride_deps_updated) and not running:
        raise ChainError(
            "%s=%s, but this process does not run the venv %s: protoprimer sets it only between its own "
            "processes; unset it and run again" % (EnvVar.PROTOPRIMER_PY_EXEC, stride, paths.dir)
        )
    if stride_rank(stride) >= stride_rank(StateStride.stride_deps_updated):
        return stride
    changed = p["state_venv_prepared"]
    env = ctx.host.env
    if running and env.isolated and not changed and env.get("PYTHONPATH") is None:
        return StateStride.stride_deps_updated  # already the venv's python, isolated, and nothing new to load
    replace_process(ctx, paths.python, StateStride.stride_deps_updated, p["state_proto_code_file_abs_path_inited"])
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _situation_changed(ctx, p):
    """Whether this run's install changed which protoprimer the venv holds (the stamp records it before and
    after): advice about it is given once per change, never on a warm no-op."""
    stamp = read_stamp(ctx.host.fs, p["state_venv_paths_inited"].stamp) or {}
    return stamp.get("built_by") == p["state_input_start_id_var_loaded"] and \
        stamp.get("protoprimer_before") != stamp.get("protoprimer")


def installed_protoprimer(fs, venv_dir):
    """The version of protoprimer installed in the venv (from its dist-info), or "absent"."""
    try:
        site = _site_packages(fs, venv_dir)
        names = fs.list_dir(site)
    except (OSError, IndexError):
        return "absent"
    for name in names:
        if name.startswith("protoprimer-") and name.endswith(".dist-info"):
            return name[len("protoprimer-"):-len(".dist-info")]
    return "absent"
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def stride_rank(stride):
    return STRIDE_ORDER.index(stride)


def _compute_proto_code_updated(ctx, p):
    """At stride_deps_updated in the venv: the installed kernel takes over when it differs from the copy,
    and refreshes the copy; a copy already equal to it carries on itself."""
    p["state_stride_deps_updated_reached"]
    copy = p["state_proto_code_file_abs_path_inited"]
    fs = ctx.host.fs
    if not fs.same_file(ctx.kernel_file, copy):
        return update_kernel_copy(ctx, ctx.kernel_file, copy)
    ctx.host.env.enable_site()  # started with -S (an entry script's front): the venv's site-packages are not seen yet
    installed_file = ctx.host.proc.find_module_file(INSTALLED_KERNEL_MODULE)
    if installed_file is not None and fs.same_file(installed_file, copy):
        return False  # the copy is the installed module's own file (an editable install of it): nothing to refresh
    if installed_file is None:
        if _situation_changed(ctx, p):
            ctx.log.warning(
                "protoprimer is not installed in the venv, so the kernel copy %s is not refreshed: add protoprimer "
                "to the dependencies of a project the venv installs (said once; leaving it out is fine)" % copy
            )
        return False
    try:
        if generated_copy_text(_read_or_empty(fs, installed_file)) == _read_or_empty(fs, fs.real_path(copy)):
            return False
    except PrimerError as e:
        ctx.log.warning("%s (%s)" % (e.message, installed_file))
        return False
    installed = ctx.host.proc.import_module(INSTALLED_KERNEL_MODULE)
    resume = getattr(installed, "resume_chain", None)
    if resume is None:
        if _situation_changed(ctx, p):
            ctx.log.warning(
                "the installed protoprimer %s is older than this kernel copy (%s) and cannot take over, so the copy "
                "is not refreshed: require protoprimer>=%s in the dependencies (said once)"
                % (getattr(installed, "__version__", "?"), __version__, __version__.split(".dev")[0])
            )
        return False
    ctx.log.flush_file()
    # only names and plain values cross; the host only when it is not this process's real one (a test's)
    host = None if isinstance(ctx.host.env, RealEnvironment) else ctx.host
    code = getattr(resume, "__code__", None)
    if code is not None and "chain" in code.co_varnames[: code.co_argcount]:
        resume(ctx.entry_func, ctx.main_func, installed.__file__, host=host,
               chain=(p["state_stride_deps_updated_reached"], copy))
    else:  # an older installed kernel: it reads the stride and the copy from the chain variables
        resume(ctx.entry_func, ctx.main_func, installed.__file__, host)
    raise PrimerError("the installed kernel returned instead of ending the run")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

GENERATED_HEADER = (
    "#" * 100,
    "# GENERATED CONTENT - ANY CHANGES WILL BE LOST",
    "#" * 100,
    "# This is a (proto) copy of `protoprimer.primer_kernel` updated automatically.",
    "# It is supposed to be versioned",
    "# (to be available in the \"target\" repo on clone),",
    "# but it should not be linted",
    "# (as its content/style is owned by the `protoprimer` project).",
    "#" * 100,
)
GENERATED_BODY_MARKER = "########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########"
MIN_LINES_BETWEEN_MARKERS = 20


def generated_copy_text(source):
    """The kernel copy's text for `source`: lines 2-10 become the generated header and, every 20 lines or
    more, a blank line becomes the body marker. Line for line with the source (diff-friendly)."""
    lines = source.splitlines()
    reserved = lines[1:1 + len(GENERATED_HEADER)]
    if len(reserved) != len(GENERATED_HEADER) or not all(line.startswith("#") for line in reserved):
        raise PrimerError(
            "the installed kernel does not reserve lines 2-%d for the generated header (they must be comments): "
            "the kernel copy is not refreshed from it" % (len(GENERATED_HEADER) + 1),
            ExitCode.internal_error,
        )
    out = []
    since_marker = 0
    for line in lines:
        if since_marker >= MIN_LINES_BETWEEN_MARKERS and (line.strip() in ("", "#") or line == GENERATED_BODY_MARKER):
            out.append(GENERATED_BODY_MARKER)
            since_marker = 0
        else:
            out.append(line)
            since_marker += 1
    out[1:1 + len(GENERATED_HEADER)] = GENERATED_HEADER
    return "\n".join(out) + "\n"
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def update_kernel_copy(ctx, source_file, copy):
    """Refresh the copy from the installed kernel: atomic, into the link's target when the copy is a
    symlink; nothing is written when it is already up to date."""
    fs = ctx.host.fs
    target = fs.real_path(copy)
    text = generated_copy_text(fs.read_text(source_file))
    if _read_or_empty(fs, target) == text:
        return False
    try:
        fs.write_text(target, text, mode=fs.file_mode(target) if fs.exists(target) else 0o755)
    except OSError as e:
        ctx.log.warning("cannot refresh the kernel copy %s: %s (it stays as it is)" % (target, e.strerror or e))
        return False
    ctx.log.info("refreshed the kernel copy %s from %s" % (target, source_file))
    return True


def _isolate_client(ctx, p):
    """Before client code: no PROTOPRIMER_* variable stays visible; the copy's path and the user's knobs
    (which config files, which driver) are kept in-process, so get_config() in client code computes the
    config this run used."""
    env = ctx.host.env
    env.enable_site()
    env.remember("proto_kernel_abs_path", p["state_proto_code_file_abs_path_inited"])
    # where a run stands when client code runs (proto_main() carries a boot_env main's run on from there)
    stride = StateStride.stride_py_venv if ctx.coordinates.exec_mode == ExecMode.mode_start else StateStride.stride_src_updated
    env.remember("client_stride", stride)
    env.remember("knobs", dict((name, env.get(name)) for name in KNOBS if env.get(name) is not None))
    env.remember("run_context", ctx)  # the meta runtime (protoprimer.meta) carries this run on
    for name in list(env.variables()):
        if name.startswith("PROTOPRIMER_"):
            env.unset(name)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def call_client_main(ctx, main_func, argv=None):
    module_name, _, func_name = main_func.partition(":")
    ctx.log.flush_file()
    try:
        result = ctx.host.proc.call_main(module_name, func_name) if argv is None else \
            ctx.host.proc.call_main(module_name, func_name, argv)
    except ClientCodeMissing as e:
        raise PrimerError(
            "%s (for %s). Is the project that provides it among the project_descriptors the venv installs? "
            "Run ./prime to install it." % (e, main_func),
            ExitCode.venv_not_ready,
        )
    except SystemExit as e:
        result = e.code
        if result is not None and not isinstance(result, int):
            ctx.host.env.write_stderr("%s\n" % (result,))
            result = 1
    except Exception:
        import traceback
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
        ctx.host.env.write_stderr(traceback.format_exc())
        ctx.log.error("%s raised an exception (above): exit 1" % main_func)
        return 1
    if result is None:
        return 0
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    ctx.log.error("%s returned %r instead of an exit code (an int or None)" % (main_func, result))
    return 1


def _compute_boot_completed(ctx, p):
    """boot/reset/shell end here: the copy is refreshed (or taken over), the `lconf` link points at the env
    the run used, then client code or a shell."""
    p["state_proto_code_updated"]
    p["state_local_conf_symlink_ensured"]
    if ctx.restart_after_refresh and ctx.entry_func == EntryFunc.func_boot_env:
        # a reference copy handed over without its main: the refreshed copy takes it from here
        python = ctx.host.env.executable
        replace_process(ctx, python, StateStride.stride_src_updated, p["state_proto_code_file_abs_path_inited"])
    return StateStride.stride_src_updated
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_command_executed(ctx, p):
    fast = p["state_fast_record_checked"]
    if not (fast and fast.verified and len(ctx.host.env.argv) == 1):  # verified, and nothing else asked: no boot
        p["state_fast_recorded"]
    args = p["state_args_parsed"]
    code = 0
    if ctx.main_func is not None and args.sub_command in (SubCommand.boot, SubCommand.reset):
        _isolate_client(ctx, p)
        code = call_client_main(ctx, ctx.main_func)
        if code == 0 and (ctx.meta_target or args.client_args) and not ctx.host.env.recall("meta_ran"):
            raise UsageError("%s: the client main %s ran no meta runtime to take %s (docs/meta-runtime.md)" % (
                " ".join(args.client_args or ["--target " + ctx.meta_target]), ctx.main_func,
                "it" if ctx.meta_target else "these arguments"))
    if code == 0 and (args.run_command is not None or args.sub_command == SubCommand.shell):
        start_shell(ctx, p, args.run_command)
    return code


SHELLS = ("bash", "zsh", "sh")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def start_shell(ctx, p, command):
    """Replace this process with a shell in the activated venv: `-c COMMAND`, or an interactive one."""
    env = ctx.host.env
    paths = p["state_venv_paths_inited"]
    shell = env.get("SHELL")
    name = os.path.basename(shell or "")
    if name not in SHELLS or not ctx.host.fs.exists(shell):
        fallback = ctx.host.proc.which("sh", env.get("PATH", "")) or "/bin/sh"
        if command is None or shell:
            ctx.log.warning("SHELL=%s is not bash, zsh or sh (or does not exist): using %s" % (shell or "(unset)", fallback))
        shell, name = fallback, "sh"
    shell_env = clean_env(env.variables())
    shell_env["VIRTUAL_ENV"] = paths.dir
    shell_env["PATH"] = os.path.join(paths.dir, "bin") + os.pathsep + shell_env.get("PATH", "")
    if command is not None:
        argv = [shell, "-c", command]
    else:
        rc = os.path.join(p["state_local_cache_dir_abs_path_inited"], "shell", "rc." + name)
        user_rc = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "sh": ""}[name]
        text = ("[ -f %s ] && . %s\n" % (user_rc, user_rc) if user_rc else "") + ". %s\n" % shell_quote(os.path.join(paths.dir, "bin", "activate"))
        ctx.host.fs.write_text(rc, text)
        argv = {"bash": [shell, "--rcfile", rc, "-i"], "zsh": [shell, "-i"], "sh": [shell, "-i"]}[name]
        if name == "zsh":
            ctx.host.fs.write_text(os.path.join(os.path.dirname(rc), ".zshrc"), text)
            shell_env["ZDOTDIR"] = os.path.dirname(rc)
        elif name == "sh":
            shell_env["ENV"] = rc
    ctx.log.info("starting %s in the venv %s" % (" ".join(shell_quote(w) for w in argv), paths.dir))
    ctx.log.flush_file()
    ctx.host.proc.replace(argv, shell_env)
    raise PrimerError("the process port returned from replace(%s)" % shell)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _compute_stride_py_venv_for_start(ctx, p):
    paths = p["state_venv_ready_for_start"]
    if running_venv(ctx.host.env, paths.dir, ctx.host.fs):
        return StateStride.stride_py_venv
    replace_process(ctx, paths.python, StateStride.stride_py_venv, p["state_proto_code_file_abs_path_inited"])


def _compute_app_started(ctx, p):
    fast = p["state_fast_record_checked"]
    if not (fast and fast.verified):  # a venv its record verifies is this process's, ready
        p["state_stride_py_venv_for_start_reached"]
    main_func, argv = ctx.main_func, None
    if ctx.coordinates.entry_func in _APP:
        args = p["state_args_parsed"]
        main_func = args.main_func
        _check_main_func_or_usage(main_func)
        argv = [main_func] + list(args.main_args or ())  # what follows MODULE:FUNC is the function's own
    _isolate_client(ctx, p)
    code = call_client_main(ctx, main_func, argv)
    ctx.client_answered = True  # the app's exit code is its answer: no FAILURE line of the kernel's
    return code
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _check_main_func_or_usage(main_func):
    try:
        _check_main_func(main_func)
    except ValueError as e:
        raise UsageError("start %s" % e)


def _compute_tool_executed(ctx, p):
    """wrap: write an entry script that loads this kernel copy (0755, parents created, --force to replace)."""
    args = p["state_args_parsed"]
    env = ctx.host.env
    fs = ctx.host.fs
    if args.main_func is not None:
        _check_main_func_or_usage(args.main_func)
    elif args.wrap_entry_func == "start_app":
        raise UsageError("wrap start_app needs -m MODULE:FUNC, the function the script starts")
    script = _norm_join(env.cwd(), args.script_path)
    if fs.is_dir(script):
        raise UsageError("wrap -s %s: that is a directory; name the script file to write" % args.script_path)
    copy = p["state_proto_code_file_abs_path_inited"]
    kernel_rel = os.path.relpath(copy, os.path.dirname(script))
    if args.fast or (not args.plain and os.sep == "/"):  # the fast form on POSIX
        venv = p["state_local_venv_dir_abs_path_inited"]
        inside = _is_inside(venv, p["state_ref_root_dir_abs_path_inited"])
        venv_ref = "$here/" + os.path.relpath(venv, os.path.dirname(script)) if inside else venv
        text = render_fast_entry_script(args.wrap_entry_func, kernel_rel, args.main_func, venv_ref)
    else:
        text = render_entry_script(args.wrap_entry_func, kernel_rel, args.main_func)
    if fs.lexists(script) and _read_or_empty(fs, script) != text and not args.force:
        raise PrimerError("%s exists with other content: pass --force to overwrite it" % script, ExitCode.refused)
    if _read_or_empty(fs, script) == text and fs.file_mode(script) & 0o111:
        ctx.log.info("%s is already up to date" % script)
        return 0
    fs.write_text(script, text, mode=0o755)
    env.write_stdout("wrote %s: %s(%s) with the kernel copy %s\n" % (script, args.wrap_entry_func, args.main_func or "", copy))
    return 0
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# --- the file log


MAX_LOG_FILES = 20


def _compute_file_log_configured(ctx, p):
    """Every process of a run appends to one log file `<log dir>/<script>.<start id>.log`; the first
    prunes older ones so that, with its own, MAX_LOG_FILES remain."""
    log_dir = p["state_local_log_dir_abs_path_inited"]
    env = ctx.host.env
    prefix = os.path.basename(env.argv[0]) if env.argv and env.argv[0] else "protoprimer"
    path = os.path.join(log_dir, "%s.%s.log" % (prefix, p["state_input_start_id_var_loaded"]))
    make_generated_dir(ctx, p, log_dir)
    ctx.log.attach_file(ctx.host.fs, path)
    if ctx.is_first_process:
        fs = ctx.host.fs
        if fs.is_dir(log_dir):
            old = [name for name in fs.list_dir(log_dir) if name.startswith(prefix + ".") and name.endswith(".log")]
            old.sort(key=lambda name: _start_id_order(name[:-len(".log")]))
            for name in old[:max(0, len(old) - (MAX_LOG_FILES - 1))]:
                fs.remove(os.path.join(log_dir, name))
    return path
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

_APP = (EntryFunc.func_boot_env, EntryFunc.func_run_main)

FINAL_TARGETS = {
    ExecMode.mode_read: "state_effective_config_printed",
    ExecMode.mode_prime: "state_command_executed",
    ExecMode.mode_start: "state_app_started",
    ExecMode.mode_tool: "state_tool_executed",
}


def _with_args(parents, compute):
    """A factory for a state whose `compute` reads the CLI through `_args`: the entry functions with a CLI
    (boot_env, run_main) declare `args_parsed` as a parent too, the others read the defaults."""
    table = dict((entry, _impl(parents + " args_parsed", compute)) for entry in _APP)
    table[None] = _impl(parents, compute)
    return impl_by_entry(table)


_DERIVED_PARENTS = tuple(DERIVED_KEYS) + ("state_conf_files_checked",)
def _sub_command_factory(coords):
    if coords.entry_func in _APP:
        return StateImpl(("state_args_parsed",), _compute_sub_command_from_args)
    if coords.entry_func == EntryFunc.func_start_app:
        return StateImpl((), lambda ctx, p: SubCommand.start)
    return StateImpl((), lambda ctx, p: None)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _names(text):
    """'ref_root_dir_abs_path_inited args_parsed' -> ('state_ref_root_dir_abs_path_inited', 'state_args_parsed')"""
    return tuple("state_" + name for name in text.split())


def _impl(parents, compute):
    return StateImpl(_names(parents), compute)


def _one(parents, compute):
    return one_impl(_names(parents), compute)


def _in_mode(mode, parents, compute):
    return impl_by_mode({mode: _impl(parents, compute)})


def _in_read_mode(factory):
    return lambda coords: factory(coords) if coords.exec_mode == ExecMode.mode_read else None
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _prime(parents, compute):
    return _in_mode(ExecMode.mode_prime, parents, compute)


# the parents of every field with the local-over-global rule (`_override`)
_CONF = "ref_root_dir_abs_path_inited client_conf_file_data_loaded env_conf_file_data_loaded"


def builtin_states():
    """The maximum graph: every state name this kernel knows, mapped to its factory (a fresh list). In the
    table below names drop their `state_` prefix; parents are listed in one string."""
    table = [
        # phase 1: what the process was started with, the CLI, logging, the exec mode
        ("input_py_exec_var_loaded", _one("", _compute_py_exec)),
        ("input_start_id_var_loaded", _one("", _compute_start_id)),
        ("input_proto_code_file_abs_path_var_loaded", _one("input_py_exec_var_loaded", _compute_proto_code_var)),
        ("args_parsed", impl_by_entry(dict((entry, _impl("", _compute_args)) for entry in _APP))),
        ("input_stderr_log_level_var_loaded", _one("", _compute_log_level_var)),
        ("stderr_log_level_finalized", _with_args("input_stderr_log_level_var_loaded", _compute_log_level)),
        ("stderr_log_configured", _one("stderr_log_level_finalized", _compute_log_configured)),
        ("input_sub_command_arg_loaded", _sub_command_factory),
        ("exec_mode_inited", _one("input_py_exec_var_loaded input_sub_command_arg_loaded stderr_log_configured", _compute_exec_mode)),
        ("final_target_inited", _with_args("exec_mode_inited", _compute_final_target)),
        # phase 2: configuration leaps (input -> primer -> global -> local -> derived)
        ("proto_code_file_abs_path_inited", _one("input_proto_code_file_abs_path_var_loaded", _compute_proto_code_path)),
        ("primer_conf_file_abs_path_inited", _one("proto_code_file_abs_path_inited", _compute_primer_conf_path)),
        ("primer_conf_file_data_loaded", _one("primer_conf_file_abs_path_inited", _compute_primer_conf)),
        ("ref_root_dir_abs_path_inited", _one("proto_code_file_abs_path_inited primer_conf_file_data_loaded", _compute_ref_root)),
        ("global_conf_dir_abs_path_inited", _one("primer_conf_file_data_loaded ref_root_dir_abs_path_inited", _compute_global_conf_dir)),
        ("global_conf_file_abs_path_inited",
         _one("primer_conf_file_abs_path_inited global_conf_dir_abs_path_inited", _compute_global_conf_path)),
        ("client_conf_file_data_loaded", _one("global_conf_file_abs_path_inited primer_conf_file_data_loaded", _compute_client_conf)),
        ("env_selection_inited", _with_args("ref_root_dir_abs_path_inited client_conf_file_data_loaded", _compute_env_selection)),
        ("selected_env_dir_rel_path_inited", _one("env_selection_inited", _compute_selected_env_rel)),
        ("local_conf_symlink_abs_path_inited", _one("env_selection_inited ref_root_dir_abs_path_inited", _compute_symlink_path)),
        ("local_conf_symlink_ensured", _prime("env_selection_inited", _compute_symlink_ensured)),
        ("local_conf_file_abs_path_inited",
         _one("env_selection_inited primer_conf_file_abs_path_inited ref_root_dir_abs_path_inited", _compute_local_conf_path)),
        ("env_conf_file_data_loaded", _one("local_conf_file_abs_path_inited env_selection_inited", _compute_env_conf)),
        ("conf_files_checked",
         _one("primer_conf_file_data_loaded client_conf_file_data_loaded env_conf_file_data_loaded", _compute_conf_files_checked)),
        # derived fields
        ("python_requirement_inited", _one(_CONF, _compute_python_requirement)),
        ("required_python_version_inited", _one("python_requirement_inited", _compute_required_python_version)),
        ("python_selector_file_abs_path_inited", _one(_CONF, _compute_selector_path)),
        ("python_candidate_found",
         _one(_CONF + " python_requirement_inited python_selector_file_abs_path_inited venv_stamp_loaded", _compute_python_candidate)),
        ("selected_python_file_abs_path_inited", impl_by_mode({
            ExecMode.mode_prime: _impl("python_candidate_found python_requirement_inited global_conf_file_abs_path_inited",
                                       _compute_selected_python_prime),
            None: _impl("python_candidate_found python_requirement_inited", _compute_selected_python_read)})),
        ("local_venv_dir_abs_path_inited", _one(_CONF + " conf_files_checked proto_code_file_abs_path_inited "
                                                "global_conf_file_abs_path_inited", _compute_venv_dir)),
        ("local_log_dir_abs_path_inited", _one(_CONF, _dir_state("local_log_dir_rel_path"))),
        ("local_tmp_dir_abs_path_inited", _one(_CONF, _dir_state("local_tmp_dir_rel_path"))),
        ("local_cache_dir_abs_path_inited", _one(_CONF, _dir_state("local_cache_dir_rel_path"))),
        ("venv_driver_inited", _one(_CONF + " python_candidate_found", _compute_venv_driver)),
        ("version_constraints_file_basename_inited", _one(_CONF, _compute_constraints_basename)),
        ("project_descriptors_inited", _one(_CONF, _compute_project_descriptors)),
        ("install_specs_inited", _one(_CONF, _compute_install_specs)),
        ("derived_conf_data_loaded", one_impl(_DERIVED_PARENTS, _compute_derived)),
        ("effective_config_printed", _in_read_mode(_with_args(
            "proto_code_file_abs_path_inited primer_conf_file_abs_path_inited primer_conf_file_data_loaded "
            "client_conf_file_data_loaded env_conf_file_data_loaded derived_conf_data_loaded python_candidate_found "
            "python_requirement_inited global_conf_file_abs_path_inited project_descriptors_inited "
            "ref_root_dir_abs_path_inited", _compute_effective_config_printed))),
        # the venv, installs, restarts, the handover, and each exec mode's end
        ("venv_paths_inited", _one("local_venv_dir_abs_path_inited local_tmp_dir_abs_path_inited", _compute_venv_paths)),
        ("version_constraints_file_abs_path_inited",
         _one("env_selection_inited ref_root_dir_abs_path_inited version_constraints_file_basename_inited", _compute_constraints_path)),
        ("install_inputs_inited",
         _one(_CONF + " project_descriptors_inited install_specs_inited venv_driver_inited "
              "selected_python_file_abs_path_inited python_candidate_found version_constraints_file_abs_path_inited",
              _compute_install_inputs)),
        ("venv_stamp_loaded", _one("venv_paths_inited", _compute_venv_stamp)),
        ("venv_checked", _one("venv_paths_inited install_inputs_inited python_requirement_inited venv_stamp_loaded",
                              _compute_venv_checked)),
        ("venv_prepared",
         _prime("venv_paths_inited venv_checked input_sub_command_arg_loaded install_inputs_inited python_requirement_inited "
                "local_cache_dir_abs_path_inited local_tmp_dir_abs_path_inited input_start_id_var_loaded proto_code_file_abs_path_inited "
                "version_constraints_file_abs_path_inited project_descriptors_inited install_specs_inited "
                "ref_root_dir_abs_path_inited python_candidate_found", _compute_venv_prepared)),
        ("file_log_configured", _prime("local_log_dir_abs_path_inited input_start_id_var_loaded ref_root_dir_abs_path_inited", _compute_file_log_configured)),
        ("stride_deps_updated_reached",
         _prime("input_py_exec_var_loaded venv_paths_inited file_log_configured venv_prepared proto_code_file_abs_path_inited",
                _compute_deps_updated)),
        ("proto_code_updated",
         _prime("stride_deps_updated_reached proto_code_file_abs_path_inited venv_paths_inited input_start_id_var_loaded",
                _compute_proto_code_updated)),
        ("boot_completed", _prime("proto_code_updated proto_code_file_abs_path_inited local_conf_symlink_ensured",
                                  _compute_boot_completed)),
        ("fast_record_checked", _one("proto_code_file_abs_path_inited", _compute_fast_record_checked)),
        ("fast_recorded", _prime(
            "boot_completed fast_record_checked proto_code_file_abs_path_inited ref_root_dir_abs_path_inited venv_paths_inited "
            "primer_conf_file_abs_path_inited global_conf_file_abs_path_inited global_conf_dir_abs_path_inited env_selection_inited "
            "env_conf_file_data_loaded version_constraints_file_abs_path_inited python_requirement_inited "
            "python_selector_file_abs_path_inited project_descriptors_inited", _compute_fast_recorded)),
        ("command_executed", _prime("fast_record_checked fast_recorded args_parsed proto_code_file_abs_path_inited "
                                    "venv_paths_inited local_cache_dir_abs_path_inited", _compute_command_executed)),
        ("venv_ready_for_start", _in_mode(ExecMode.mode_start, "venv_paths_inited", _compute_venv_ready_for_start)),
        ("stride_py_venv_for_start_reached", _in_mode(ExecMode.mode_start, "venv_ready_for_start proto_code_file_abs_path_inited",
                                                      _compute_stride_py_venv_for_start)),
        ("app_started", _start_factory),
        ("tool_executed", _in_mode(ExecMode.mode_tool, "args_parsed proto_code_file_abs_path_inited "
                                   "local_venv_dir_abs_path_inited ref_root_dir_abs_path_inited", _compute_tool_executed)),
    ]
    return [("state_" + name, factory) for name, factory in table]
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def _start_factory(coords):
    if coords.exec_mode != ExecMode.mode_start:
        return None
    return _impl("stride_py_venv_for_start_reached fast_record_checked proto_code_file_abs_path_inited" + (
        " args_parsed" if coords.entry_func in _APP else ""),
                 _compute_app_started)


# endregion: states


# region: CLI and logging


class _ParserExit(Exception):
    """argparse finished early (help): end the run with this exit code (`status`)."""

    status = property(lambda self: self.args[0])

########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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


def _add_options(parser, sub_command, prefix="", suppress=None):
    """Add the options of `sub_command` ("*": the common ones) from CLI_OPTIONS. In a sub-command's parser
    the common ones get the `sub_` prefix and no default (`suppress`), so that parse_cli can add them up."""
    import argparse
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    for where, flags, dest, kind, metavar, help_text in CLI_OPTIONS:
        if where != sub_command:
            continue
        options = {"help": help_text}
        if kind in ("count", "flag"):
            options["action"] = "count" if kind == "count" else "store_true"
            options["default"] = suppress if suppress else DefaultArgs.__dict__[dest]
        else:
            options["metavar"] = metavar
            if isinstance(kind, tuple):
                options["choices"] = kind
            elif kind == "rest":
                options["nargs"] = argparse.REMAINDER
            elif flags:
                options["required"] = kind == "required"
                options["default"] = suppress
        if flags:
            parser.add_argument(*flags, dest=prefix + dest, **options)
        else:
            parser.add_argument(dest, **options)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    parser = Parser(
        prog=prog,
        description="The early [proto] environment bootstrapper [primer].",
        epilog="Without a sub-command, boot's options apply: `%s -c COMMAND` bootstraps, then runs COMMAND in "
               "the venv. Version: %s | kernel: %s" % (prog, __version__, env.kernel_path),
        formatter_class=formatter,
    )
    _add_options(parser, "*")
    subs = parser.add_subparsers(dest="sub_command", metavar="SUB_COMMAND", title="sub-commands")
    for name, aliases, help_text in CLI_SUB_COMMANDS:
        sub_parser = subs.add_parser(name, help=help_text, description=help_text, aliases=list(aliases), formatter_class=formatter)
        _add_options(sub_parser, "*", "sub_", argparse.SUPPRESS)
        _add_options(sub_parser, name)
    return parser


def parse_cli(argv, env, prog=None, client_args=False):
    """Parse protoprimer's CLI; common options may come before or after the sub-command.

    Returns an argparse.Namespace with the reference's names: sub_command (aliases resolved),
    selected_env_dir, stderr_log_level_verbose, stderr_log_level_quiet, run_command, final_state,
    print_json, main_func, wrap_entry_func, script_path, force; and client_args: with `client_args`, the
    arguments the kernel does not know, left for a client main's options (the meta runtime parses them).
    Raises UsageError; help ends in _ParserExit.
    """
    argv = list(argv)
    if prog is None:
        prog = os.path.basename(env.argv[0]) if env.argv and env.argv[0] else "protoprimer"
    parser = build_cli_parser(env, prog)
    wants_help = "-h" in argv or "--help" in argv
    if not _has_sub_command(argv) and not wants_help:
        argv = [SubCommand.boot] + argv
    args, extra = parser.parse_known_args(argv) if client_args else (parser.parse_args(argv), [])
    if args.sub_command is None:
        args.sub_command = SubCommand.boot
    args.sub_command = SUB_COMMAND_ALIASES.get(args.sub_command, args.sub_command)
    if extra and args.sub_command not in (SubCommand.boot, SubCommand.reset):  # where a client main runs
        parser.error("unrecognized arguments: %s" % " ".join(extra))
    args.client_args = tuple(extra)
    args.stderr_log_level_verbose += getattr(args, "sub_stderr_log_level_verbose", 0)
    args.stderr_log_level_quiet += getattr(args, "sub_stderr_log_level_quiet", 0)
    if getattr(args, "sub_selected_env_dir", None) is not None:
        args.selected_env_dir = args.sub_selected_env_dir
    for name in ("sub_stderr_log_level_verbose", "sub_stderr_log_level_quiet", "sub_selected_env_dir"):
        if hasattr(args, name):
            delattr(args, name)
    for name, default in vars(DefaultArgs).items():  # the options of other sub-commands, at their defaults
        if not name.startswith("_") and not hasattr(args, name):
            setattr(args, name, default)
    return args
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

_LEVEL_COLORS = {"DEBUG": "36", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


def _level_name(level):
    levels = (("CRITICAL", 50), ("ERROR", 40), ("WARNING", 30), ("INFO", 20), ("DEBUG", 10), ("NOTSET", -1))
    return next(name for name, value in levels if level >= value)


class Log(object):
    """The kernel's own small logger: one stderr sink with a level (no `logging`: it costs 5 ms a start).

    Formats follow the reference: WARNING and above `LEVEL message`; INFO with the time, pid and the
    stride the process started at; DEBUG with the date too.
    """

    def __init__(self, env):
        self._env = env
        self.level = 30
        self._color = None
        self._file = None  # (fs, path) of the run's file log, once attached
        self._file_lines = []  # kept from the start: what a process decided before it knew the file is in it
        self.warnings = 0
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def _use_color(self):
        if self._color is None:
            self._color = self._env.stderr_is_tty() and not self._env.get("NO_COLOR")
        return self._color

    def paint(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self._use_color() else text

    def enabled(self, level):
        return level >= self.level

    def _stamped(self, level, label, message, with_date):
        import time

        now = self._env.now()
        millis = int((now - int(now)) * 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S" if with_date else "%H:%M:%S", time.gmtime(now))
        stride = self._env.get(EnvVar.PROTOPRIMER_PY_EXEC) or StateStride.stride_py_unknown
        return "%s.%03dZ pid:%d %s py:%s %s" % (stamp, millis, self._env.pid, label, stride, message)

    def log(self, level, message):
        name, message = _level_name(level), redact(message)
        self.warnings += level >= 30
        if level >= min(20, self.level):
            self.to_file(self._stamped(level, name, message, True))
        if level < self.level:
            return
        label = self.paint(_LEVEL_COLORS.get(name, "0"), name)
        line = "%s %s" % (label, message) if level >= 30 else self._stamped(level, label, message, level < 20)
        self._env.write_stderr(line + "\n")
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def to_file(self, line):
        self._file_lines.append(redact(line) + "\n")

    def attach_file(self, fs, path):
        """Also log to the file `path` (appending), at INFO or the stderr level if that is lower."""
        self._file = (fs, path)

    @property
    def file_path(self):
        return None if self._file is None else self._file[1]

    def flush_file(self):
        """Append what was logged for the file so far (before a process ends or is replaced). A log that
        cannot be written costs one warning, not the run."""
        if self._file is not None and self._file_lines:
            fs, path = self._file
            lines, self._file_lines = self._file_lines, []
            try:
                fs.append_text(path, "".join(lines))
            except OSError as e:
                self._file = None
                self.warning("cannot write the file log %s: %s (logging to stderr only)" % (path, e.strerror or e))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def progress(self, what):
        """Announce a long phase: a status line with the elapsed time on a terminal (returned, to tick and
        clear), one plain line on a pipe, nothing when quiet; INFO in the file log either way."""
        if self.level <= 20:
            self.log(20, what)
            return None
        self.to_file(self._stamped(20, "INFO", what, True))
        if self.level > 30:
            return None
        if not self._env.stderr_is_tty():
            self._env.write_stderr("protoprimer: %s\n" % what)
            return None
        return _StatusLine(self._env, what)

    def notice(self, message):
        """Something the user should know of what a run did (pins dropped or changed, what reset removed):
        one plain line at the default level, like the progress lines; INFO in the file log."""
        if self.level <= 20:
            self.log(20, message)
        elif self.level <= 30:
            self.to_file(self._stamped(20, "INFO", message, True))
            self._env.write_stderr("protoprimer: %s\n" % message)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def info(self, message):
        self.log(20, message)

    def warning(self, message):
        self.log(30, message)

    def error(self, message):
        self.log(40, message)


class _StatusLine(object):
    """One terminal line that says what a phase does and for how long; cleared when the phase ends."""

    def __init__(self, env, what):
        self._env = env
        self._what = what
        self.tick(0.0)

    def tick(self, elapsed):
        text = "%s (%.1fs)" % (self._what, elapsed)
        width = self._env.terminal_width() - 1
        if len(text) > width:  # one line only: a wrapped line could not be rewritten in place
            text = "..." + text[len(text) - width + 3:]
        self._env.write_stderr("\r\033[K%s" % text)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def done(self):
        self._env.write_stderr("\r\033[K")


SECRET_WORDS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "CREDENTIAL", "AUTH")


def redact(text):
    """What a log may hold of `text`: a URL's password hidden (`https://user:***@host`), and the value of a
    `NAME=value` word whose NAME (an environment variable's form) looks secret (`API_TOKEN=***`)."""
    if "://" in text:
        parts = text.split("://")
        for index in range(1, len(parts)):
            userinfo, at, rest = parts[index].partition("@")
            if at and ":" in userinfo and not any(c in userinfo for c in " /'\""):
                parts[index] = userinfo.split(":", 1)[0] + ":***@" + rest
        text = "://".join(parts)
    if "=" in text:
        words = text.split(" ")
        for index, word in enumerate(words):
            name, eq, value = word.lstrip("'\"").partition("=")
            if eq and value and name.isupper() and any(part in name for part in SECRET_WORDS):
                words[index] = word[:len(word) - len(word.lstrip("'\""))] + name + "=***"
        text = " ".join(words)
    return text
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def __init__(self, host, entry_func, main_func=None, forced_target=None, kernel_file=None, chain=None):
        if entry_func not in ENTRY_FUNCS:
            raise ValueError("unknown entry function %r (one of: %s)" % (entry_func, ", ".join(ENTRY_FUNCS)))
        self.host = host
        self.entry_func = entry_func
        self.main_func = main_func
        # the file of the kernel whose code runs this context: the copy, or the installed kernel after a handover
        self.kernel_file = kernel_file or host.env.kernel_path
        # set for a handover from a reference (0.13) copy, which does not pass the client's main along
        self.restart_after_refresh = False
        # set when the exit code is a start_app/start function's own answer: no FAILURE line is added to it
        self.client_answered = False
        # (stride, kernel copy path) handed over in-process by a copy: they win over the chain variables
        self.chain = chain
        self.forced_target = forced_target
        self.meta_target = None  # a --target only the meta runtime (the client's main) may know
        self.coordinates = Coordinates(entry_func)
        self.graph = StateGraph(builtin_states())
        self.log = Log(host.env)
        self._warned = set()
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def eval_state(self, name):
        return self.graph.eval(name, self)

    def register_state(self, name, factory, replace=False):
        return self.graph.register(name, factory, replace)

    @property
    def is_first_process(self):
        """True in the process the user started (no chain variable yet, and not client code that a run
        started): warnings are given only there."""
        env = self.host.env
        return self.chain is None and env.get(EnvVar.PROTOPRIMER_PY_EXEC) is None and env.recall("knobs") is None

    def warn_once(self, key, message):
        """A warning given once per invocation: once per process, and only in the chain's first process."""
        if key in self._warned or not self.is_first_process:
            return
        self._warned.add(key)
        self.log.warning(message)

    def run(self):
        """Phase 1 learns the exec mode (parsing the CLI where there is one); phase 2 evaluates the final
        target chosen for the now complete coordinates. Returns the exit code."""
        self.eval_state("state_input_start_id_var_loaded")  # a run's id is the time it started at
        mode = self.eval_state("state_exec_mode_inited")
        self.coordinates = Coordinates(self.entry_func, mode)
        target = self.eval_state("state_final_target_inited")
        value = self.eval_state(target)
        if target != FINAL_TARGETS[mode] and (not isinstance(value, int) or isinstance(value, bool)):
            return 0  # a target that is not an exec mode's end is reached: its value is not an exit code
        return value
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
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
        except KeyboardInterrupt:
            self.log.error("interrupted (Ctrl-C): the next ./prime finishes or redoes what was cut short")
            code = ExitCode.interrupted
        except OSError as e:
            where = " and ".join(str(name) for name in (e.filename, getattr(e, "filename2", None)) if name)
            self.log.error(
                "cannot read or write %s: %s (check its permissions and the free space)" % (where or "a file", e.strerror or e)
            )
            self._log_traceback()
            code = ExitCode.file_error
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
        if code != 0 and not self.client_answered:
            self._say_where_the_env_link_stays()
        self.print_exit_line(code)
        self.log.flush_file()
        return code
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########
    def _say_where_the_env_link_stays(self):
        """After a failed `--env X` run: the link still points at the env before it, which plain runs use."""
        selection = self.graph.cached("state_env_selection_inited")
        fs = self.host.fs
        if selection is None or not selection.source.startswith("--env") or selection.link_points_there:
            return
        if fs.is_symlink(selection.link_path) and fs.exists(selection.link_path):
            self.log.warning("%s still points at %s (the env before this run): a plain ./prime uses it; fix the "
                             "cause above and rerun with --env to switch" % (selection.link_path, fs.real_path(selection.link_path)))

    def _log_traceback(self):
        if self.log.enabled(20):
            import traceback

            self.host.env.write_stderr(traceback.format_exc())

    def print_exit_line(self, code):
        """`SUCCESS [0]: <python> <argv>` with -v; `FAILURE [N]: ...` unless silenced with -qqq. The file
        log gets it always."""
        env = self.host.env
        command = " ".join(shell_quote(word) for word in [env.executable] + env.argv)
        status = "SUCCESS" if code == 0 else "FAILURE"
        self.log.to_file("%s [%d]: %s" % (status, code, command))
        if self.log.enabled(20 if code == 0 or self.client_answered else 50):
            painted = self.log.paint("30;42" if code == 0 else "37;41", status)
            env.write_stderr("%s [%d]: %s\n" % (painted, code, redact(command)))
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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


def boot_env(venv_main_func=None, host=None):
    """Entry script API: bootstrap the repo (CLI, restarts, venv), then call the client's "module:func"
    if one is given (without one, `-c`/`shell` or nothing follows the boot). The empty string is what the
    reference's `wrap` writes for "no main" (its instant layout): the same as None."""
    _run_entry(host, EntryFunc.func_boot_env, venv_main_func or None)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def start_app(venv_main_func, host=None):
    """Entry script API: hop into the existing venv and call the client's "module:func" (no CLI)."""
    _run_entry(host, EntryFunc.func_start_app, venv_main_func)


def main(host=None):
    """The kernel file run directly (`./proto_kernel.py [args]`)."""
    _run_entry(host, EntryFunc.func_run_main)


def resume_chain(entry_func, main_func, kernel_file, host=None, chain=None):
    """The handover: a kernel copy in the venv calls this function of the installed kernel, which takes the
    run over from there (it refreshes the copy, then runs client code). Only names and plain values cross
    (`chain` is the stride reached and the copy's path): the copy and this module may be different
    versions. Ends the process (SystemExit) like boot_env."""
    context = RunContext(host or real_host(), entry_func, main_func, kernel_file=kernel_file, chain=chain)
    raise SystemExit(context.run_guarded())


_LEAP_STATES = {
    ConfLeap.leap_primer: "state_primer_conf_file_data_loaded",
    ConfLeap.leap_client: "state_client_conf_file_data_loaded",
    ConfLeap.leap_env: "state_env_conf_file_data_loaded",
    ConfLeap.leap_derived: "state_derived_conf_data_loaded",
}
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

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


def proto_main(host=None):
    """The kernel's own flow, as the reference's `proto_main()`: in a boot_env main (client code a run
    started) it carries the run on from where it handed over (the `-c` command or shell, if one was asked
    for, runs now and replaces the process); anywhere else it is the kernel file run directly, with the
    process's arguments. Returns None when the flow succeeds; raises SystemExit with the exit code otherwise."""
    host = host or real_host()
    env = host.env
    stride, copy = env.recall("client_stride"), env.recall("proto_kernel_abs_path")
    chain = (stride, copy) if stride is not None and copy is not None else None
    code = RunContext(host, EntryFunc.func_run_main, chain=chain).run_guarded()
    if code != 0:
        raise SystemExit(code)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

def get_default_start_id(host=None):
    """A new start id (`<UTC time>Z.<pid>`), the form the kernel names its log files with."""
    return new_start_id((host or real_host()).env)


def get_proto_kernel_abs_path(host=None):
    """The absolute path of the repo's kernel copy this process was started from."""
    host = host or real_host()
    remembered = host.env.recall("proto_kernel_abs_path")
    if remembered is not None:
        return remembered
    return RunContext(host, EntryFunc.func_call_lib).eval_state("state_proto_code_file_abs_path_inited")


def __getattr__(name):
    """Names of the reference's API that only client code in the venv uses (EnvState, ConfField, the log
    formatters, ...) live in the package module protoprimer.reference_api, imported on first lookup."""
    if name.startswith("_") and name != "_get_shell_driver":
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    try:
        served = RealProcesses().import_module("protoprimer.reference_api")
    except ImportError:
        served = None
    if served is None or name not in served.__all__:
        raise AttributeError(
            "module %r has no attribute %r%s" % (
                __name__, name, "" if served is not None else " (names of the reference's API come from the "
                "installed protoprimer package, which this interpreter cannot import: use them in the venv)")
        )
    return getattr(served, name)
########### !!!!! GENERATED CONTENT - ANY CHANGES WILL BE LOST !!!!! ###########

# endregion: public API


if __name__ == "__main__":
    main()
