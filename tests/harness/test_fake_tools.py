"""The fake tools and the new port operations, driven directly through an open process of an activated
world (no kernel): python -m venv, pip, uv, shells, import_module, load_file_function, env operations."""

import json
import os

import pytest

from protoprimer_harness import UnknownCommandError, World
from protoprimer_harness.errors import UnsupportedProgramError
from protoprimer_harness._fake_tools import explain_miss
from protoprimer_harness.tools.base import ToolCall, ToolRefusal, ToolResult
from protoprimer_harness._stub_kernel import stub_kernel
from protoprimer import primer_kernel

VENV = "/repo/venv"
VPY = VENV + "/bin/python"
SITE = VENV + "/lib/python3.11/site-packages"
CONSTRAINTS = "/repo/constraints.txt"
PIP_INSTALL = [VPY, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
PIP_FREEZE = [VPY, "-I", "-m", "pip", "freeze", "--local", "--exclude-editable", "--disable-pip-version-check"]
CLIENT_PYPROJECT = """\
[project]
name = "client"
version = "1.2.0"
dependencies = ["requests>=2"]

[project.optional-dependencies]
test = ["pytest-mini"]
"""


def base_world():
    """python3 3.11.7 on PATH; a client project at the root; an index with requests, idna and pytest-mini."""
    return (
        World()
        .add_interpreter("python3", "3.11.7")
        .add_file("pyproject.toml", CLIENT_PYPROJECT)
        .add_package("requests", "2.30.0", ["idna>=2"])
        .add_package("requests", "2.31.0", ["idna>=3"])
        .add_package("idna", "2.10")
        .add_package("idna", "3.4")
        .add_package("idna", "3.6")
        .add_package("pytest-mini", "1.0")
    )


def make_venv(process, venv=VENV, python="/usr/bin/python3"):
    result = process.proc.run([python, "-I", "-m", "venv", venv])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def read(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


def dist_infos(site=SITE):
    return sorted(name for name in os.listdir(site) if name.endswith(".dist-info"))


# --- python -m venv ----------------------------------------------------------------------------------


def test_python_m_venv_creates_a_venv_whose_python_runs_as_a_venv_of_the_base_version():
    # given
    with base_world().activate() as session, session.open_process() as process:
        # when
        make_venv(process)
        probe = process.proc.run([VPY, "-I", "-c", primer_kernel.PYTHON_PROBE_CODE])
        # then
        assert probe.stdout.splitlines() == ["3.11.7", VPY, VENV, "/usr"]
        assert read(VENV + "/pyvenv.cfg") == (
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n"
            "executable = /usr/bin/python3\ncommand = /usr/bin/python3 -m venv /repo/venv\n")
        assert os.readlink(VPY) == "/usr/bin/python3"
        assert [os.readlink(VENV + "/bin/" + name) for name in ("python3", "python3.11")] == ["python", "python"]
        assert 'VIRTUAL_ENV="/repo/venv"' in read(VENV + "/bin/activate")
        assert dist_infos() == ["pip-24.0.dist-info"]
        assert os.access(VENV + "/bin/pip", os.X_OK)


def test_pip_scripts_in_the_sh_python_form_run_pip_with_the_interpreter_of_their_exec_line():
    """pip writes this form for a long or spaced interpreter path; the kernel's pip seeding always does."""
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        head = read(VENV + "/bin/pip").split("\n", 1)[1]
        with open(VENV + "/bin/pip-sh", "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\n'''exec' '%s' \"$0\" \"$@\"\n' '''\n%s" % (VPY, head))
        os.chmod(VENV + "/bin/pip-sh", 0o755)
        # when
        plain = process.proc.run([VENV + "/bin/pip", "--version"])
        polyglot = process.proc.run([VENV + "/bin/pip-sh", "--version"])
        # then
        assert plain.returncode == polyglot.returncode == 0
        assert polyglot.stdout == plain.stdout == "pip 24.0 from %s/pip (python 3.11)\n" % SITE


def test_a_venv_made_from_a_venv_python_is_based_on_the_base_interpreter():
    # given
    world = base_world().add_interpreter("/opt/old/bin/python", "3.11.7", venv=True, base="python3")
    with world.activate() as session, session.open_process() as process:
        # when
        make_venv(process, python="/opt/old/bin/python")
        # then
        assert read(VENV + "/pyvenv.cfg").startswith("home = /usr/bin\n")
        assert os.readlink(VPY) == "/usr/bin/python3"


def test_venv_with_a_broken_or_missing_base_fails_like_the_real_one():
    # given
    world = base_world().add_interpreter("/usr/bin/python3.12", "3.12.1", broken=True)
    with world.activate() as session, session.open_process() as process:
        # when
        broken = process.proc.run(["/usr/bin/python3.12", "-I", "-m", "venv", VENV])
        missing = process.proc.run(["/usr/bin/python3.9", "-I", "-m", "venv", VENV])
        # then
        assert broken.returncode == 1
        assert "libpython3.12.so.1.0: cannot open shared object file" in broken.stderr
        assert missing.returncode == 127
        assert not os.path.exists(VENV)


def test_venv_refuses_a_file_in_the_way_and_unknown_options():
    # given
    with base_world().add_file("venv", "not a dir\n").activate() as session, session.open_process() as process:
        # when
        in_the_way = process.proc.run(["/usr/bin/python3", "-m", "venv", VENV])
        bad_option = process.proc.run(["/usr/bin/python3", "-m", "venv", "--frobnicate", "/repo/v2"])
        # then
        assert (in_the_way.returncode, in_the_way.stderr) == (1, "Error: [Errno 17] File exists: '/repo/venv'\n")
        assert bad_option.returncode == 2 and "unrecognized arguments: --frobnicate" in bad_option.stderr


def test_venv_without_pip_then_pip_is_not_a_module_of_it():
    # given
    with base_world().activate() as session, session.open_process() as process:
        process.proc.run(["/usr/bin/python3", "-m", "venv", "--without-pip", VENV])
        # when
        result = process.proc.run(PIP_INSTALL + ["idna"])
        # then
        assert (result.returncode, result.stderr) == (1, "%s: No module named pip\n" % VPY)
        assert dist_infos() == []


# --- pip install and freeze --------------------------------------------------------------------------


def test_pip_installs_editables_with_extras_and_their_dependencies_constraint_pins_win():
    # given
    world = base_world().add_file("constraints.txt", "idna==3.4\nrequests==2.31.0\n")
    with world.activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        result = process.proc.run(PIP_INSTALL + ["--constraint", CONSTRAINTS, "--editable", "/repo[test]"])
        # then
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "Obtaining file:///repo",
            "Collecting idna (from requests)",
            "Collecting pytest-mini (from client)",
            "Collecting requests (from client)",
            "Installing collected packages: pytest-mini, idna, requests, client",
            "Successfully installed client-1.2.0 idna-3.4 pytest-mini-1.0 requests-2.31.0",
        ]
        assert dist_infos() == ["client-1.2.0.dist-info", "idna-3.4.dist-info", "pip-24.0.dist-info",
                                "pytest_mini-1.0.dist-info", "requests-2.31.0.dist-info"]
        direct_url = json.loads(read(SITE + "/client-1.2.0.dist-info/direct_url.json"))
        assert direct_url == {"dir_info": {"editable": True}, "url": "file:///repo"}
        assert "Requires-Dist: requests>=2\n" in read(SITE + "/client-1.2.0.dist-info/METADATA")
        assert read(SITE + "/__editable__.client-1.2.0.pth") == "/repo\n"
        assert read(SITE + "/idna/__init__.py") == '__version__ = "3.4"\n'


def test_pip_quiet_prints_nothing_and_keeps_what_is_installed_when_it_satisfies():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        process.proc.run(PIP_INSTALL + ["-q", "idna==3.4"])
        # when
        quiet = process.proc.run(PIP_INSTALL + ["-q", "-q", "idna>=3"])
        loud = process.proc.run(PIP_INSTALL + ["idna>=3"])
        # then
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
        assert loud.stdout == "Requirement already satisfied: idna in %s (3.4)\n" % SITE
        assert dist_infos() == ["idna-3.4.dist-info", "pip-24.0.dist-info"]


def test_pip_upgrade_replaces_the_old_distribution_and_says_so():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        process.proc.run(PIP_INSTALL + ["-q", "idna==2.10"])
        # when
        result = process.proc.run(PIP_INSTALL + ["--upgrade", "idna"])
        # then
        assert result.stdout.splitlines()[-5:] == [
            "  Attempting uninstall: idna",
            "    Found existing installation: idna 2.10",
            "    Uninstalling idna-2.10:",
            "      Successfully uninstalled idna-2.10",
            "Successfully installed idna-3.6",
        ]
        assert dist_infos() == ["idna-3.6.dist-info", "pip-24.0.dist-info"]


def test_an_unsatisfiable_requirement_fails_in_pips_words_and_installs_nothing():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        result = process.proc.run(PIP_INSTALL + ["-q", "idna==9.9"])
        unknown = process.proc.run(PIP_INSTALL + ["nosuchthing"])
        # then
        assert result.returncode == 1
        assert result.stderr == (
            "ERROR: Could not find a version that satisfies the requirement idna==9.9 "
            "(from versions: 2.10, 3.4, 3.6)\nERROR: No matching distribution found for idna==9.9\n")
        assert "(from versions: none)" in unknown.stderr
        assert dist_infos() == ["pip-24.0.dist-info"]


def test_a_constraint_that_contradicts_a_dependency_is_a_conflict():
    # given
    world = base_world().add_file("constraints.txt", "idna==2.10\n")
    with world.activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        result = process.proc.run(PIP_INSTALL + ["--constraint", CONSTRAINTS, "requests==2.31.0"])
        # then
        assert result.returncode == 1
        assert "ERROR: Cannot install idna>=3 (from requests) because these package versions have conflicting " \
               "dependencies." in result.stderr
        assert "The user requested (constraint) idna==2.10" in result.stderr


def test_pip_errors_for_a_missing_constraints_file_a_project_without_pyproject_and_another_python():
    # given
    world = (base_world().add_dir("empty")
             .add_file("old/pyproject.toml", '[project]\nname = "old"\nrequires-python = "<3.8"\n'))
    with world.activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        no_file = process.proc.run(PIP_INSTALL + ["--constraint", "/repo/nope.txt", "idna"])
        no_project = process.proc.run(PIP_INSTALL + ["--editable", "/repo/empty"])
        other_python = process.proc.run(PIP_INSTALL + ["--editable", "/repo/old"])
        # then
        assert no_file.stderr == ("ERROR: Could not open requirements file: [Errno 2] No such file or directory: "
                                  "'/repo/nope.txt'\n")
        assert no_project.stderr == ("ERROR: file:///repo/empty does not appear to be a Python project: neither "
                                     "'setup.py' nor 'pyproject.toml' found.\n")
        assert other_python.stderr == "ERROR: Package 'old' requires a different Python: 3.11.7 not in '<3.8'\n"
        assert [no_file.returncode, no_project.returncode, other_python.returncode] == [1, 1, 1]


def test_an_option_the_fake_pip_does_not_model_stops_the_run_naming_pip_and_its_options():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        with pytest.raises(UnknownCommandError) as raised:
            process.proc.run(PIP_INSTALL + ["--target", "/tmp/x", "idna"])
        # then
        nearest = miss_sections(str(raised.value))["the nearest tools, and why each refused it:"]
        assert len(nearest) == 1
        assert nearest[0].startswith("python -m pip: the option --target of `pip install` is not simulated (the "
                                     "options it simulates: ")
        assert "--constraint" in nearest[0]


def test_pip_freeze_lists_non_editable_distributions_sorted_case_insensitively():
    # given
    world = base_world().add_package("Zeta", "1.0").add_package("alpha", "2.0")
    with world.activate() as session, session.open_process() as process:
        make_venv(process)
        process.proc.run(PIP_INSTALL + ["-q", "-e", "/repo", "Zeta", "alpha"])
        # when
        excluded = process.proc.run(PIP_FREEZE)
        everything = process.proc.run([VPY, "-m", "pip", "freeze"])
        # then
        assert excluded.stdout == "alpha==2.0\nidna==3.6\nrequests==2.31.0\nZeta==1.0\n"
        assert everything.stdout.splitlines()[:3] == [
            "alpha==2.0", "# Editable install with no version control (client==1.2.0)", "-e /repo"]


def test_installing_protoprimer_writes_the_real_kernel_source_and_import_module_finds_it():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        process.proc.run(PIP_INSTALL + ["-q", "protoprimer"])
        # then
        kernel_file = SITE + "/protoprimer/primer_kernel.py"
        assert read(kernel_file) == session.session_state.kernel_source
        assert "protoprimer-kernel-file" in read(kernel_file)
        assert dist_infos() == ["pip-24.0.dist-info", "protoprimer-%s.dist-info" % primer_kernel.__version__]
    with base_world().activate() as session:
        with session.open_process() as process:
            make_venv(process)
            process.proc.run(PIP_INSTALL + ["-q", "protoprimer"])
        with session.open_process(VPY) as venv_process:
            module = venv_process.proc.import_module("protoprimer.primer_kernel")
            package = venv_process.proc.import_module("protoprimer")
            found = venv_process.proc.find_module_file("protoprimer.primer_kernel")
        with session.open_process("python3") as system_process:
            with pytest.raises(ImportError):
                system_process.proc.import_module("protoprimer.primer_kernel")
            not_found = system_process.proc.find_module_file("protoprimer.primer_kernel")
    assert module.__file__ == found == SITE + "/protoprimer/primer_kernel.py"
    assert module.__version__ == package.__version__ == primer_kernel.__version__
    assert module.get_config is primer_kernel.get_config
    assert not_found is None


def test_an_older_protoprimer_from_the_index_is_installed_with_its_version_in_the_kernel_file():
    # given
    world = base_world().add_package("protoprimer", "0.1.0")
    with world.activate() as session:
        with session.open_process() as process:
            make_venv(process)
            process.proc.run(PIP_INSTALL + ["-q", "protoprimer==0.1.0"])
        # when
        with session.open_process(VPY) as venv_process:
            module = venv_process.proc.import_module("protoprimer.primer_kernel")
    # then
    assert module.__version__ == "0.1.0"


def test_pip_install_uv_writes_an_executable_uv_and_warns_when_the_bin_dir_is_not_on_path():
    # given
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        off_path = process.proc.run(PIP_INSTALL + ["uv"], env={"PATH": "/usr/bin:/bin"})
        on_path = process.proc.run(PIP_INSTALL + ["--force-reinstall", "uv"],
                                   env={"PATH": VENV + "/bin:/usr/bin:/bin"})
        version = process.proc.run([VENV + "/bin/uv", "--version"])
        # then
        assert "WARNING: The script uv is installed in '/repo/venv/bin' which is not on PATH." in off_path.stderr
        assert on_path.stderr == ""
        assert os.access(VENV + "/bin/uv", os.X_OK)
        assert version.stdout == "uv 0.5.11\n"


def test_stream_sends_the_output_to_the_process_streams_and_on_tick_is_called():
    # given
    ticks = []
    with base_world().activate() as session, session.open_process() as process:
        make_venv(process)
        # when
        result = process.proc.run(PIP_INSTALL + ["idna"], stream=True, on_tick=ticks.append)
        # then
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert "Successfully installed idna-3.6\n" in process.stdout
        assert process.outcome.commands[-1].streamed
        assert ticks == [pytest.approx(0.1)]


def test_dependency_markers_are_evaluated_for_the_interpreter_version():
    # given
    world = (World().add_interpreter("/usr/bin/python3.8", "3.8.18")
             .add_package("lib", "1.0", ["backport; python_version < '3.9'", "modern; python_version >= '3.9'"])
             .add_package("backport", "1.0").add_package("modern", "1.0"))
    with world.activate() as session, session.open_process("/usr/bin/python3.8") as process:
        make_venv(process, python="/usr/bin/python3.8")
        # when
        result = process.proc.run([VPY, "-m", "pip", "install", "lib"])
    # then
    assert result.stdout.splitlines()[-1] == "Successfully installed backport-1.0 lib-1.0"


def test_a_package_with_a_bad_version_or_requirement_is_refused_when_added():
    with pytest.raises(ValueError, match="invalid version 'one'"):
        World().add_package("x", "one")
    with pytest.raises(ValueError, match="invalid requirement"):
        World().add_package("x", "1.0", ["not a requirement!!"])


# --- uv ------------------------------------------------------------------------------------------------


def uv_world():
    return base_world().add_file("constraints.txt", "idna==3.4\n")


def install_uv(session):
    with session.open_process() as process:
        make_venv(process, venv="/cache/uv.venv")
        process.proc.run(["/cache/uv.venv/bin/python", "-I", "-m", "pip", "install", "-q", "uv"])
    return "/cache/uv.venv/bin/uv"


def test_uv_venv_makes_a_venv_without_pip_marked_with_uvs_version():
    # given
    with uv_world().activate() as session:
        uv = install_uv(session)
        with session.open_process() as process:
            # when
            result = process.proc.run([uv, "venv", "--no-python-downloads", "--python", "/usr/bin/python3", VENV])
            probe = process.proc.run([VPY, "-I", "-c", primer_kernel.PYTHON_PROBE_CODE])
            again = process.proc.run([uv, "venv", "-q", "--python", "/usr/bin/python3", VENV])
            quiet = process.proc.run([uv, "venv", "-q", "--clear", "--python", "/usr/bin/python3", VENV])
            # then: the path under the cwd shown relative to it, no activation hint without $SHELL
            assert result.returncode == 0
            assert result.stderr == ("Using CPython 3.11.7 interpreter at: /usr/bin/python3\nCreating virtual "
                                     "environment at: venv\n")
            assert again.returncode == 2 and "A virtual environment already exists at: venv\n" in again.stderr
            assert (quiet.returncode, quiet.stderr) == (0, "")
            assert "uv = 0.5.11\n" in read(VENV + "/pyvenv.cfg")
            assert probe.stdout.splitlines()[2:] == [VENV, "/usr"]
            assert dist_infos() == []


def test_uv_venv_with_a_missing_python_fails_and_refuses_a_directory_that_is_not_a_venv():
    # given
    with uv_world().add_file("data/x.txt", "x\n").activate() as session:
        uv = install_uv(session)
        with session.open_process() as process:
            # when
            missing = process.proc.run([uv, "venv", "--python", "/usr/bin/python3.99", VENV])
            occupied = process.proc.run([uv, "venv", "--python", "/usr/bin/python3", "/repo/data"])
            # then
            assert missing.returncode == 2
            assert "Failed to inspect Python interpreter from provided path at `/usr/bin/python3.99`" in missing.stderr
            assert occupied.returncode == 2 and "A directory already exists at: data\n" in occupied.stderr


def test_uv_pip_install_resolves_like_pip_and_audits_an_unchanged_venv():
    # given
    with uv_world().activate() as session:
        uv = install_uv(session)
        with session.open_process() as process:
            process.proc.run([uv, "venv", "-q", "--python", "/usr/bin/python3", VENV])
            install = [uv, "pip", "install", "--python", VPY, "--compile-bytecode", "--constraint", CONSTRAINTS,
                       "--editable", "/repo"]
            # when
            first = process.proc.run(install)
            second = process.proc.run(install)
            freeze = process.proc.run([uv, "pip", "freeze", "--exclude-editable", "--python", VPY])
            # then
            assert first.returncode == 0, first.stderr
            assert first.stderr.splitlines() == [
                "Resolved 3 packages in 1ms", "Prepared 3 packages in 1ms", "Installed 3 packages in 1ms",
                " + client==1.2.0 (from file:///repo)", " + idna==3.4", " + requests==2.31.0"]
            assert second.stderr == "Audited 3 packages in 1ms\n"
            assert freeze.stdout == "idna==3.4\nrequests==2.31.0\n"
            assert read(SITE + "/idna-3.4.dist-info/INSTALLER") == "uv\n"


def test_uv_pip_install_unsatisfiable_fails_in_uvs_words():
    # given
    with uv_world().activate() as session:
        uv = install_uv(session)
        with session.open_process() as process:
            process.proc.run([uv, "venv", "-q", "--python", "/usr/bin/python3", VENV])
            # when
            result = process.proc.run([uv, "pip", "install", "--python", VPY, "idna==9"])
            # then
            assert result.returncode == 1
            assert "No solution found when resolving dependencies" in result.stderr
            assert "there is no version of idna==9" in result.stderr


# --- shells ------------------------------------------------------------------------------------------


def test_a_shell_run_with_c_is_recorded_with_its_env_and_prints_nothing():
    # given
    with base_world().activate() as session, session.open_process() as process:
        # when
        result = process.proc.run(["/bin/bash", "-c", "make test"], env={"VIRTUAL_ENV": VENV, "PATH": "/usr/bin"})
        # then
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        record = process.outcome.commands[-1]
        assert record.line == "/bin/bash -c 'make test'"
        assert record.env == {"VIRTUAL_ENV": VENV, "PATH": "/usr/bin"}


def replace_into(argv, env_extra=None):
    """A stub kernel main that replaces its process by `argv` with its env plus `env_extra`."""

    def main(host):
        env = host.env.variables()
        env.update(env_extra or {})
        host.proc.replace(argv, env)

    return stub_kernel(main=main)


KERNEL_FILE = "#!/usr/bin/env python3\n# protoprimer-kernel-file\n"


def test_a_replacement_into_a_shell_ends_the_chain_as_one_more_process():
    # given
    world = base_world().add_file("k.py", KERNEL_FILE, executable=True).add_file("/root/.cache/rc", "source x\n")
    kernel = replace_into(["/bin/bash", "--rcfile", "/root/.cache/rc", "-i"], {"VIRTUAL_ENV": VENV})
    # when
    with world.activate(kernel=kernel) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(0).assert_chain(["/usr/bin/python3", "/bin/bash"])
    assert outcome.processes[-1].kind == "shell"
    assert outcome.shell.mode == "interactive"
    assert (outcome.shell.rc_file, outcome.shell.rc_text) == ("/root/.cache/rc", "source x\n")
    assert outcome.shell.env["VIRTUAL_ENV"] == VENV
    outcome.assert_shell(argv=["/bin/bash", "--rcfile", "/root/.cache/rc", "-i"], env_has=["VIRTUAL_ENV"],
                         env_lacks=["PROTOPRIMER_*"], rc_contains=["source x"])


def test_zsh_and_sh_read_their_rc_files_from_zdotdir_and_env():
    # given
    world = (base_world().add_file("k.py", KERNEL_FILE, executable=True)
             .add_file("/c/zsh/.zshrc", "zsh rc\n").add_file("/c/sh.rc", "sh rc\n"))
    with world.activate(kernel=replace_into(["/bin/zsh", "-i"], {"ZDOTDIR": "/c/zsh"})) as session:
        # when
        zsh = session.run("./k.py")
        sh = session.run("./k.py", kernel=replace_into(["/bin/sh", "-i"], {"ENV": "/c/sh.rc"}))
        bad = session.run("./k.py", kernel=replace_into(["/bin/zsh", "--rcfile", "/c/sh.rc", "-i"]))
    # then
    assert (zsh.shell.rc_file, zsh.shell.rc_text) == ("/c/zsh/.zshrc", "zsh rc\n")
    assert (sh.shell.rc_file, sh.shell.rc_text) == ("/c/sh.rc", "sh rc\n")
    bad.assert_exit(2).assert_stderr(contains="zsh: no such option: rcfile")


def test_a_missing_shell_cannot_be_replaced_into():
    # given
    world = base_world().without_default_shells().add_shell("/usr/bin/fish")
    seen = {}

    def main(host):
        try:
            host.proc.replace(["/bin/bash", "-c", "true"], host.env.variables())
        except OSError as error:
            seen["errno"] = error.errno
        host.proc.replace(["/usr/bin/fish", "-c", "true"], host.env.variables())

    # when
    with world.add_file("k.py", KERNEL_FILE, executable=True).activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    assert seen == {"errno": 2}
    assert outcome.shell.name == "fish" and outcome.shell.command == "true"


def test_set_shell_sets_the_shell_variable():
    world = World().add_interpreter("python3", "3.11.7").set_shell("/bin/zsh")
    with world.activate() as session, session.open_process() as process:
        assert process.env.get("SHELL") == "/bin/zsh"


# --- load_file_function --------------------------------------------------------------------------------

SELECTOR = """\
import os
import shutil

def select_python_file_abs_path(required_version_tuple):
    name = "python%d.%d" % tuple(required_version_tuple[:2])
    for directory in ("/opt/py312/bin", "/usr/bin"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    return shutil.which(name, path="/usr/local/bin:/somewhere")

def listing():
    return sorted(os.listdir("/opt/py312/bin")), os.path.isfile("/repo/sel.py")
"""


def test_load_file_function_execs_the_file_on_the_fake_filesystem():
    # given
    world = (World().add_interpreter("python3", "3.11.7").add_interpreter("/opt/py312/bin/python3.12", "3.12.1")
             .add_interpreter("/usr/local/bin/python3.13", "3.13.0").add_file("sel.py", SELECTOR))
    with world.activate() as session, session.open_process() as process:
        # when
        select = process.proc.load_file_function("/repo/sel.py", "select_python_file_abs_path")
        listing = process.proc.load_file_function("/repo/sel.py", "listing")
        # then
        assert select((3, 12)) == "/opt/py312/bin/python3.12"
        assert select((3, 13)) == "/usr/local/bin/python3.13"
        assert select((3, 10)) is None
        assert listing() == (["python3.12"], True)


def test_load_file_function_errors_are_the_real_ones_and_subprocess_is_refused():
    # given
    world = (World().add_interpreter("python3", "3.11.7").add_file("bad.py", "def f(:\n")
             .add_file("ok.py", "X = 1\n").add_file("sub.py", "import subprocess\n"))
    with world.activate() as session, session.open_process() as process:
        # then
        with pytest.raises(SyntaxError):
            process.proc.load_file_function("/repo/bad.py", "f")
        with pytest.raises(primer_kernel.ClientCodeMissing, match="defines no function"):
            process.proc.load_file_function("/repo/ok.py", "select_python_file_abs_path")
        with pytest.raises(FileNotFoundError):
            process.proc.load_file_function("/repo/missing.py", "f")
        with pytest.raises(UnsupportedProgramError):
            process.proc.load_file_function("/repo/sub.py", "f")


# --- the environment port ------------------------------------------------------------------------------


def test_env_unset_remember_recall_sleep_and_isolated():
    # given
    with World().add_interpreter("python3", "3.11.7").activate() as session:
        with session.open_process(env={"PROTOPRIMER_PY_EXEC": "x"}) as process:
            before = process.env.now()
            # when
            process.env.unset("PROTOPRIMER_PY_EXEC")
            process.env.unset("NOT_THERE")
            process.env.remember("copy", "/repo/proto_kernel.py")
            process.env.sleep(30)
            after = process.env.now()
            # then
            assert process.env.get("PROTOPRIMER_PY_EXEC") is None
            assert process.env.recall("copy") == "/repo/proto_kernel.py"
            assert process.env.recall("other", "default") == "default"
            assert after - before == 31
            assert process.env.isolated
        with session.open_process(isolated=False) as other:
            assert other.env.recall("copy") is None
            assert not other.env.isolated


def test_isolated_comes_from_the_interpreter_flags_and_memory_dies_with_the_process():
    # given
    seen = []

    def main(host):
        seen.append((host.env.isolated, host.env.recall("k")))
        host.env.remember("k", "v")
        if host.env.get("NEXT") is None:
            env = dict(host.env.variables(), NEXT="1")
            host.proc.replace(["/usr/bin/python3", "-I"] + host.env.argv, env)

    world = World().add_interpreter("python3", "3.11.7").add_file("k.py", KERNEL_FILE, executable=True)
    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        session.run("./k.py")
    # then
    assert seen == [(False, None), (True, None)]


def test_unset_is_what_client_code_sees():
    # given
    def main(host):
        host.env.unset("PROTOPRIMER_PY_EXEC")
        raise SystemExit(host.proc.call_main("client.main", "main"))

    world = (World().add_interpreter("python3", "3.11.7").add_file("k.py", KERNEL_FILE, executable=True)
             .add_main("client.main:main", "return 0"))
    # when
    with world.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py", env={"PROTOPRIMER_PY_EXEC": "stride_py_venv", "PROTOPRIMER_X": "1"})
    # then
    outcome.assert_exit(0).assert_main(called=True, env_lacks=["PROTOPRIMER_PY_EXEC"], env_has=["PROTOPRIMER_*"],
                                       ended="returned 0", interpreter="/usr/bin/python3")
    with pytest.raises(AssertionError, match="expected no PROTOPRIMER_\\*, found PROTOPRIMER_X='1'"):
        outcome.assert_main(env_lacks=["PROTOPRIMER_*"])


# --- client mains that cannot be imported --------------------------------------------------------------


def calling_kernel(spec="client.main:main"):
    def main(host):
        module, _, func = spec.partition(":")
        try:
            raise SystemExit(host.proc.call_main(module, func))
        except primer_kernel.ClientCodeMissing as error:
            host.env.write_stderr("missing: %s\n" % error)
            raise SystemExit(7)

    return stub_kernel(main=main)


def test_a_main_provided_by_a_distribution_is_importable_only_where_it_is_installed():
    # given
    world = (base_world().add_file("k.py", KERNEL_FILE, executable=True)
             .add_interpreter(VPY, "3.11.7", venv=True).add_main("client.main:main", "return 0", provided_by="client"))
    with world.activate(kernel=calling_kernel()) as session:
        # when
        before = session.run([VPY, "k.py"])
        with session.open_process(VPY) as process:
            process.proc.run([VPY, "-m", "pip", "install", "-q", "-e", "/repo"])
        after = session.run([VPY, "k.py"])
    # then
    before.assert_exit(7).assert_stderr(contains="cannot import client.main: No module named 'client' (client is "
                                                 "not installed for /repo/venv/bin/python)")
    assert before.main_call.ended == "missing"
    after.assert_exit(0).assert_main(ended="returned 0")


def test_the_builtin_missing_main_cannot_be_imported_anywhere():
    # given
    world = base_world().add_file("k.py", KERNEL_FILE, executable=True).add_main("client.main:main", "missing")
    # when
    with world.activate(kernel=calling_kernel()) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_exit(7).assert_main(called=True, ended="missing")


def test_venv_interpreters_added_to_the_world_have_pip_unless_told_otherwise():
    # given
    world = (base_world().add_interpreter(VPY, "3.11.7", venv=True)
             .add_interpreter("/repo/bare/bin/python", "3.11.7", venv=True, pip=False))
    with world.activate() as session, session.open_process() as process:
        # when
        with_pip = process.proc.run([VPY, "-m", "pip", "--version"])
        without = process.proc.run(["/repo/bare/bin/python", "-m", "pip", "--version"])
    # then
    assert with_pip.stdout == "pip 24.0 from %s/pip (python 3.11)\n" % SITE
    assert without.returncode == 1


# --- misses: a command no tool answers ---------------------------------------------------------------


def miss_sections(message):
    """The miss report's sections: headline -> its indented lines (the last line, the hint, under "hint")."""
    sections, current = {}, None
    lines = message.splitlines()
    for line in lines[:-1]:
        if line.startswith("  "):
            sections[current].append(line.strip())
        else:
            current = line
            sections[current] = []
    sections["hint"] = [lines[-1]]
    return sections


def miss(world, argv):
    """The message of the UnknownCommandError that running `argv` raises (after making the venv VENV)."""
    with world.activate() as session, session.open_process() as process:
        make_venv(process)
        with pytest.raises(UnknownCommandError) as raised:
            process.proc.run(argv)
    return str(raised.value)


ADD_TOOL_HINT = ("To simulate it, add a tool to the world: `World.add_tool(tool)`, an object with `usage`, "
                 "`accepts(call)` and `run(call) -> ToolResult`, tried before the default ones "
                 "(docs/harness.md, \"Adding a tool\").")


def test_a_miss_names_the_command_the_nearest_tool_with_its_reason_every_tool_and_how_to_add_one():
    # when
    message = miss(base_world(), ["/usr/bin/python3", "-X", "dev", "-m", "pip", "install", "idna"])
    # then
    sections = miss_sections(message)
    assert sections["the fake process port does not simulate this command:"] == [
        "/usr/bin/python3 -X dev -m pip install idna",
        "(/usr/bin/python3 resolves to /usr/bin/python3: a simulated python 3.11.7)",
    ]
    assert sections["the nearest tools, and why each refused it:"] == [
        "python -m pip: the interpreter flag -X is not simulated (the simulated flags: -I -E -S -s -B -u)",
    ]
    assert sections["the tools, in the order they are tried:"][:2] == [
        "<broken python> ... (exit 1)", "<python> [-I -S -E -s -B -u] -c PYTHON_PROBE_CODE"]
    assert len(sections["the tools, in the order they are tried:"]) == 7
    assert sections["hint"] == [ADD_TOOL_HINT]


@pytest.mark.parametrize("argv, nearest", [
    (["/usr/bin/python3", "-I", "--check-hash-based-pycs", "always", "-m", "venv", "/repo/v"],
     "python -m venv: the interpreter flag --check-hash-based-pycs is not simulated (the simulated flags: "
     "-I -E -S -s -B -u)"),
    (["/usr/bin/python3", "-c", "print(1)"],
     "python -c PYTHON_PROBE_CODE: the code is not the kernel's PYTHON_PROBE_CODE, the only code `python -c` "
     "runs here"),
    ([VPY, "-m", "pip", "install", "./local"],
     "python -m pip: the requirement './local' is not simulated: the fake pip installs requirements by name from "
     "the world's index, and local projects with --editable"),
    (["/bin/bash", "-i"],
     "shell: an interactive bash runs only as a process replacement (replace), not in run(): run() runs "
     "[SHELL, \"-c\", CMD, ...]"),
    (["/usr/bin/uv", "venv"],
     "uv: /usr/bin/uv is not the fake uv (the executable `pip install uv` writes into a simulated venv)"),
])
def test_each_default_tool_says_why_it_refused_a_command_near_it(argv, nearest):
    # given: a uv that is not the fake one
    world = base_world().add_file("/usr/bin/uv", "#!/bin/sh\n", executable=True)
    # when
    message = miss(world, argv)
    # then
    assert miss_sections(message)["the nearest tools, and why each refused it:"] == [nearest]


def test_a_sub_command_the_pip_script_does_not_model_is_a_miss_of_the_pip_script():
    # when
    message = miss(base_world(), [VENV + "/bin/pip", "check"])
    # then
    assert miss_sections(message)["the nearest tools, and why each refused it:"] == [
        "VENV/bin/pip: the sub-command 'check' of `pip` is not simulated (the sub-commands it simulates: install "
        "freeze --version)"]


@pytest.mark.parametrize("argv, why", [
    (["/usr/bin/python3", "-m", "http.server", "8000"], "none of them runs `python -m http.server`"),
    (["/usr/bin/python3", "-X", "dev", "script.py"],
     "python: the interpreter flag -X is not simulated (the simulated flags: -I -E -S -s -B -u)"),
    (["/usr/bin/git", "status"], "none of them runs /usr/bin/git"),
])
def test_a_command_near_no_tool_says_what_it_is_not(argv, why):
    # given
    world = base_world().add_file("/usr/bin/git", "", executable=True)
    # when
    message = miss(world, argv)
    # then
    assert "the nearest tools, and why each refused it:" not in message
    assert "no tool is near it: %s" % why in message.splitlines()


class GitTool:
    """The example of docs/harness.md, "Adding a tool"."""

    name = "git"
    usage = "git rev-parse HEAD"

    def accepts(self, call):
        return call.argv[1:] == ["rev-parse", "HEAD"] and call.program.endswith("/git")

    def refusal(self, call):
        if not call.program.endswith("/git"):
            return None
        return "only `git rev-parse HEAD` is simulated"

    def run(self, call):
        return ToolResult(0, "0123abcd\n", "")


def test_a_tool_added_to_the_world_answers_and_explains_its_refusals_like_the_default_ones():
    # given
    world = base_world().add_file("/usr/bin/git", "", executable=True).add_tool(GitTool())
    with world.activate() as session, session.open_process() as process:
        # when
        answered = process.proc.run(["git", "rev-parse", "HEAD"])
        with pytest.raises(UnknownCommandError) as raised:
            process.proc.run(["git", "status"])
    # then
    assert (answered.returncode, answered.stdout) == (0, "0123abcd\n")
    sections = miss_sections(str(raised.value))
    assert sections["the nearest tools, and why each refused it:"] == ["git: only `git rev-parse HEAD` is simulated"]
    assert sections["the tools, in the order they are tried:"][0] == "git rev-parse HEAD"


def test_a_tool_without_refusal_or_name_is_listed_by_its_usage_only():
    # given
    class Bare:
        usage = "bare-tool"

        def accepts(self, call):
            return False

    # when
    message = miss(base_world().add_file("/usr/bin/git", "", executable=True).add_tool(Bare()),
                   ["/usr/bin/git", "status"])
    # then
    assert miss_sections(message)["the tools, in the order they are tried:"][0] == "bare-tool"
    assert "no tool is near it: none of them runs /usr/bin/git" in message


class Refusing:
    usage = "x --z"

    def accepts(self, call):
        return call.program == "/usr/bin/x"

    def run(self, call):
        raise ToolRefusal("the option --y is not simulated")


def test_a_tool_that_accepts_then_refuses_in_run_is_a_miss_naming_it_by_its_class():
    # given
    world = base_world().add_file("/usr/bin/x", "", executable=True).add_tool(Refusing())
    # when
    message = miss(world, ["/usr/bin/x", "--y"])
    # then
    assert miss_sections(message)["the nearest tools, and why each refused it:"] == [
        "Refusing: the option --y is not simulated"]


def test_a_tool_refusal_outside_a_port_is_an_unknown_command_error_saying_its_reason():
    # given
    call = ToolCall(["/usr/bin/x", "--y"], {}, "/", "/usr/bin/x", None, None, None)
    # when
    with pytest.raises(UnknownCommandError) as raised:
        Refusing().run(call)
    # then
    assert str(raised.value) == raised.value.reason == "the option --y is not simulated"
    assert explain_miss(call, [Refusing()]).splitlines()[3:5] == [
        "no tool is near it: none of them runs /usr/bin/x", "the tools, in the order they are tried:"]
