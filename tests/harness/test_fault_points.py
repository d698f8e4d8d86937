"""Fault points (a command fails, or kills the process before / during / after its effects), the lock
contention model (live, finishing and dead holders), and the scenario keys that declare them."""

import os
import textwrap

import pytest

from protoprimer_harness import World
from protoprimer_harness.errors import LockWaitError
from protoprimer_harness.scenario import ScenarioError, check_expectations, parse_scenario
from protoprimer_harness._stub_kernel import stub_kernel
from protoprimer_harness._scenario_toml import toml_module

KERNEL_FILE = "#!/usr/bin/env python3\n# protoprimer-kernel-file\n"
VENV = "/repo/venv"
VPY = VENV + "/bin/python"
SITE = VENV + "/lib/python3.11/site-packages"
CREATE = ["/usr/bin/python3", "-I", "-m", "venv", VENV]
INSTALL = [VPY, "-I", "-m", "pip", "install", "-q", "a", "b", "c", "d"]
LOCK = "/repo/.cache/install.lock"


def world():
    return (
        World()
        .add_interpreter("python3", "3.11.7")
        .add_file("k.py", KERNEL_FILE, executable=True)
        .add_package("a", "1.0").add_package("b", "1.0").add_package("c", "1.0").add_package("d", "1.0")
    )


def kernel_running(*argvs, then_exit=0):
    """A stub kernel: run each argv, print "<code>" per command, exit `then_exit`."""

    def main(host):
        for argv in argvs:
            result = host.proc.run(argv)
            host.env.write_stdout("%d %s" % (result.returncode, result.stderr))
        raise SystemExit(then_exit)

    return stub_kernel(main=main)


def dists():
    return sorted(n for n in os.listdir(SITE) if n.endswith(".dist-info")) if os.path.isdir(SITE) else None


# --- exit faults ---------------------------------------------------------------------------------------


def test_an_exit_fault_makes_the_command_fail_with_its_output_and_without_its_effects():
    # given
    w = world().add_fault("-m venv", exit=1, stderr="Error: no ensurepip\n", stdout="half\n")
    # when
    with w.activate(kernel=kernel_running(CREATE)) as session:
        outcome = session.run("./k.py")
        created = os.path.exists(VENV)
    # then
    outcome.assert_exit(0).assert_stdout(equals="1 Error: no ensurepip\n")
    assert not created
    assert outcome.commands[0].fault == "exit 1 at '-m venv'"
    assert [hit.kind for hit in outcome.faults] == ["run"]


def test_times_limits_a_fault_so_the_next_run_of_the_session_succeeds():
    # given
    w = world().add_fault("/usr/bin/python3 -I -m venv *", exit=3, times=1)
    # when
    with w.activate(kernel=kernel_running(CREATE)) as session:
        first = session.run("./k.py")
        second = session.run("./k.py")
        created = os.path.isfile(VENV + "/pyvenv.cfg")
    # then
    first.assert_stdout(equals="3 ")
    second.assert_stdout(equals="0 ")
    assert created


def test_a_glob_must_match_the_whole_line_a_substring_anywhere():
    # given
    w = world().add_fault("-m venv", exit=5).add_fault("*pip install*", exit=6)
    with w.activate(kernel=kernel_running(["/usr/bin/python3", "-m", "pip", "install", "x"],
                                          ["/usr/bin/python3", "-m", "venv", "/v"])) as session:
        # when
        outcome = session.run("./k.py")
    # then
    outcome.assert_stdout(equals="6 5 ")


