"""What the harness models of client repos written for protoprimer 0.13 (the reference): the entry scripts
its `wrap` writes, `import proto_kernel` in client code, the 0.13-style built-in mains, and the scenario
keys the compat scenarios use (`then.command_env`, `then.stderr_max_counts`, `then.main.proto_kernel_file`)."""

import textwrap
from types import SimpleNamespace

import pytest

from protoprimer_harness import World
from protoprimer_harness._programs import entry_call_of
from protoprimer_harness.scenario import check_expectations, parse_scenario
from protoprimer_harness._scenario_toml import toml_module
from protoprimer_harness._stub_kernel import stub_kernel


def reference_entry_script(kernel_rel_path, entry_func, main_func):
    """The text of an entry script as `wrap` of protoprimer 0.13.0 writes it (main_func "" = no main)."""
    return textwrap.dedent('''\
        #!/usr/bin/env python3
        # <<< BEGIN: FT_56_85_65_41.generated_boilerplate


        def import_proto_kernel(proto_kernel_rel_path: str):
            """
            `protoprimer` entry script boilerplate function to import `proto_kernel`.
            """

            import os
            import importlib.util

            module_spec = importlib.util.spec_from_file_location(
                "proto_kernel",
                # FT_18_38_32_22.script_dir.md
                os.path.join(
                    os.path.dirname(str(__file__)),
                    proto_kernel_rel_path,
                ),
            )
            assert module_spec is not None
            loaded_proto_module = importlib.util.module_from_spec(module_spec)
            assert module_spec.loader is not None
            module_spec.loader.exec_module(loaded_proto_module)
            return loaded_proto_module


        if __name__ == "__main__":
            import os

            proto_kernel = import_proto_kernel("%s")
            proto_kernel.%s("%s")
        # >>> END: FT_56_85_65_41.generated_boilerplate
        ''') % (kernel_rel_path, entry_func, main_func)


def scenario(text):
    return parse_scenario(toml_module().loads(textwrap.dedent(text)), path="s.toml")


# --- entry scripts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("script, kernel_rel_path, entry_func, main_func, expected_kernel, expected_main", [
    ("/repo/prime", "proto_kernel.py", "boot_env", "", "/repo/proto_kernel.py", ""),
    ("/repo/prime", "cmd/proto_code/proto_kernel.py", "boot_env", "pkg.mod:main",
     "/repo/cmd/proto_code/proto_kernel.py", "pkg.mod:main"),
    ("/repo/cmd/app", "../proto_kernel.py", "start_app", "pkg.mod:app", "/repo/proto_kernel.py", "pkg.mod:app"),
])
def test_a_reference_entry_script_gives_its_call_as_written_and_the_path_it_passes_to_import_proto_kernel(
        script, kernel_rel_path, entry_func, main_func, expected_kernel, expected_main):
    # when
    entry = entry_call_of(script, reference_entry_script(kernel_rel_path, entry_func, main_func))
    # then
    assert (entry.entry_func, entry.main_func, entry.kernel_path) == (entry_func, expected_main, expected_kernel)
    assert entry.registers_module is False


def test_an_entry_script_of_this_kernels_wrap_registers_the_module_and_may_have_no_main():
    # given
    from protoprimer import primer_kernel

    text = primer_kernel.render_entry_script("boot_env", "proto_kernel.py")
    # when
    entry = entry_call_of("/repo/prime", text)
    # then
    assert (entry.main_func, entry.kernel_path, entry.registers_module) == (None, "/repo/proto_kernel.py", True)


def test_the_reference_scripts_no_main_reaches_the_kernel_as_the_empty_string():
    # given
    world = (World().add_interpreter("python3", "3.11.7").add_kernel_copy("proto_kernel.py")
             .add_file("prime", reference_entry_script("proto_kernel.py", "boot_env", ""), executable=True))
    seen = {}

    def boot_env(main_func, host):
        seen.update(main_func=main_func, kernel_path=host.env.kernel_path)

    # when
    with world.activate(kernel=stub_kernel(boot_env=boot_env)) as session:
        outcome = session.run("./prime")
    # then
    outcome.assert_exit(0)
    assert seen == {"main_func": "", "kernel_path": "/repo/proto_kernel.py"}


# --- import proto_kernel ---------------------------------------------------------------------------


