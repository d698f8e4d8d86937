"""The runner: simulated processes from a command line to the exit, and the outcome they leave."""

import calendar
import json

import pytest

from protoprimer_harness import RestartLoopError, UnknownCommandError, UnknownMainError, UnsupportedProgramError, World
from protoprimer_harness._stub_kernel import stub_kernel
from protoprimer import primer_kernel

STRIDE = "PROTOPRIMER_PY_EXEC"
KERNEL_FILE = "#!/usr/bin/env python3\n# protoprimer-kernel-file\n"


def kernel_file_world():
    """./k.py is a kernel file; python3 (3.11.7) is on PATH, python3.12 lives in /opt/py312/bin."""
    return (
        World()
        .add_interpreter("python3", "3.11.7")
        .add_interpreter("/opt/py312/bin/python3.12", "3.12.1")
        .add_file("k.py", KERNEL_FILE, executable=True)
    )


def restart_once_into_python312(host):
    """First process: restart under python3.12 as stride_py_arbitrary. Second: report and exit 0."""
    if host.env.get(STRIDE) is None:
        env = host.env.variables()
        env[STRIDE] = "stride_py_arbitrary"
        host.proc.replace(["/opt/py312/bin/python3.12", "-I"] + host.env.argv, env)
    host.env.write_stdout("%s %s\n" % (host.env.executable, " ".join(host.env.argv)))
    raise SystemExit(0)


# --- starting processes ----------------------------------------------------------------------------


def test_a_kernel_file_run_directly_sees_the_argv_as_typed_and_itself_as_kernel_path():
    # given
    seen = {}

    def main(host):
        seen.update(argv=host.env.argv, kernel_path=host.env.kernel_path, executable=host.env.executable,
                    cwd=host.env.cwd(), version=host.env.version)
        raise SystemExit(0)

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py eval --json")
    # then
    outcome.assert_exit(0).assert_chain(["/usr/bin/python3 (stride_py_unknown)"])
    assert seen == {"argv": ["./k.py", "eval", "--json"], "kernel_path": "/repo/k.py",
                    "executable": "/usr/bin/python3", "cwd": "/repo", "version": (3, 11, 7)}
    assert outcome.processes[0].code == "kernel.main() as /repo/k.py"


def test_an_entry_script_calls_boot_env_with_its_main_and_the_copy_it_loads_as_kernel_path():
    # given
    world = World().apply_layout("max").add_interpreter("python3", "3.11.7")
    seen = {}

    def boot_env(main_func, host):
        seen.update(main_func=main_func, kernel_path=host.env.kernel_path, argv=host.env.argv)

    # when
    with world.activate(kernel=stub_kernel(boot_env=boot_env)) as session:
        outcome = session.run(["./prime", "eval"])
    # then
    outcome.assert_exit(0)
    assert seen == {"main_func": "client.main:main", "kernel_path": "/repo/cmd/proto_code/proto_kernel.py",
                    "argv": ["./prime", "eval"]}


def test_a_reference_style_entry_script_names_the_kernel_by_its_first_py_string():
    # given
    script = (
        "#!/usr/bin/env python3\nimport os\n"
        "def import_proto_kernel(rel):\n    ...\n"
        "proto_kernel = import_proto_kernel(\"cmd/proto_code/proto_kernel.py\")\n"
        "proto_kernel.start_app(\"client.app:run\")\n"
    )
    world = (World().add_interpreter("python3", "3.11.7").add_file("start", script, executable=True)
             .add_kernel_copy("cmd/proto_code/proto_kernel.py"))
    seen = {}

    def start_app(main_func, host):
        seen.update(main_func=main_func, kernel_path=host.env.kernel_path)
        raise SystemExit(3)

    # when
    with world.activate(kernel=stub_kernel(start_app=start_app)) as session:
        outcome = session.run("./start")
    # then
    outcome.assert_exit(3)
    assert seen == {"main_func": "client.app:run", "kernel_path": "/repo/cmd/proto_code/proto_kernel.py"}


def test_a_script_run_from_a_subdirectory_keeps_the_path_as_typed_and_the_cwd():
    # given
    world = kernel_file_world().add_dir("sub")
    seen = {}

    def main(host):
        seen.update(argv=host.env.argv, cwd=host.env.cwd(), kernel_path=host.env.kernel_path)

    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("../k.py", cwd="sub")
    # then
    outcome.assert_exit(0)
    assert seen == {"argv": ["../k.py"], "cwd": "/repo/sub", "kernel_path": "/repo/k.py"}


