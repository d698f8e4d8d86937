"""The processes port (`host.proc`): the kernel's RealProcesses against the harness's FakeProcesses (the
ports of a process opened in a world), one body each: run (the interpreter probe, programs that cannot
start, streaming), which, the lock operations, load_file_function, find_module_file."""

import errno
import os
import sys

import pytest

from protoprimer import primer_kernel as kernel

PROBE = kernel.PYTHON_PROBE_CODE


def probe_lines(backend, path, flags=("-E", "-s"), **kwargs):
    result = backend.host.proc.run([path] + list(flags) + ["-c", PROBE], **kwargs)
    return result.returncode, backend.norm(result.stdout.splitlines()), result.stderr


# --- run: the interpreter probe --------------------------------------------------------------------------


@pytest.mark.parametrize("flags", [("-E", "-s"), ("-I",), ("-Es",)])
def test_probe_of_a_base_interpreter(backend, flags):
    returncode, lines, stderr = probe_lines(backend, backend.python, flags)
    prefix = backend.facts.prefix
    assert (returncode, lines, stderr) == (0, [backend.version, backend.python, prefix, prefix], "")


def test_probe_of_every_real_interpreter_of_this_machine(backend):
    """Old ones too (2.7, 3.6): the probe code is valid Python 2, so they answer with their version."""
    seen = {}
    for path in sorted(backend.facts.interpreters):
        returncode, lines, _ = probe_lines(backend, path)
        seen[path] = (returncode, lines)
    expected = {}
    for path, version in backend.facts.interpreters.items():
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(path)))
        expected[path] = (0, [version, path, prefix, prefix])
    assert seen == expected
    found = kernel.probe_python(backend.host, max(backend.facts.interpreters, key=lambda p: p))
    assert found.problem is None


def test_probe_through_a_symlink_reports_the_link_as_executable(backend):
    link = backend.symlink("bin/python3", backend.python)
    prefix = backend.facts.prefix
    assert probe_lines(backend, link) == (0, [backend.version, "<ROOT>/bin/python3", prefix, prefix], "")
    assert backend.host.fs.same_file(link, backend.python)


def test_probe_found_on_the_path_of_the_given_env(backend):
    backend.symlink("bin/python3", backend.python)
    result = backend.host.proc.run(["python3", "-E", "-s", "-c", PROBE], env={"PATH": backend.path("bin")})
    assert (result.returncode, backend.norm(result.stdout.splitlines()[:2])) == (
        0, [backend.version, "<ROOT>/bin/python3"])


def test_run_of_a_bare_name_with_an_env_without_path_searches_the_default_path(backend):
    """subprocess looks a bare name up on os.defpath (/bin:/usr/bin) when the env has no PATH."""
    if not os.path.exists("/bin/sh"):
        pytest.skip("no /bin/sh")
    result = backend.host.proc.run(["sh", "-c", ":"], env={})
    assert (result.returncode, result.stderr) == (0, "")


def test_run_of_a_relative_program_is_relative_to_cwd(backend):
    backend.symlink("bin/python3", backend.python)
    backend.mkdir("elsewhere")
    result = backend.host.proc.run(["./bin/python3", "-E", "-s", "-c", PROBE], cwd=backend.root)
    assert (result.returncode, backend.norm(result.stdout.splitlines()[1])) == (0, "<ROOT>/bin/python3")


def test_probe_python_accepts_the_real_interpreter(backend):
    probe = kernel.probe_python(backend.host, backend.python)
    assert (probe.problem, probe.version, probe.executable, probe.venv) == (
        None, tuple(int(p) for p in backend.version.split(".")), backend.python, None)


def test_probe_of_a_broken_interpreter(backend):
    """Real: the interpreter binary where its standard library is not (`encodings` missing): exit 1."""
    broken = backend.broken_python("broken/bin/python" + backend.facts.short_version)
    result = backend.host.proc.run([broken, "-E", "-s", "-c", PROBE])
    assert (result.returncode, result.stdout, bool(result.stderr.strip())) == (1, "", True)
    probe = kernel.probe_python(backend.host, broken)
    assert probe.problem.startswith("does not run (exit 1: ")