def _importing_kernel(entry_func_seen):
    """A stub kernel whose boot_env tries `import proto_kernel` itself, then calls the client main."""

    def boot_env(main_func, host):
        try:
            entry_func_seen["before_call_main"] = host.proc.import_module("proto_kernel").__file__
        except ImportError as error:
            entry_func_seen["before_call_main"] = "ImportError: %s" % error
        module, _, func = main_func.partition(":")
        raise SystemExit(host.proc.call_main(module, func))

    return stub_kernel(boot_env=boot_env)


def test_import_proto_kernel_works_once_call_main_registered_it_under_a_reference_script():
    # given
    world = (World().add_interpreter("python3", "3.11.7").add_kernel_copy("cmd/proto_code/proto_kernel.py")
             .add_file("prime", reference_entry_script("cmd/proto_code/proto_kernel.py", "boot_env", "client.main:main"),
                       executable=True)
             .add_main("client.main:main", "import_proto_kernel"))
    seen = {}
    # when
    with world.activate(kernel=_importing_kernel(seen)) as session:
        outcome = session.run("./prime")
    # then
    outcome.assert_exit(0).assert_main(proto_kernel_file="cmd/proto_code/proto_kernel.py", ended="returned 0")
    assert seen["before_call_main"].startswith("ImportError: No module named 'proto_kernel'")
    assert outcome.main_call.proto_kernel_file == "/repo/cmd/proto_code/proto_kernel.py"


def test_import_proto_kernel_works_from_the_start_under_a_script_that_registers_it():
    # given
    world = (World().apply_layout("min").add_interpreter("python3", "3.11.7")
             .add_main("client.main:main", "import_proto_kernel"))
    seen = {}
    # when
    with world.activate(kernel=_importing_kernel(seen)) as session:
        outcome = session.run("./prime")
    # then
    outcome.assert_exit(0).assert_main(proto_kernel_file="{}/proto_kernel.py".format(world.root))
    assert seen["before_call_main"] == "/repo/proto_kernel.py"


def test_a_proto_kernel_file_expectation_on_another_main_says_nothing_was_recorded():
    # given
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main("client.main:main", "return 0")
    with world.activate(kernel=_importing_kernel({})) as session:
        outcome = session.run("./prime")
    # when
    with pytest.raises(AssertionError) as raised:
        outcome.assert_main(proto_kernel_file="proto_kernel.py")
    # then
    assert "proto_kernel_file: expected /repo/proto_kernel.py, got nothing recorded" in str(raised.value)


# --- 0.13-style built-in mains ---------------------------------------------------------------------


class _Leaps:
    def __getitem__(self, name):
        return "leap:" + name


def _reference_kernel(calls, with_host=True):
    """A stub kernel whose boot_env calls the client main, with the 0.13 names the built-in mains use."""

    def boot_env(main_func, host):
        module, _, func = main_func.partition(":")
        raise SystemExit(host.proc.call_main(module, func))

    kernel = stub_kernel(boot_env=boot_env)

    if with_host:
        def proto_main(host=None):
            calls.append(("proto_main", host is not None))

        def get_config(conf_leap, host=None):
            calls.append(("get_config", conf_leap, host is not None))
            return {"state_local_venv_dir_abs_path_inited": "/repo/venv", "other": 1}
    else:
        def proto_main():
            calls.append(("proto_main", False))

        def get_config(conf_leap):
            raise AssertionError("never called")

    kernel.proto_main = proto_main
    kernel.get_config = get_config
    kernel.ConfLeap = _Leaps()
    kernel.EnvState = SimpleNamespace(
        state_local_venv_dir_abs_path_inited=SimpleNamespace(name="state_local_venv_dir_abs_path_inited"))
    return kernel


def _run_main(behaviour, kernel):
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main("client.main:main", behaviour)
    with world.activate(kernel=kernel) as session:
        return session.run("./prime")


def test_the_proto_main_main_calls_the_kernels_proto_main_with_the_processs_host():
    # given
    calls = []
    # when
    outcome = _run_main("proto_main", _reference_kernel(calls))
    # then
    outcome.assert_exit(0).assert_main(ended="returned None")
    assert calls == [("proto_main", True)]