def test_a_missing_shebang_interpreter_exits_127_with_a_bad_interpreter_message():
    # given
    world = World().add_file("k.py", "#!/usr/bin/python9\n# protoprimer-kernel-file\n", executable=True)
    # when
    with world.activate(kernel=stub_kernel()) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(127).assert_stderr(contains="bash: ./k.py: /usr/bin/python9: bad interpreter")
    assert outcome.processes == []


def test_no_python_on_path_for_an_env_shebang_exits_127():
    # given
    world = World().add_file("k.py", KERNEL_FILE, executable=True)
    # when
    with world.activate(kernel=stub_kernel()) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(127).assert_stderr(contains="/usr/bin/env: 'python3': No such file or directory")


def test_a_bare_command_not_on_path_exits_127_like_bash():
    # given
    world = World()
    # when
    with world.activate(kernel=stub_kernel()) as session:
        outcome = session.run("prime")
    # then
    outcome.assert_exit(127).assert_stderr(contains="bash: prime: command not found")


def test_a_script_that_is_neither_a_kernel_nor_an_entry_script_stops_the_run_naming_it():
    # given
    world = kernel_file_world().add_file("tool.py", "#!/usr/bin/env python3\nprint(1)\n", executable=True)
    # when
    with world.activate(kernel=stub_kernel()) as session:
        with pytest.raises(UnsupportedProgramError) as raised:
            session.run("./tool.py")
    # then
    assert "/repo/tool.py" in str(raised.value)


# --- ending processes ------------------------------------------------------------------------------


def test_replace_restarts_with_the_new_argv_env_and_interpreter_and_the_chain_shows_it():
    # given
    world = kernel_file_world()
    # when
    with world.activate(kernel=stub_kernel(main=restart_once_into_python312)) as session:
        outcome = session.run("./k.py eval")
    # then
    outcome.assert_exit(0)
    assert outcome.chain() == ["/usr/bin/python3 (stride_py_unknown)",
                               "/opt/py312/bin/python3.12 (stride_py_arbitrary)"]
    second = outcome.processes[1]
    assert second.exec_argv == ["/opt/py312/bin/python3.12", "-I", "./k.py", "eval"]
    assert second.argv == ["./k.py", "eval"]
    assert second.env[STRIDE] == "stride_py_arbitrary"
    assert [p.ended for p in outcome.processes] == ["replaced", "exit 0"]
    outcome.assert_stdout(equals="/opt/py312/bin/python3.12 ./k.py eval\n")


def test_replace_into_the_installed_kernel_runs_the_module_of_the_venv_site_packages():
    # given
    world = (
        World()
        .add_interpreter("python3", "3.11.7")
        .add_interpreter("venv/bin/python", "3.11.7", venv=True, base="python3")
        .add_installed_kernel("venv/bin/python")
        .add_file("k.py", KERNEL_FILE, executable=True)
    )
    seen = {}

    def main(host):
        if host.env.get(STRIDE) is None:
            env = dict(host.env.variables(), **{STRIDE: "stride_deps_updated"})
            host.proc.replace(["/repo/venv/bin/python", "-I", "-m", "protoprimer.primer_kernel", "eval"], env)
        seen.update(argv=host.env.argv, kernel_path=host.env.kernel_path, prefix=host.env.prefix,
                    base_prefix=host.env.base_prefix)

    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py eval")
    # then
    outcome.assert_exit(0).assert_chain(["python3 (stride_py_unknown)", "venv/bin/python (stride_deps_updated)"])
    installed = "/repo/venv/lib/python3.11/site-packages/protoprimer/primer_kernel.py"
    assert seen == {"argv": [installed, "eval"], "kernel_path": installed, "prefix": "/repo/venv",
                    "base_prefix": "/usr"}


def test_replace_into_a_missing_interpreter_is_an_os_error_inside_the_kernel():
    # given
    def main(host):
        try:
            host.proc.replace(["/repo/venv/bin/python", "-I", "./k.py"], host.env.variables())
        except OSError as error:
            host.env.write_stderr("cannot restart: %s\n" % error.strerror)
            raise SystemExit(4)

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(4).assert_stderr(contains="cannot restart: No such file or directory")


