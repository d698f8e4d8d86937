"""The world: what a `World` materialises on the fake filesystem, and how its interpreters answer."""

import json
import os
import subprocess
import sys

import pytest

from protoprimer_harness import HarnessError, World
from protoprimer_harness._stub_kernel import stub_kernel
from protoprimer import primer_kernel

PROBE = primer_kernel.PYTHON_PROBE_CODE


def kernel_printing(command_argv):
    """A stub kernel whose main runs `command_argv` and reports its result on stdout."""

    def main(host):
        result = host.proc.run(command_argv)
        host.env.write_stdout(result.stdout)
        host.env.write_stderr(result.stderr)
        raise SystemExit(result.returncode)

    return stub_kernel(main=main)


def kernel_script_world():
    """A world where `./k.py` is a kernel file run by /usr/bin/python3."""
    return (
        World()
        .add_interpreter("python3", "3.11.7")
        .add_file("k.py", "#!/usr/bin/env python3\n# protoprimer-kernel-file\n", executable=True)
    )


def test_instant_layout_has_the_kernel_copy_python_version_and_pyproject_but_no_json():
    # given
    world = World().apply_layout("instant")
    # when
    with world.activate() as session:
        kernel_text = session.read_text("proto_kernel.py")
        python_version = session.read_text(".python-version")
        pyproject = session.read_text("pyproject.toml")
        kernel_is_executable = os.access("/repo/proto_kernel.py", os.X_OK)
        json_files = [name for name in os.listdir("/repo") if name.endswith(".json")]
    # then
    assert "protoprimer-kernel-file" in kernel_text
    assert kernel_is_executable
    assert python_version == "3.11\n"
    assert 'name = "client"' in pyproject
    assert json_files == []


def test_min_layout_adds_an_empty_primer_config_and_a_prime_script_loading_the_root_copy():
    # given
    world = World().apply_layout("min")
    # when
    with world.activate() as session:
        primer_conf = session.read_text("proto_kernel.json")
        prime = session.read_text("prime")
        prime_is_executable = os.access("/repo/prime", os.X_OK)
    # then
    assert primer_conf == "{}\n"
    assert prime_is_executable
    assert 'PROTO_KERNEL_REL_PATH = "proto_kernel.py"' in prime
    assert '.boot_env("client.main:main")' in prime


def test_max_layout_keeps_the_kernel_in_cmd_proto_code_with_primer_global_and_env_configs():
    # given
    world = World().apply_layout("max")
    # when
    with world.activate() as session:
        primer = json.loads(session.read_text("cmd/proto_code/proto_kernel.json"))
        global_conf = json.loads(session.read_text("gconf/proto_kernel.json"))
        special = json.loads(session.read_text("dst/special_env/proto_kernel.json"))
        default_env = session.read_text("dst/default_env/proto_kernel.json")
        prime = session.read_text("prime")
        kernel_exists = session.exists("cmd/proto_code/proto_kernel.py")
    # then
    assert kernel_exists
    assert primer == {"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"}
    assert global_conf["venv_driver"] == "venv_pip"
    assert global_conf["project_descriptors"] == [{"build_root_dir_rel_path": ".", "install_extras": []}]
    assert special == {"required_python_version": "3.12", "local_venv_dir_rel_path": "venv.special"}
    assert default_env == "{}\n"
    assert 'PROTO_KERNEL_REL_PATH = "cmd/proto_code/proto_kernel.py"' in prime


def test_an_unknown_layout_is_refused_with_the_known_layout_names():
    # given
    world = World()
    # when
    with pytest.raises(ValueError) as raised:
        world.apply_layout("maximal")
    # then
    assert "'maximal'" in str(raised.value)
    assert "instant, max, min" in str(raised.value)