def test_the_reference_config_main_looks_the_derived_value_up_by_the_reference_names():
    # given
    calls = []
    # when
    outcome = _run_main("reference_config", _reference_kernel(calls))
    # then
    outcome.assert_exit(0).assert_main(config_subset={"state_local_venv_dir_abs_path_inited": "/repo/venv"},
                                       ended="returned 0")
    assert calls == [("get_config", "leap:leap_derived", True)]
    assert outcome.main_call.config == {"state_local_venv_dir_abs_path_inited": "/repo/venv"}


def test_a_kernel_function_without_host_is_not_called_but_named():
    # given
    calls = []
    # when
    outcome = _run_main("proto_main", _reference_kernel(calls, with_host=False))
    # then
    outcome.assert_exit(1)
    assert calls == []
    assert "TypeError: kernel.proto_main takes no host=" in outcome.main_call.ended


# --- then.command_env, then.stderr_max_counts, then.main.proto_kernel_file -------------------------


def _probing_kernel(env):
    """A stub kernel that probes /usr/bin/python3 (with `env`), runs a shell command (with its own env) and
    warns twice."""

    def main(host):
        from protoprimer import primer_kernel

        host.proc.run(["/usr/bin/python3", "-E", "-s", "-c", primer_kernel.PYTHON_PROBE_CODE], env=env)
        host.proc.run(["/bin/sh", "-c", "true"])
        host.env.write_stderr("WARNING once\nWARNING twice\n")
        raise SystemExit(0)

    return stub_kernel(main=main)


def _run_probing(text, env):
    loaded = scenario(text)
    world = loaded.build_world().add_file("k.py", "#!/usr/bin/env python3\n# protoprimer-kernel-file\n",
                                          executable=True)
    with world.activate(kernel=_probing_kernel(env)) as session:
        return loaded, session.run("./k.py")


COMMAND_ENV = """
    format = 1
    title = "t"
    [given]
    interpreters = ["python3 = 3.11.7"]
    env = { VIRTUAL_ENV = "/other/venv" }
    [when]
    run = "./k.py"
    [then]
    exit = 0
    stderr_max_counts = { "WARNING" = 2, "ERROR" = 0 }
    [then.command_env."* -c PYTHON_PROBE_CODE"]
    env_lacks = ["VIRTUAL_ENV", "PROTOPRIMER_*"]
    env = { PATH = "/usr/bin" }
"""


def test_command_env_checks_the_environment_of_every_matching_command_only():
    # when
    loaded, outcome = _run_probing(COMMAND_ENV, env={"PATH": "/usr/bin"})
    # then
    check_expectations(loaded, outcome)  # the second command (with VIRTUAL_ENV) does not match
    assert loaded.then.command_env[0].pattern == "* -c PYTHON_PROBE_CODE"
    assert loaded.then.stderr_max_counts == {"WARNING": 2, "ERROR": 0}


def test_command_env_and_stderr_max_counts_failures_are_reported_under_their_keys():
    # given
    text = COMMAND_ENV.replace('"WARNING" = 2', '"WARNING" = 1')
    # when
    loaded, outcome = _run_probing(text, env={"PATH": "/bin", "VIRTUAL_ENV": "/other/venv"})
    with pytest.raises(AssertionError) as raised:
        check_expectations(loaded, outcome)
    # then
    message = str(raised.value)
    assert "2 of 3 expectations failed" in message
    assert "[then.stderr_max_counts]\n  stderr has too many: 'WARNING': expected at most 1, got 2" in message
    assert '[then.command_env."* -c PYTHON_PROBE_CODE"]' in message
    assert "env: expected no VIRTUAL_ENV, found VIRTUAL_ENV='/other/venv'" in message
    assert "env: expected PATH='/usr/bin', got '/bin'" in message


def test_a_command_env_pattern_that_matches_no_command_fails_listing_the_commands():
    # given
    text = COMMAND_ENV.replace("* -c PYTHON_PROBE_CODE", "-m pip")
    # when
    loaded, outcome = _run_probing(text, env={"PATH": "/usr/bin"})
    with pytest.raises(AssertionError) as raised:
        check_expectations(loaded, outcome)
    # then
    assert "no command matches '-m pip'; the commands:\n    /usr/bin/python3 -E -s -c PYTHON_PROBE_CODE" in str(
        raised.value)