def test_faults_match_the_abbreviated_probe_line_too():
    # given
    probe = ["/usr/bin/python3", "-I", "-c", stub_kernel().PYTHON_PROBE_CODE]
    w = world().add_fault("python3 -I -c PYTHON_PROBE_CODE", exit=1)
    # when
    with w.activate(kernel=kernel_running(probe)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_stdout(equals="1 ")


def test_a_fault_needs_an_effect_and_a_valid_die_point():
    with pytest.raises(ValueError, match="give exit=N"):
        World().add_fault("pip")
    with pytest.raises(ValueError, match="die must be one of before, during, after"):
        World().add_fault("pip", die="later")
    with pytest.raises(ValueError, match="not both"):
        World().add_fault("pip", exit=1, die="after")


# --- die faults ----------------------------------------------------------------------------------------


def test_die_before_kills_the_run_with_137_and_leaves_no_effect_of_the_command():
    # given
    w = world().add_fault("-m venv", die="before")
    # when
    with w.activate(kernel=kernel_running(CREATE)) as session:
        outcome = session.run("./k.py")
        created = os.path.exists(VENV)
    # then
    outcome.assert_exit(137).assert_killed().assert_stdout(equals="")
    assert not created
    assert outcome.commands[0].killed == "before"
    assert outcome.processes[0].ended == "killed"


def test_die_after_leaves_the_effects_and_the_next_run_sees_them():
    # given
    w = world().add_fault("-m venv", die="after", times=1)
    with w.activate(kernel=kernel_running(CREATE)) as session:
        # when
        killed = session.run("./k.py")
        cfg_after_kill = os.path.isfile(VENV + "/pyvenv.cfg")
        again = session.run("./k.py")
    # then
    killed.assert_exit(137).assert_killed()
    assert cfg_after_kill
    again.assert_exit(0).assert_killed(False)
    assert "venv/pyvenv.cfg" in killed.created


def test_die_during_pip_install_leaves_half_of_the_distributions():
    # given
    w = world().add_fault("pip install", die="during")
    # when
    with w.activate(kernel=kernel_running(CREATE, INSTALL)) as session:
        outcome = session.run("./k.py")
        installed = dists()
    # then
    outcome.assert_exit(137).assert_killed()
    assert installed == ["a-1.0.dist-info", "b-1.0.dist-info", "pip-24.0.dist-info"]
    assert outcome.commands[-1].killed == "during"


def test_die_during_venv_creation_leaves_a_venv_without_pip():
    # given
    w = world().add_fault("-m venv", die="during")
    # when
    with w.activate(kernel=kernel_running(CREATE)) as session:
        session.run("./k.py")
        state = (os.path.isfile(VENV + "/pyvenv.cfg"), os.path.lexists(VPY), os.path.exists(VENV + "/bin/activate"),
                 dists())
    # then
    assert state == (True, True, False, [])


def test_a_killed_process_cannot_change_anything_while_unwinding():
    # given
    def main(host):
        try:
            host.proc.run(CREATE)
        finally:
            host.fs.write_text("/repo/cleanup.txt", "the finally ran\n")
            host.env.write_stderr("unreachable\n")

    w = world().add_fault("-m venv", die="before")
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
        cleaned = os.path.exists("/repo/cleanup.txt")
    # then
    outcome.assert_exit(137).assert_killed().assert_stderr(not_contains="unreachable")
    assert not cleaned


def test_a_stream_command_killed_after_shows_what_it_printed():
    # given
    def main(host):
        host.proc.run(CREATE)
        host.proc.run([VPY, "-m", "pip", "install", "a"], stream=True)

    w = world().add_fault("pip install", die="after")
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(137).assert_stdout(contains="Successfully installed a-1.0")


def test_faults_apply_to_process_replacements():
    # given
    def main(host):
        if host.env.get("NEXT"):
            raise SystemExit(0)
        host.proc.replace(["/usr/bin/python3", "-I", "./k.py"], dict(host.env.variables(), NEXT="1"))

    w = world().add_fault("/usr/bin/python3 -I ./k.py", exit=4, stderr="boom\n", times=1)
    w.add_fault("/usr/bin/python3 -I ./k.py", die="before", times=1)
    w.add_fault("/usr/bin/python3 -I ./k.py", die="after", times=1)
    with w.activate(kernel=stub_kernel(main=main)) as session:
        # when
        exit_fault = session.run("./k.py")
        die_before = session.run("./k.py")
        die_after = session.run("./k.py")
        clean = session.run("./k.py")
    # then
    exit_fault.assert_exit(4).assert_stderr(equals="boom\n")
    assert [p.ended for p in exit_fault.processes] == ["replaced", "exit 4"]
    die_before.assert_exit(137).assert_killed()
    assert [p.ended for p in die_before.processes] == ["killed"]
    die_after.assert_exit(137).assert_killed()
    assert [p.ended for p in die_after.processes] == ["replaced", "killed"]
    clean.assert_exit(0)
    assert [p.ended for p in clean.processes] == ["replaced", "exit 0"]


def test_a_fault_on_a_shell_replacement_gives_the_shells_exit_code():
    # given
    def main(host):
        host.proc.replace(["/bin/bash", "-c", "pytest"], host.env.variables())

    w = world().add_fault("/bin/bash -c pytest", exit=3)
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(3)
    assert outcome.shell.command == "pytest" and outcome.shell.exit_code == 3


# --- locks ---------------------------------------------------------------------------------------------


def test_try_lock_writes_the_pid_unlock_empties_the_file_and_a_second_taker_is_refused():
    # given
    with world().activate() as session:
        with session.open_process() as first, session.open_process() as second:
            # when
            handle = first.proc.try_lock(LOCK)
            refused = second.proc.try_lock(LOCK)
            holder = second.proc.lock_holder(LOCK)
            alive = second.proc.is_alive(holder)
            first.proc.unlock(handle)
            after = (second.proc.lock_holder(LOCK), second.proc.try_lock(LOCK) is not None)
            # then
            assert refused is None
            assert holder == first.pid and alive
            assert after == (None, True)
            with pytest.raises(OSError):
                first.proc.unlock(handle)


def test_a_dead_holder_left_its_pid_but_the_lock_is_free():
    # given
    w = world().hold_lock(LOCK, pid=777, alive=False)
    with w.activate() as session, session.open_process() as process:
        # when
        holder = process.proc.lock_holder(LOCK)
        alive = process.proc.is_alive(holder)
        handle = process.proc.try_lock(LOCK)
        # then
        assert (holder, alive) == (777, False)
        assert handle is not None and process.proc.lock_holder(LOCK) == process.pid


def waiting_kernel(log):
    """Take the lock, waiting with env.sleep while a live holder has it; then write a marker file."""

    def main(host):
        while True:
            handle = host.proc.try_lock(LOCK)
            if handle is not None:
                break
            holder = host.proc.lock_holder(LOCK)
            log.append(("waiting for", holder, host.proc.is_alive(holder)))
            host.env.sleep(0.5)
        host.fs.write_text("/repo/done-%d" % host.env.pid, "x\n")
        host.proc.unlock(handle)
        raise SystemExit(0)

    return stub_kernel(main=main)


def test_a_live_holder_finishes_its_command_at_the_first_sleep_then_the_lock_is_free():
    # given
    log = []
    w = world().hold_lock(LOCK, pid=4242, finish="./k.py")
    # when
    with w.activate(kernel=waiting_kernel(log)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(0)
    assert log == [("waiting for", 4242, True)]
    assert len(outcome.concurrent_runs) == 1
    concurrent = outcome.concurrent_runs[0]
    concurrent.assert_exit(0)
    assert concurrent.processes[0].pid == 4242
    assert "done-4242" in concurrent.created
    assert sorted(p for p in outcome.created if p.startswith("done-")) == ["done-1000", "done-4242"]


def test_a_live_holder_without_finish_never_releases_and_a_waiting_kernel_stops_the_run():
    # given
    w = world().hold_lock(LOCK, pid=4242)
    w.lock_wait_limit = 60.0  # simulated seconds (default 1800): keeps the test fast
    with w.activate(kernel=waiting_kernel([])) as session:
        # when
        with pytest.raises(LockWaitError) as raised:
            session.run("./k.py")
    # then
    assert LOCK in str(raised.value) and "4242" in str(raised.value)
    assert "slept 121 times (60.5 simulated seconds)" in str(raised.value)


def test_a_kernel_that_gives_up_after_a_while_is_fine():
    # given
    def main(host):
        for _ in range(10):
            if host.proc.try_lock(LOCK) is not None:
                raise SystemExit(0)
            host.env.sleep(1)
        host.env.write_stderr("ERROR the install lock is held by %d\n" % host.proc.lock_holder(LOCK))
        raise SystemExit(8)

    # when
    with world().hold_lock(LOCK).activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(8).assert_stderr(equals="ERROR the install lock is held by 4242\n")


def test_a_killed_process_drops_its_lock_and_its_pid_is_dead_for_the_next_run():
    # given
    def main(host):
        if host.proc.try_lock(LOCK) is None:
            holder = host.proc.lock_holder(LOCK)
            host.env.write_stdout("held by %s alive=%s\n" % (holder, host.proc.is_alive(holder)))
            raise SystemExit(1)
        host.env.write_stdout("locked by %d\n" % host.env.pid)
        host.proc.run(CREATE)
        raise SystemExit(0)

    w = world().add_fault("-m venv", die="after", times=1)
    with w.activate(kernel=stub_kernel(main=main)) as session:
        # when
        killed = session.run("./k.py")
        with session.open_process() as observer:
            stale = (observer.proc.lock_holder(LOCK), observer.proc.is_alive(observer.proc.lock_holder(LOCK)))
        again = session.run("./k.py")
    # then
    killed.assert_exit(137).assert_stdout(equals="locked by 1000\n")
    assert stale == (1000, False)
    again.assert_exit(0).assert_stdout(equals="locked by 1002\n")


def test_locks_are_dropped_when_a_process_replaces_itself():
    # given
    def main(host):
        handle = host.proc.try_lock(LOCK)
        if host.env.get("NEXT"):
            host.env.write_stdout("second process: %s, holder %s\n" % (
                "locked" if handle else "refused", host.proc.lock_holder(LOCK)))
            raise SystemExit(0)
        host.proc.replace(["/usr/bin/python3", "./k.py"], dict(host.env.variables(), NEXT="1"))

    # when
    with world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_stdout(equals="second process: locked, holder 1000\n")


# --- scenario keys -------------------------------------------------------------------------------------


def scenario(text, file_name="s.toml"):
    return parse_scenario(toml_module().loads(textwrap.dedent(text)), path=file_name, file_name=file_name)


FULL = """
format = 1
title = "every new key"

[given]
interpreters = ["python3 = 3.11.7"]

[[given.faults]]
command = "pip install"
die = "after"
times = 1

[[given.faults]]
command = "-m venv"
exit = 1
stderr = "no ensurepip"

[[given.packages]]
name = "requests"
version = "2.31.0"
dependencies = ["idna>=3"]
extras = { socks = ["pysocks"] }

[[given.locks]]
path = ".cache/lock"
pid = 99
finish = "./prime"

[given.shell]
path = "/bin/zsh"
defaults = false
extra = ["/usr/bin/fish"]

[given.mains]
"client.main:main" = "report"
"client.cli:run" = "exit 3"

[when]
run = "./k.py"

[then]
killed = false
main = { called = true, env_lacks = ["PROTOPRIMER_*"], kernel_path = "{root}/proto_kernel.py", config_subset = { a = 1 } }
shell = { argv = ["/bin/zsh", "-i"], env_lacks = "VIRTUAL_ENV" }
"""


def test_the_new_given_keys_build_the_world():
    # given
    loaded = scenario(FULL)
    # when
    built = loaded.build_world()
    # then
    assert [(f.command, f.exit, f.die, f.times) for f in built.faults] == [
        ("pip install", None, "after", 1), ("-m venv", 1, None, None)]
    assert [(p.name, p.version, p.dependencies, p.extras) for p in built.packages] == [
        ("requests", "2.31.0", ("idna>=3",), (("socks", ("pysocks",)),))]
    lock = built.locks["/repo/.cache/lock"]
    assert (lock.pid, lock.alive, lock.finish) == (99, True, "./prime")
    assert built.shells == {"/bin/zsh": "zsh", "/usr/bin/fish": "fish"}
    assert built.env["SHELL"] == "/bin/zsh"
    assert sorted(built.mains) == ["client.cli:run", "client.main:main"]
    assert loaded.then.main.kernel_path == "/repo/proto_kernel.py"
    assert loaded.then.shell.env_lacks == ("VIRTUAL_ENV",)


@pytest.mark.parametrize("snippet, message", [
    ('[[given.faults]]\nexit = 1\n', "s.toml: missing key 'given.faults[0].command'"),
    ('[[given.faults]]\ncommand = "pip"\ndie = "soon"\n',
     's.toml: given.faults[0].die must be one of "before", "during", "after", got \'soon\''),
    ('[[given.faults]]\ncommand = "pip"\n', "s.toml: given.faults[0]: fault 'pip': give exit=N"),
    ('[[given.faults]]\ncommand = "pip"\nexit = 1\nexitt = 2\n',
     "s.toml: unknown key 'given.faults[0].exitt' (did you mean 'exit'?"),
    ('[given]\nfaults = { command = "pip" }\n', "s.toml: given.faults must be an array of tables"),
    ('[[given.packages]]\nname = "x"\nversion = "one"\n', "s.toml: given.packages[0]: package x: invalid version"),
    ('[[given.locks]]\npath = "l"\nalive = false\nfinish = "./prime"\n',
     "s.toml: given.locks[0].finish needs a live holder"),
    ('[given.shell]\npath = "zsh"\n', 's.toml: given.shell.path must be an absolute path'),
    ('[given.mains]\n"client.main:main" = "explode"\n',
     "s.toml: given.mains.\"client.main:main\": unknown built-in main 'explode' (one of: report, extend"),
    ('[given.mains]\n"nocolon" = "report"\n', 's.toml: given.mains.nocolon: \'nocolon\' is not of the form'),
    ('[then.main]\ncalled = "yes"\n', "s.toml: then.main.called must be a boolean"),
    ('[then.main]\n', "s.toml: [then.main] has no expectations"),
    ('[then.shell]\nargv = "bash"\n', "s.toml: then.shell.argv must be an array of strings"),
    ('[then]\nkilled = 1\n', "s.toml: then.killed must be a boolean"),    # the keys the compatibility scenarios brought
    ('[then.command_env]\n', "s.toml: [then.command_env] is empty"),
    ('[then.command_env."pip"]\n', 's.toml: [then.command_env.pip] has no expectations'),
    ('[then.command_env."pip"]\nenv_lack = ["X"]\n',
     "s.toml: unknown key 'then.command_env.pip.env_lack' (did you mean 'env_lacks'?"),
    ('[then.command_env]\npip = "X"\n', "s.toml: then.command_env.pip must be a table"),
    ('[then]\nstderr_max_counts = { "x" = -1 }\n', 's.toml: then.stderr_max_counts.x must be 0 or more, got -1'),
    ('[then]\nstderr_max_counts = { "x" = "1" }\n', "s.toml: then.stderr_max_counts.x must be an integer"),
    ('[then.main]\nproto_kernel_file = 1\n', "s.toml: then.main.proto_kernel_file must be a string"),
])
def test_the_loader_names_the_file_and_key_of_a_bad_new_key(snippet, message):
    # given
    text = 'format = 1\ntitle = "t"\n[when]\nrun = "./k.py"\n[then]\nexit = 0\n' + snippet
    if snippet.startswith("[then]"):
        text = 'format = 1\ntitle = "t"\n[when]\nrun = "./k.py"\n' + snippet
    # when
    with pytest.raises(ScenarioError) as raised:
        scenario(text)
    # then
    assert str(raised.value).startswith(message), str(raised.value)


def booting_kernel(main_spec="client.main:main"):
    """A stub kernel: restart once into the venv python with -I, drop PROTOPRIMER_*, call the client main."""

    def main(host):
        if host.env.get("PROTOPRIMER_PY_EXEC") is None:
            host.proc.run(["/usr/bin/python3", "-I", "-m", "venv", VENV])
            env = dict(host.env.variables(), PROTOPRIMER_PY_EXEC="stride_py_venv")
            host.proc.replace([VPY, "-I"] + host.env.argv, env)
        host.env.unset("PROTOPRIMER_PY_EXEC")
        module, _, func = main_spec.partition(":")
        raise SystemExit(host.proc.call_main(module, func))

    return stub_kernel(main=main)


def run_with(loaded, kernel):
    with loaded.build_world().add_file("k.py", KERNEL_FILE, executable=True).activate(kernel=kernel) as session:
        return session.run(list(loaded.when.command) if isinstance(loaded.when.command, tuple)
                           else loaded.when.command)


def test_a_scenario_with_a_builtin_main_checks_what_the_client_saw():
    # given
    loaded = scenario("""
        format = 1
        title = "the client main runs in the venv without chain variables"
        [given]
        interpreters = ["python3 = 3.11.7"]
        [given.mains]
        "client.main:main" = "exit 3"
        [when]
        run = "./k.py go"
        [then]
        exit = 3
        killed = false
        chain = ["python3 (stride_py_unknown)", "venv/bin/python (stride_py_venv)"]
        [then.main]
        called = true
        argv = ["./k.py", "go"]
        interpreter = "{root}/venv/bin/python"
        env_lacks = ["PROTOPRIMER_*"]
        ended = "exit 3"
    """)
    # when
    outcome = run_with(loaded, booting_kernel())
    # then
    check_expectations(loaded, outcome)


def test_then_main_failures_are_reported_under_their_key():
    # given
    loaded = scenario("""
        format = 1
        title = "t"
        [given]
        interpreters = ["python3 = 3.11.7"]
        [given.mains]
        "client.main:main" = "return 0"
        [when]
        run = "./k.py"
        [then]
        killed = true
        main = { argv = ["./k.py", "other"], env_has = ["VIRTUAL_ENV"] }
        shell = { ran = true }
    """)
    # when
    outcome = run_with(loaded, booting_kernel())
    with pytest.raises(AssertionError) as raised:
        check_expectations(loaded, outcome)
    # then
    message = str(raised.value)
    assert "3 of 3 expectations failed" in message
    assert "[then.killed]" in message and "[then.main]" in message and "[then.shell]" in message
    assert "argv: expected ['./k.py', 'other'], got ['./k.py']" in message
    assert "env: expected VIRTUAL_ENV, it is not there" in message


def test_the_report_main_records_kernel_path_and_config_of_the_real_kernel():
    # given
    w = (World().apply_layout("min").add_interpreter("python3", "3.11.7")
         .add_main("client.main:main", "report"))

    def main(host):
        raise SystemExit(host.proc.call_main("client.main", "main"))

    with w.activate() as session:
        # when
        outcome = session.run("./proto_kernel.py", kernel=_kernel_with_main(main))
    # then
    outcome.assert_exit(0).assert_main(called=True, kernel_path="proto_kernel.py",
                                       config_subset={"state_ref_root_dir_abs_path_inited": "/repo"})
    assert outcome.main_call.installed_kernel is None


def test_the_extend_main_records_the_parsed_arguments():
    # given
    w = World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main("client.main:main", "extend")

    def main(host):
        raise SystemExit(host.proc.call_main("client.main", "main"))

    with w.activate() as session:
        # when
        outcome = session.run("./proto_kernel.py -v eval", kernel=_kernel_with_main(main))
    # then
    outcome.assert_exit(0)
    assert outcome.main_call.args is not None and outcome.main_call.args_error is None
    outcome.assert_main(ended="returned 0")


def _kernel_with_main(main):
    """The real kernel module's API with `main` replaced (so get_config / parse_args are the real ones)."""
    from types import SimpleNamespace

    from protoprimer import primer_kernel

    names = {name: getattr(primer_kernel, name) for name in dir(primer_kernel) if not name.startswith("__")}
    names["main"] = lambda host=None: main(host)
    return SimpleNamespace(**names)


def test_a_scenario_with_faults_and_locks_runs():
    # given
    loaded = scenario("""
        format = 1
        title = "a killed venv creation, then a concurrent holder"
        [given]
        interpreters = ["python3 = 3.11.7"]
        [[given.faults]]
        command = "-m venv"
        die = "after"
        [given.mains]
        "client.main:main" = "report"
        [when]
        run = "./k.py"
        [then]
        exit = 137
        killed = true
        main = { called = false }
        [then.files]
        "venv/pyvenv.cfg" = { exists = true }
    """)
    # when
    outcome = run_with(loaded, booting_kernel())
    # then
    check_expectations(loaded, outcome)


def test_a_scenario_checks_the_shell_the_chain_ended_in():
    # given
    loaded = scenario("""
        format = 1
        title = "the chain ends in the user's zsh with the venv activated"
        [given]
        interpreters = ["python3 = 3.11.7"]
        [given.shell]
        path = "/bin/zsh"
        [given.files]
        "/rc/.zshrc" = ". {root}/venv/bin/activate\\n"
        [when]
        run = "./k.py"
        [then]
        exit = 0
        chain = ["python3", "/bin/zsh"]
        [then.shell]
        ran = true
        argv = ["/bin/zsh", "-i"]
        env = { VIRTUAL_ENV = "{root}/venv", ZDOTDIR = "/rc" }
        env_lacks = ["PROTOPRIMER_*"]
        rc_contains = ["venv/bin/activate"]
    """)

    def main(host):
        env = dict(host.env.variables(), VIRTUAL_ENV=VENV, ZDOTDIR="/rc")
        host.proc.replace([host.env.get("SHELL"), "-i"], env)

    # when
    outcome = run_with(loaded, stub_kernel(main=main))
    # then
    check_expectations(loaded, outcome)