def test_the_default_world_has_its_root_the_path_dirs_and_a_small_env():
    # given
    world = World()
    # when
    with world.activate() as session:
        dirs_exist = [os.path.isdir(d) for d in ["/repo", "/usr/local/bin", "/usr/bin", "/bin", "/root"]]
        env = world.effective_env()
    # then
    assert all(dirs_exist)
    assert env == {"HOME": "/root", "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    assert world.cwd == "/repo"


def test_path_dirs_set_as_a_list_reach_the_env_unless_path_was_set_explicitly():
    # given
    world = World()
    world.path = ["/opt/py/bin", "/usr/bin"]
    explicit = World().set_env(PATH="/only/here")
    explicit.path = ["/ignored"]
    # when
    path_from_list = world.effective_env()["PATH"]
    path_from_env = explicit.effective_env()["PATH"]
    # then
    assert path_from_list == "/opt/py/bin:/usr/bin"
    assert path_from_env == "/only/here"


def test_symlinks_keep_their_relative_targets_and_resolve_inside_the_world():
    # given
    world = (
        World()
        .add_file("dst/default_env/proto_kernel.json", "{}\n")
        .add_symlink("lconf", "dst/default_env")
        .add_symlink("/usr/bin/python", "python3")
    )
    # when
    with world.activate() as session:
        target = session.read_link("lconf")
        through_link = session.read_text("lconf/proto_kernel.json")
        is_link = session.is_symlink("lconf")
        dangling = session.exists("/usr/bin/python")
    # then
    assert target == "dst/default_env"
    assert through_link == "{}\n"
    assert is_link
    assert dangling is False


def test_remove_drops_a_file_that_a_layout_added():
    # given
    world = World().apply_layout("min").remove("proto_kernel.json")
    # when
    with world.activate() as session:
        primer_conf_exists = session.exists("proto_kernel.json")
        copy_exists = session.exists("proto_kernel.py")
    # then
    assert primer_conf_exists is False
    assert copy_exists


def test_removing_a_path_that_nothing_creates_fails_at_activation():
    # given
    world = World().remove("no/such/file")
    # when
    with pytest.raises(HarnessError) as raised:
        world.activate()
    # then
    assert "no/such/file" in str(raised.value)


def test_a_real_directory_is_copied_in_with_its_symlinks_and_modes(tmp_path):
    # given
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / "link").symlink_to("pkg/mod.py")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref\n")
    world = World().copy_real_dir(str(tmp_path), "client")
    # when
    with world.activate() as session:
        module = session.read_text("client/pkg/mod.py")
        link = session.read_link("client/link")
        executable = os.access("/repo/client/run.sh", os.X_OK)
        git_copied = session.exists("client/.git")
    # then
    assert module == "X = 1\n"
    assert link == "pkg/mod.py"
    assert executable
    assert git_copied is False


def test_an_interpreter_answers_the_probe_with_version_executable_and_prefixes():
    # given
    world = kernel_script_world()
    # when
    with world.activate(kernel=kernel_printing(["/usr/bin/python3", "-I", "-S", "-c", PROBE])) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(0)
    assert outcome.stdout.splitlines() == ["3.11.7", "/usr/bin/python3", "/usr", "/usr"]


def test_an_interpreter_found_on_path_reports_the_path_it_was_invoked_by():
    # given
    world = kernel_script_world().add_symlink("/usr/local/bin/python3.11", "/usr/bin/python3")
    # when
    with world.activate(kernel=kernel_printing(["python3.11", "-IsB", "-c", PROBE])) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(0)
    assert outcome.stdout.splitlines() == ["3.11.7", "/usr/local/bin/python3.11", "/usr", "/usr"]


def test_a_venv_interpreter_reports_the_venv_as_prefix_and_its_base_as_base_prefix():
    # given
    world = kernel_script_world().add_interpreter(
        "/opt/py312/bin/python3.12", "3.12.1"
    ).add_interpreter("venv/bin/python", "3.12.1", venv=True, base="/opt/py312/bin/python3.12")
    # when
    with world.activate(kernel=kernel_printing(["/repo/venv/bin/python", "-I", "-c", PROBE])) as session:
        pyvenv_cfg = session.read_text("venv/pyvenv.cfg")
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(0)
    assert outcome.stdout.splitlines() == ["3.12.1", "/repo/venv/bin/python", "/repo/venv", "/opt/py312"]
    assert "home = /opt/py312/bin\n" in pyvenv_cfg
    assert "version = 3.12.1\n" in pyvenv_cfg