def test_a_restart_loop_stops_at_the_bound_and_the_error_lists_the_chain():
    # given
    def main(host):
        host.proc.replace(["/usr/bin/python3", "-I"] + host.env.argv, host.env.variables())

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        with pytest.raises(RestartLoopError) as raised:
            session.run("./k.py", max_processes=3)
    # then
    message = str(raised.value)
    assert "more than 3 processes" in message
    assert message.count("/usr/bin/python3 (stride_py_unknown)") == 3
    assert "next: ['/usr/bin/python3', '-I', './k.py']" in message


def test_a_crash_is_reported_as_exit_1_with_its_traceback_on_stderr():
    # given
    def main(host):
        raise ValueError("boom in the kernel")

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(1).assert_stderr(contains=["Traceback (most recent call last)",
                                                   "ValueError: boom in the kernel"])
    assert outcome.crashed
    assert outcome.processes[0].ended == "crashed"


@pytest.mark.parametrize("code, exit_code, stderr", [(None, 0, ""), (2, 2, ""), ("bad input", 1, "bad input\n")])
def test_system_exit_becomes_the_exit_code_and_a_text_code_is_printed(code, exit_code, stderr):
    # given
    def main(host):
        raise SystemExit(code)

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(exit_code).assert_stderr(equals=stderr)
    assert not outcome.crashed


# --- ports seen by the kernel ----------------------------------------------------------------------


def test_an_unknown_command_stops_the_run_listing_the_command_and_every_known_tool():
    # given
    def main(host):
        try:
            host.proc.run(["/usr/bin/python3", "-m", "http.server", "8000"])
        except Exception:  # the kernel's catch-all must not swallow it
            raise SystemExit(70)

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        with pytest.raises(UnknownCommandError) as raised:
            session.run("./k.py")
    # then
    message = str(raised.value)
    assert "/usr/bin/python3 -m http.server 8000" in message
    assert "-c PYTHON_PROBE_CODE" in message
    assert "<broken python>" in message
    assert "-m venv" in message and "-m pip install" in message and "UV venv" in message


def test_call_main_runs_the_world_main_with_the_current_host_and_records_what_it_saw():
    # given
    def client_main(host):
        host.env.write_stdout("client sees %s\n" % host.env.get(STRIDE))
        return 0

    world = kernel_file_world().add_main("client.main:main", client_main)

    def main(host):
        raise SystemExit(host.proc.call_main("client.main", "main"))

    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py", env={STRIDE: "stride_src_updated"})
    # then
    outcome.assert_exit(0).assert_stdout(equals="client sees stride_src_updated\n")
    assert [(call.spec, call.env[STRIDE]) for call in outcome.main_calls] == [("client.main:main",
                                                                               "stride_src_updated")]


def test_call_main_of_an_undefined_main_stops_the_run_listing_the_known_mains():
    # given
    world = kernel_file_world().add_main("client.main:main", lambda host: 0)
    # when
    kernel = stub_kernel(main=lambda host: host.proc.call_main("client.app", "run"))
    with world.activate(kernel=kernel) as session:
        with pytest.raises(UnknownMainError) as raised:
            session.run("./k.py")
    # then
    assert "'client.app:run'" in str(raised.value)
    assert "client.main:main" in str(raised.value)


def test_a_replacement_keeps_the_pid_like_execve_and_the_fake_clock_moves_one_second_per_reading():
    # given
    readings = []

    def main(host):
        readings.append((host.env.pid, host.env.now(), host.env.now(), host.env.stderr_is_tty()))
        restart_once_into_python312(host)

    start = calendar.timegm((2026, 1, 2, 3, 4, 5))
    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        session.run("./k.py", tty=True)
    # then
    assert readings == [(1000, start, start + 1, True), (1000, start + 2, start + 3, True)]


def test_which_finds_executables_on_the_given_path_only():
    # given
    def main(host):
        host.env.write_stdout("%s %s\n" % (host.proc.which("python3.12", "/usr/bin:/opt/py312/bin"),
                                           host.proc.which("python3.12", "/usr/bin")))

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_stdout(equals="/opt/py312/bin/python3.12 None\n")


# --- what the outcome reports ----------------------------------------------------------------------


def test_files_created_modified_and_deleted_by_the_run_are_reported():
    # given
    world = (
        kernel_file_world().add_file("old.txt", "old\n").add_file("keep.txt", "v1\n").add_file("same.txt", "s\n")
    )

    def main(host):
        host.fs.write_text("/repo/new/deep/file.txt", "new\n")
        host.fs.write_text("/repo/keep.txt", "v2\n")
        host.fs.remove("/repo/old.txt")
        host.fs.make_symlink("keep.txt", "/repo/link")
        host.fs.make_dirs("/repo/empty/dir")

    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    assert outcome.created == ["empty/dir/", "link", "new/deep/file.txt"]
    assert outcome.modified == ["keep.txt"]
    assert outcome.deleted == ["old.txt"]
    outcome.assert_file("keep.txt", text="v2\n").assert_symlink("link", "keep.txt").assert_absent("old.txt")
    outcome.assert_file("link", contains="v2").assert_unchanged(["same.txt", "k.py"])