# --- run: programs that cannot start ---------------------------------------------------------------------


def test_run_of_a_missing_program_gives_127(backend):
    proc = backend.host.proc
    backend.symlink("dangling", "nowhere")
    results = [proc.run([backend.path("missing")]), proc.run([backend.path("dangling")]),
               proc.run(["no-such-program-anywhere"], env={"PATH": backend.path("bin")})]
    assert [(r.returncode, r.stdout, backend.norm(r.stderr)) for r in results] == [
        (127, "", "cannot run <ROOT>/missing: No such file or directory"),
        (127, "", "cannot run <ROOT>/dangling: No such file or directory"),
        (127, "", "cannot run no-such-program-anywhere: No such file or directory"),
    ]


def test_run_of_a_file_that_is_not_executable_or_a_directory_gives_127(backend):
    proc = backend.host.proc
    backend.write("data.txt", "not a program\n")
    backend.mkdir("dir")
    results = [proc.run([backend.path("data.txt")]), proc.run([backend.path("dir")])]
    assert [(r.returncode, backend.norm(r.stderr)) for r in results] == [
        (127, "cannot run <ROOT>/data.txt: Permission denied"),
        (127, "cannot run <ROOT>/dir: Permission denied"),
    ]


# --- run: streaming and ticks ----------------------------------------------------------------------------