def test_a_broken_interpreter_fails_the_probe_with_exit_1_and_a_message():
    # given
    world = kernel_script_world().add_interpreter("/opt/bad/bin/python3", "3.11.2", broken=True)
    # when
    with world.activate(kernel=kernel_printing(["/opt/bad/bin/python3", "-I", "-c", PROBE])) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(1)
    outcome.assert_stderr(contains="error while loading shared libraries")
    assert outcome.stdout == ""
    assert [(c.argv[0], c.returncode) for c in outcome.commands] == [("/opt/bad/bin/python3", 1)]


def test_a_command_whose_program_is_missing_gives_127_like_the_real_adapter():
    # given
    world = kernel_script_world()
    # when
    with world.activate(kernel=kernel_printing(["/opt/none/bin/python3", "-c", PROBE])) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(127)
    outcome.assert_stderr(contains="cannot run /opt/none/bin/python3: No such file or directory")


def test_the_real_filesystem_is_untouched_by_a_session_and_its_runs():
    # given
    root = "/harness-world-that-is-not-on-disk"
    world = World(root=root).apply_layout("min").add_interpreter("python3", "3.11.7")

    def boot_env(main_func, host):
        host.fs.write_text(root + "/out.txt", "x")
        host.fs.write_text("/opt/harness-fake-dir/out.txt", "x")

    # when
    with world.activate(kernel=stub_kernel(boot_env=boot_env)) as session:
        outcome = session.run("./prime")
    # then
    outcome.assert_exit(0).assert_written(["out.txt", "/opt/harness-fake-dir/out.txt"])
    assert not os.path.exists(root)
    assert not os.path.exists("/opt/harness-fake-dir")


def test_importing_the_world_loads_neither_pyfakefs_nor_pytest():
    # given
    code = "import sys, protoprimer_harness.world, protoprimer_harness; print(sorted({'pyfakefs', 'pytest'} & set(sys.modules)))"
    # when
    printed = subprocess.run(
        [sys.executable, "-c", code], cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
        stdout=subprocess.PIPE, universal_newlines=True, check=True,
    ).stdout
    # then
    assert printed.strip() == "[]"


def test_activation_is_the_sessions_and_world_activate_calls_it():
    # given
    from protoprimer_harness.session import WorldSession, activate
    from protoprimer_harness.world import WorldSession as world_session_class

    world = World().add_file("a.txt", "from the world")
    # when
    with activate(world) as by_function, open(by_function.path("a.txt")) as f:
        text_by_function = f.read()
    with world.activate() as by_method:
        text_by_method = by_method.read_text("a.txt")
    # then
    assert world_session_class is WorldSession
    assert isinstance(by_function, WorldSession) and isinstance(by_method, WorldSession)
    assert text_by_function == text_by_method == "from the world"


def test_a_stale_copy_of_the_session_module_refuses_to_make_the_world_on_the_real_disk(tmp_path):
    # given: a copy of the session module that is not in sys.modules (as one pyfakefs or pytester dropped
    # from there after importing it), so pyfakefs does not patch its `os`
    import importlib.util

    spec = importlib.util.find_spec("protoprimer_harness.session")
    stale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stale)
    world = World(root=str(tmp_path / "repo")).without_default_shells().add_file("a.txt", "x")
    # when
    with pytest.raises(HarnessError, match="pyfakefs did not patch the harness modules in use"):
        stale.activate(world)
    # then: nothing was made on the real disk, and the fake filesystem is gone
    assert not (tmp_path / "repo").exists()
    assert os.path.isdir(str(tmp_path))
    with world.activate() as session:
        assert session.read_text("a.txt") == "x"