def test_a_second_run_in_the_same_session_sees_the_first_runs_files_and_reports_only_its_own():
    # given
    def main(host):
        path = "/repo/count.txt"
        count = int(host.fs.read_text(path)) + 1 if host.fs.exists(path) else 1
        host.fs.write_text(path, str(count))

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        first = session.run("./k.py")
        second = session.run("./k.py")
        count = session.read_text("count.txt")
    # then
    assert (first.created, first.modified) == (["count.txt"], [])
    assert (second.created, second.modified) == ([], ["count.txt"])
    assert count == "2"


def test_the_probe_command_is_recorded_with_an_abbreviated_line_that_asserts_either_way():
    # given
    def main(host):
        host.proc.run(["/opt/py312/bin/python3.12", "-I", "-c", primer_kernel.PYTHON_PROBE_CODE])

    # when
    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_commands(["/opt/py312/bin/python3.12 -I -c PYTHON_PROBE_CODE"])
    outcome.assert_commands([outcome.commands[0].full_line])
    assert outcome.commands[0].returncode == 0


# --- failing assertions read well ------------------------------------------------------------------


def failing_outcome():
    def main(host):
        host.env.write_stdout("line %d\n" % 1)
        for number in range(30):
            host.env.write_stderr("log %d\n" % number)
        host.fs.write_text("/repo/made.txt", "x")
        raise SystemExit(2)

    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        return session.run("./k.py")


def test_a_wrong_exit_code_says_expected_and_got_then_the_stderr_tail():
    # given
    outcome = failing_outcome()
    # when
    with pytest.raises(AssertionError) as raised:
        outcome.assert_exit(0)
    # then
    message = str(raised.value)
    assert message.startswith("expected exit 0, got 2\n")
    assert "--- stderr (last 20 of 30 lines) ---" in message
    assert "log 29" in message and "\nlog 9\n" not in message
    assert "--- stdout ---\nline 1" in message


def test_a_wrong_chain_shows_a_unified_diff():
    # given
    outcome = failing_outcome()
    # when
    with pytest.raises(AssertionError) as raised:
        outcome.assert_chain(["python3 (stride_py_unknown)", "venv/bin/python"])
    # then
    message = str(raised.value)
    assert "--- expected process chains" in message
    assert "-/repo/venv/bin/python" in message
    assert " /usr/bin/python3 (stride_py_unknown)" in message


def test_wrong_written_paths_and_commands_show_what_differs():
    # given
    outcome = failing_outcome()
    # when
    with pytest.raises(AssertionError) as written:
        outcome.assert_written(["other.txt"])
    with pytest.raises(AssertionError) as commands:
        outcome.assert_commands(["uv venv"])
    with pytest.raises(AssertionError) as unchanged:
        outcome.assert_unchanged()
    # then
    assert "-other.txt\n+made.txt" in str(written.value)
    assert "-uv venv" in str(commands.value)
    assert "expected no changes, got:\n  made.txt" in str(unchanged.value)


def test_wrong_stdout_json_shows_a_diff_of_the_pretty_printed_documents():
    # given
    def main(host):
        host.env.write_stdout(json.dumps({"a": 1, "b": [1, 2]}))

    with kernel_file_world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # when
    with pytest.raises(AssertionError) as raised:
        outcome.assert_stdout_json({"a": 1, "b": [1, 3]})
    # then
    assert "-    3\n+    2" in str(raised.value)


# --- with the real kernel --------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(primer_kernel, "main"), reason="the kernel has no main() yet")
def test_the_real_kernel_evaluates_its_config_in_the_instant_layout():
    # given
    world = World().apply_layout("instant").add_interpreter("python3", "3.11.7")
    # when
    with world.activate() as session:
        outcome = session.run("./proto_kernel.py eval --json")
    # then
    outcome.assert_exit(0).assert_chain(["python3 (stride_py_unknown)"])
    document = outcome.stdout_json()
    assert "/repo/proto_kernel.py" in json.dumps(document)
    assert not outcome.crashed