def test_stream_puts_the_output_on_the_process_streams(backend):
    backend.output()  # drop anything earlier
    result = backend.host.proc.run([backend.python, "-E", "-s", "-c", PROBE], stream=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    out, err = backend.output()
    prefix = backend.facts.prefix
    assert (out.splitlines(), err) == ([backend.version, backend.python, prefix, prefix], "")


def test_stream_of_a_failing_program_puts_its_stderr_on_the_process_stderr(backend):
    broken = backend.broken_python("broken/bin/python" + backend.facts.short_version)
    backend.output()
    result = backend.host.proc.run([broken, "-E", "-s", "-c", PROBE], stream=True)
    out, err = backend.output()
    assert (result.returncode, result.stdout, result.stderr, out, bool(err.strip())) == (1, "", "", "", True)


def test_on_tick_gets_increasing_elapsed_times_and_changes_nothing(backend):
    ticks = []
    result = backend.host.proc.run([backend.python, "-E", "-s", "-c", PROBE], on_tick=ticks.append)
    assert result.returncode == 0 and result.stdout.splitlines()[0] == backend.version
    assert ticks == sorted(ticks) and all(isinstance(t, float) and t > 0 for t in ticks)


# --- which -----------------------------------------------------------------------------------------------


def test_which_over_a_path_string(backend):
    proc = backend.host.proc
    backend.write("bin1/tool", "#!/bin/sh\n", mode=0o755)
    backend.write("bin2/tool", "#!/bin/sh\n", mode=0o755)
    backend.write("bin2/other", "#!/bin/sh\n", mode=0o755)
    backend.write("bin1/noexec", "x\n", mode=0o644)
    backend.write("bin2/noexec", "#!/bin/sh\n", mode=0o755)
    backend.mkdir("bin1/adir")
    backend.symlink("bin1/link", "tool")
    backend.symlink("bin1/dangling", "nowhere")
    path = os.pathsep.join([backend.path("bin1"), backend.path("missing"), backend.path("bin2")])
    found = {name: proc.which(name, path) for name in ("tool", "other", "noexec", "adir", "link", "dangling", "absent")}
    assert backend.norm(found) == {
        "tool": "<ROOT>/bin1/tool",
        "other": "<ROOT>/bin2/other",
        "noexec": "<ROOT>/bin2/noexec",
        "adir": None,
        "link": "<ROOT>/bin1/link",
        "dangling": None,
        "absent": None,
    }
    assert proc.which("tool", "") is None
    assert backend.norm(proc.which(backend.path("bin1", "tool"), "")) == "<ROOT>/bin1/tool"


# --- locks -----------------------------------------------------------------------------------------------


def test_try_lock_writes_our_pid_and_unlock_empties_the_file(backend):
    proc, env = backend.host.proc, backend.host.env
    lock = backend.path("tmp", "deep", "venv.lock")
    handle = proc.try_lock(lock)
    assert handle is not None
    assert (backend.read(lock), proc.lock_holder(lock), proc.is_alive(env.pid)) == ("%d\n" % env.pid, env.pid, True)
    proc.unlock(handle)
    assert (backend.read(lock), proc.lock_holder(lock)) == ("", None)
    again = proc.try_lock(lock)
    assert again is not None
    proc.unlock(again)


def test_a_second_try_lock_of_the_same_process_is_refused(backend):
    proc, env = backend.host.proc, backend.host.env
    lock = backend.path("venv.lock")
    handle = proc.try_lock(lock)
    assert proc.try_lock(lock) is None
    assert proc.lock_holder(lock) == env.pid  # the refused attempt wrote nothing
    proc.unlock(handle)


def test_unlocking_twice_raises_ebadf(backend):
    proc = backend.host.proc
    handle = proc.try_lock(backend.path("venv.lock"))
    proc.unlock(handle)
    with pytest.raises(OSError) as raised:
        proc.unlock(handle)
    assert raised.value.errno == errno.EBADF


def test_a_lock_held_by_a_live_process(backend):
    holder = backend.hold_lock("venv.lock", alive=True)
    proc = backend.host.proc
    lock = backend.path("venv.lock")
    assert (proc.try_lock(lock), proc.lock_holder(lock), proc.is_alive(holder)) == (None, holder, True)
    assert backend.read(lock) == "%d\n" % holder


def test_a_lock_left_by_a_dead_process_is_free_and_names_it(backend):
    holder = backend.hold_lock("venv.lock", alive=False)
    proc, env = backend.host.proc, backend.host.env
    lock = backend.path("venv.lock")
    assert (proc.lock_holder(lock), proc.is_alive(holder)) == (holder, False)
    handle = proc.try_lock(lock)
    assert handle is not None and proc.lock_holder(lock) == env.pid
    proc.unlock(handle)


def test_lock_holder_of_a_missing_or_foreign_file(backend):
    proc = backend.host.proc
    backend.write("garbage.lock", "not a pid\n")
    backend.write("empty.lock", "")
    assert [proc.lock_holder(backend.path(n)) for n in ("missing.lock", "garbage.lock", "empty.lock")] == [None] * 3


def test_is_alive(backend):
    proc, env = backend.host.proc, backend.host.env
    assert (proc.is_alive(env.pid), proc.is_alive(backend.dead_pid())) == (True, False)


# --- load_file_function ----------------------------------------------------------------------------------

SELECTOR = '''\
import os
import shutil


def select_python_file_abs_path(required_version):
    here = os.path.dirname(os.path.abspath(__file__))
    return {
        "required": required_version,
        "name": __name__,
        "file": __file__,
        "listing": sorted(os.listdir(here)),
        "marker": os.path.exists(os.path.join(here, "marker")),
        "which": shutil.which("python3", path=os.path.join(here, "bin")),
    }
'''


def test_load_file_function_returns_the_function_running_on_the_backend_filesystem(backend):
    path = backend.write("conf/select_python.py", SELECTOR)
    backend.write("conf/marker", "")
    backend.symlink("conf/bin/python3", backend.python)
    func = backend.host.proc.load_file_function(path, "select_python_file_abs_path")
    assert backend.norm(func((3, 11))) == {
        "required": (3, 11),
        "name": "protoprimer_loaded_file",
        "file": "<ROOT>/conf/select_python.py",
        "listing": ["bin", "marker", "select_python.py"],
        "marker": True,
        "which": "<ROOT>/conf/bin/python3",
    }


def test_load_file_function_of_a_file_without_py_suffix(backend):
    path = backend.write("select_python", "def select_python_file_abs_path(v):\n    return '/x/python%d.%d' % v\n")
    func = backend.host.proc.load_file_function(path, "select_python_file_abs_path")
    assert func((3, 12)) == "/x/python3.12"


def test_load_file_function_writes_no_bytecode_cache_next_to_the_file(backend, monkeypatch):
    """A selector is the user's config: loading it leaves no __pycache__ beside it, even where bytecode
    would be written (the kernel runs under -I, which ignores PYTHONDONTWRITEBYTECODE)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = backend.write("conf/select_python.py", SELECTOR)
    backend.host.proc.load_file_function(path, "select_python_file_abs_path")
    assert backend.listing(backend.path("conf")) == ["select_python.py"]


def test_load_file_function_without_the_function_raises_client_code_missing(backend):
    path = backend.write("select_python.py", "def other():\n    pass\n")
    with pytest.raises(kernel.ClientCodeMissing) as raised:
        backend.host.proc.load_file_function(path, "select_python_file_abs_path")
    assert backend.norm(str(raised.value)) == "<ROOT>/select_python.py defines no function select_python_file_abs_path"


def test_load_file_function_of_a_syntax_error_raises_syntax_error(backend):
    path = backend.write("select_python.py", "def select_python_file_abs_path(v):\n    return (\n")
    with pytest.raises(SyntaxError) as raised:
        backend.host.proc.load_file_function(path, "select_python_file_abs_path")
    assert (backend.norm(raised.value.filename), raised.value.lineno) == ("<ROOT>/select_python.py", 2)


def test_load_file_function_of_a_missing_file_raises_file_not_found(backend):
    with pytest.raises(FileNotFoundError):
        backend.host.proc.load_file_function(backend.path("missing.py"), "select_python_file_abs_path")


def test_load_file_function_errors_of_the_file_propagate(backend):
    path = backend.write("select_python.py", "raise ValueError('bad selector')\n")
    with pytest.raises(ValueError, match="bad selector"):
        backend.host.proc.load_file_function(path, "select_python_file_abs_path")


def test_the_kernel_reports_a_selector_without_the_function_as_a_config_error(backend):
    path = backend.write("select_python.py", "x = 1\n")
    # _run_python_selector turns the port's errors into config errors; it needs ctx.host, and the config
    # (parents `p`) only to name the field when the file is missing
    ctx = type("Ctx", (), {"host": backend.host})()
    requirement = type("Req", (), {"version": (3, 11)})()
    with pytest.raises(kernel.ConfigError) as raised:
        kernel._run_python_selector(ctx, {}, path, requirement)
    assert backend.norm(str(raised.value)) == (
        "python selector <ROOT>/select_python.py defines no function select_python_file_abs_path(required_version)")


# --- find_module_file ------------------------------------------------------------------------------------


def test_find_module_file(backend):
    backend.add_module({
        "contract_mod_a.py": "",
        "contract_pkg_b/__init__.py": "",
        "contract_pkg_b/sub.py": "",
    })
    proc = backend.host.proc
    found = {name: proc.find_module_file(name) for name in (
        "contract_mod_a", "contract_pkg_b", "contract_pkg_b.sub", "contract_pkg_b.missing", "contract_missing_c",
        "contract_missing_c.sub")}
    assert backend.norm(found) == {
        "contract_mod_a": "<SITE>/contract_mod_a.py",
        "contract_pkg_b": "<SITE>/contract_pkg_b/__init__.py",
        "contract_pkg_b.sub": "<SITE>/contract_pkg_b/sub.py",
        "contract_pkg_b.missing": None,
        "contract_missing_c": None,
        "contract_missing_c.sub": None,
    }


def test_import_module_of_a_missing_module_raises_import_error(backend):
    with pytest.raises(ImportError):
        backend.host.proc.import_module("contract_missing_module_d")
