"""The tools the harness fakes, run with the kernel's exact argv (briefs/chain_commands.md) against the real
tools: python -m venv, pip install/freeze, uv (tool venv, venv, pip install/freeze), shells run as commands.

On the real backend the venvs of the kernel's `-m venv` commands are the session's (made once, see
contract_backends.RealMachine); installs run offline from the session's wheelhouse."""

import json
import os
import re

import pytest

from contract_backends import SHELL_PATHS, SHELL_REPORT
from protoprimer_harness._fake_interpreters import parse_key_values
from protoprimer import primer_kernel as kernel

PROBE = kernel.PYTHON_PROBE_CODE


def pip_install_argv(vpy, constraints, *editables):
    argv = [vpy, "-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--constraint", constraints]
    for editable in editables:
        argv += ["--editable", editable]
    return argv


def pip_freeze_argv(vpy):
    return [vpy, "-I", "-m", "pip", "freeze", "--local", "--exclude-editable", "--disable-pip-version-check"]


def site_packages(backend, venv):
    return os.path.join(venv, "lib", "python" + backend.facts.short_version, "site-packages")


def require_wheelhouse(backend):
    if backend.name == "real":
        backend.machine.require_wheelhouse()


def dist_info(backend, site, name, version):
    info = os.path.join(site, "%s-%s.dist-info" % (name, version))
    direct = os.path.join(info, "direct_url.json")
    return {
        "installer": backend.read(os.path.join(info, "INSTALLER")),
        "direct_url": json.loads(backend.read(direct)) if os.path.exists(direct) else None,
    }


# --- python -m venv --------------------------------------------------------------------------------------


def test_python_m_venv_makes_what_the_kernel_relies_on(backend):
    result, venv = backend.create_venv()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    fs = backend.host.fs
    cfg = parse_key_values(fs.read_text(os.path.join(venv, "pyvenv.cfg")))
    real = backend.facts.real_python
    assert {k: cfg.get(k) for k in ("home", "include-system-site-packages", "version", "executable")} == {
        "home": os.path.dirname(real), "include-system-site-packages": "false", "version": backend.version,
        "executable": real}
    vpy = os.path.join(venv, "bin", "python")
    probe = backend.host.proc.run([vpy, "-E", "-s", "-c", PROBE])
    assert (probe.returncode, backend.norm(probe.stdout.splitlines())) == (
        0, [backend.version, "<VENV>/bin/python", "<VENV>", backend.facts.prefix])
    for name in ("python", "python3", "python" + backend.facts.short_version):
        assert fs.same_file(os.path.join(venv, "bin", name), real), name
    assert fs.stat_signature(vpy) == fs.stat_signature(real)
    assert 'VIRTUAL_ENV="%s"' % venv in fs.read_text(os.path.join(venv, "bin", "activate"))
    assert os.access(os.path.join(venv, "bin", "pip"), os.X_OK)
    site = site_packages(backend, venv)
    assert "pip-%s.dist-info" % backend.facts.pip_version in fs.list_dir(site)


def test_python_m_venv_records_the_command_as_invoked(backend):
    backend.known_difference("F6: the fake's pyvenv.cfg `command` names the base's real file "
                             "(python3.X); the real one names the interpreter as invoked")
    result, venv = backend.create_venv()
    cfg = parse_key_values(backend.host.fs.read_text(os.path.join(venv, "pyvenv.cfg")))
    assert backend.norm(cfg["command"]) == "%s -m venv <VENV>" % backend.python


def test_python_m_venv_links_as_when_invoked_by_the_real_file(backend):
    """The kernel invokes the real file of the selected interpreter (python3.X). (`--without-pip` keeps this
    cheap; it does not change the links.)"""
    backend.known_difference("F12: real venv makes bin/<invoked name> the link to the interpreter and links "
                             "the other names to it; the fake always links bin/python to it, the others to python")
    real = backend.facts.real_python
    venv = backend.path("venv")
    result = backend.host.proc.run([real, "-I", "-m", "venv", "--without-pip", venv], env=backend.tool_env())
    assert result.returncode == 0, result.stderr
    fs = backend.host.fs
    name = os.path.basename(real)
    links = {n: fs.read_link(os.path.join(venv, "bin", n)) for n in sorted({"python", "python3", name})}
    assert links == dict({"python": name, "python3": name}, **{name: real})


def test_the_venv_python_probes_as_the_venv_through_the_kernel(backend):
    _, venv = backend.create_venv()
    probe = kernel.probe_python(backend.host, os.path.join(venv, "bin", "python"))
    assert (probe.problem, backend.norm(probe.venv), backend.norm(probe.executable)) == (
        None, "<VENV>", "<VENV>/bin/python")
    base = kernel.probe_base_python(backend.host, os.path.join(venv, "bin", "python"))
    assert backend.norm(base.problem) == "is the python of the venv <VENV>, not a base interpreter"


def test_pip_in_the_new_venv_runs(backend):
    _, venv = backend.create_venv()
    vpy = os.path.join(venv, "bin", "python")
    version = backend.host.proc.run([vpy, "-I", "-m", "pip", "--version", "--disable-pip-version-check"])
    assert (version.returncode, backend.norm(version.stdout)) == (
        0, "pip %s from <VENV>/lib/python%s/site-packages/pip (python %s)\n" % (
            backend.facts.pip_version, backend.facts.short_version, backend.facts.short_version))


def test_python_m_venv_over_a_file_fails(backend):
    backend.known_difference("F8: the fake `python -m venv` over a file says `Error: [Errno 17] File exists: "
                             "'DIR'`; CPython 3.8-3.13 say `Error: Unable to create directory 'DIR'`")
    path = backend.write("venv", "in the way\n")
    result = backend.host.proc.run([backend.python, "-I", "-m", "venv", path], env=backend.tool_env())
    assert (result.returncode, result.stdout, backend.norm(result.stderr.splitlines()[-1])) == (
        1, "", "Error: Unable to create directory '<ROOT>/venv'")


def test_python_m_venv_with_a_broken_interpreter_fails(backend):
    broken = backend.broken_python("broken/bin/python" + backend.facts.short_version)
    result = backend.host.proc.run([broken, "-I", "-m", "venv", backend.path("venv")], env=backend.tool_env())
    assert (result.returncode, result.stdout, bool(result.stderr.strip())) == (1, "", True)
    assert not backend.host.fs.exists(backend.path("venv"))


# --- pip install / freeze --------------------------------------------------------------------------------


def test_pip_install_editable_then_freeze(backend):
    """One group: a tiny project (depending on `packaging`, from the wheelhouse) installed editable with
    the kernel's argv, then the kernel's freeze."""
    require_wheelhouse(backend)
    _, venv = backend.create_venv()
    vpy = os.path.join(venv, "bin", "python")
    project = backend.write_project("proj", "tinyproj", "1.2.0", ["packaging"])
    constraints = backend.write("constraints.txt", "")
    packaging = backend.machine.versions().get("packaging") if backend.name == "real" else backend.versions["packaging"]
    # when
    result = backend.host.proc.run(pip_install_argv(vpy, constraints, project), env=backend.tool_env(venv))
    freeze = backend.host.proc.run(pip_freeze_argv(vpy), env=backend.tool_env(venv))
    # then
    assert result.returncode == 0, result.stderr
    lines = backend.norm(result.stdout.splitlines())
    assert "Obtaining file://<ROOT>/proj" in lines
    assert lines[-1] == "Successfully installed packaging-%s tinyproj-1.2.0" % packaging
    assert (freeze.returncode, freeze.stdout) == (0, "packaging==%s\n" % packaging)
    site = site_packages(backend, venv)
    assert backend.norm(dist_info(backend, site, "tinyproj", "1.2.0")) == {
        "installer": "pip\n", "direct_url": {"url": "file://<ROOT>/proj", "dir_info": {"editable": True}}}
    assert dist_info(backend, site, "packaging", packaging) == {"installer": "pip\n", "direct_url": None}


def test_pip_freeze_of_python_3_12_lists_setuptools(backend):
    """pip suppresses setuptools/wheel/distribute in `freeze` only on Python < 3.12: from 3.12 on, a project
    that depends on setuptools gets it pinned in the constraints file."""
    newest = backend.facts.newest_from((3, 12))
    if newest is None:
        pytest.skip("no Python 3.12+ on this machine")
    require_wheelhouse(backend)
    backend.known_difference("F13: the fake pip freeze always leaves out setuptools, wheel and distribute; the "
                             "real pip does so only on Python < 3.12")
    _, venv = backend.create_venv("venv-newest", newest=True)
    vpy = os.path.join(venv, "bin", "python")
    project = backend.write_project("proj", "needstools", "1.0.0", ["setuptools"])
    constraints = backend.write("constraints.txt", "")
    setuptools = (backend.machine.versions() if backend.name == "real" else backend.versions)["setuptools"]
    result = backend.host.proc.run(pip_install_argv(vpy, constraints, project), env=backend.tool_env(venv))
    assert result.returncode == 0, result.stderr
    freeze = backend.host.proc.run(pip_freeze_argv(vpy), env=backend.tool_env(venv))
    assert (freeze.returncode, freeze.stdout) == (0, "setuptools==%s\n" % setuptools)


def test_pip_install_a_missing_project_dir_fails(backend):
    require_wheelhouse(backend)
    _, venv = backend.create_venv()
    vpy = os.path.join(venv, "bin", "python")
    constraints = backend.write("constraints.txt", "")
    backend.mkdir("empty")
    result = backend.host.proc.run(pip_install_argv(vpy, constraints, backend.path("empty")),
                                   env=backend.tool_env(venv))
    assert result.returncode == 1
    assert backend.norm(result.stderr).strip().splitlines()[-1] == (
        "ERROR: file://<ROOT>/empty does not appear to be a Python project: neither 'setup.py' nor "
        "'pyproject.toml' found.")


# --- uv --------------------------------------------------------------------------------------------------


def test_uv_tool_venv_gets_uv_with_the_kernels_argv(backend):
    created, installed, uv = backend.uv_tool()
    assert (created.returncode, installed.returncode) == (0, 0), installed.stderr
    assert "Successfully installed uv-%s" % uv_version(backend) in installed.stdout.splitlines()[-1]
    assert os.access(uv, os.X_OK)
    version = backend.host.proc.run([uv, "--version"])
    assert (version.returncode, version.stdout.split()[:2]) == (0, ["uv", uv_version(backend)])


def test_uv_version_line(backend):
    backend.known_difference("F7: the real `uv --version` prints `uv X.Y.Z (<target triple>)`; the fake prints "
                             "`uv X.Y.Z`")
    _, _, uv = backend.uv_tool()
    version = backend.host.proc.run([uv, "--version"])
    assert re.match(r"^uv \d+\.\d+\.\d+ \(.+\)\n$", version.stdout)


def uv_version(backend):
    return (backend.machine.versions() if backend.name == "real" else backend.versions)["uv"]


def uv_env(backend, shell: str = ""):
    """The tool env for uv, with $SHELL set as given (uv's activation hint depends on it; "" = none)."""
    env = backend.tool_env()
    env["UV_PYTHON_DOWNLOADS"] = "never"
    for name in ("SHELL", "NU_VERSION", "FISH_VERSION", "BASH_VERSION", "ZSH_VERSION", "KSH_VERSION"):
        env.pop(name, None)
    if shell:
        env["SHELL"] = shell
    return env


def test_uv_venv_install_and_freeze_with_the_kernels_argv(backend):
    require_wheelhouse(backend)
    _, _, uv = backend.uv_tool()
    venv = backend.path("uvenv")
    vpy = os.path.join(venv, "bin", "python")
    project = backend.write_project("proj", "tinyproj", "1.2.0", ["packaging"])
    packaging = (backend.machine.versions() if backend.name == "real" else backend.versions)["packaging"]
    constraints = backend.write("constraints.txt", "packaging==%s\n" % packaging)
    proc, fs = backend.host.proc, backend.host.fs
    # create
    created = proc.run([uv, "venv", "--no-python-downloads", "--python", backend.python, venv], env=uv_env(backend))
    assert created.returncode == 0, created.stderr
    assert created.stderr.splitlines()[0] == "Using CPython %s interpreter at: %s" % (backend.version, backend.python)
    real = backend.facts.real_python
    assert fs.read_text(os.path.join(venv, "pyvenv.cfg")) == (
        "home = %s\nimplementation = CPython\nuv = %s\nversion_info = %s\ninclude-system-site-packages = false\n"
        % (os.path.dirname(real), uv_version(backend), backend.version))
    names = ("python", "python3", "python" + backend.facts.short_version)
    assert [fs.read_link(os.path.join(venv, "bin", n)) for n in names] == [backend.python, "python", "python"]
    probe = proc.run([vpy, "-E", "-s", "-c", PROBE])
    assert backend.norm(probe.stdout.splitlines()) == [backend.version, "<ROOT>/uvenv/bin/python", "<ROOT>/uvenv",
                                                       backend.facts.prefix]
    site = site_packages(backend, venv)
    assert [n for n in fs.list_dir(site) if n.endswith(".dist-info")] == []  # no pip
    # install
    installed = proc.run([uv, "pip", "install", "--python", vpy, "--compile-bytecode", "--constraint", constraints,
                          "--editable", project], env=uv_env(backend))
    assert installed.returncode == 0, installed.stderr
    lines = backend.norm(installed.stderr.splitlines())
    assert [line for line in lines if line.startswith((" + ", " - "))] == [
        " + packaging==%s" % packaging, " + tinyproj==1.2.0 (from file://<ROOT>/proj)"]
    assert [re.sub(r" in .*", "", line) for line in lines if line.startswith(("Resolved", "Installed"))] == [
        "Resolved 2 packages", "Installed 2 packages"]
    uv_dist = dist_info(backend, site, "tinyproj", "1.2.0")
    assert backend.norm(uv_dist["direct_url"]) == {"url": "file://<ROOT>/proj", "dir_info": {"editable": True}}
    assert uv_dist["installer"].strip() == "uv"
    # freeze
    freeze = proc.run([uv, "pip", "freeze", "--exclude-editable", "--python", vpy], env=uv_env(backend))
    assert (freeze.returncode, freeze.stdout) == (0, "packaging==%s\n" % packaging)
    everything = proc.run([uv, "pip", "freeze", "--python", vpy], env=uv_env(backend))
    assert backend.norm(everything.stdout) == "packaging==%s\n-e file://<ROOT>/proj\n" % packaging
    # the same install again: uv 0.13 rebuilds the editable and reinstalls it
    again = proc.run([uv, "pip", "install", "--python", vpy, "--compile-bytecode", "--constraint", constraints,
                      "--editable", project], env=uv_env(backend))
    assert again.returncode == 0
    # last, the differences this flow shows
    backend.known_difference("F10: uv writes INSTALLER as `uv` without a newline; the fake writes `uv\\n`. "
                             "F11: uv reinstalls an editable given again (` ~ name==v`); the fake audits it")
    assert [re.sub(r" in .*", "", line) for line in backend.norm(again.stderr.splitlines())
            if line.startswith(("Audited", "Installed", "Uninstalled", " ~ ", " + ", " - "))] == [
        "Uninstalled 1 package", "Installed 1 package", " ~ tinyproj==1.2.0 (from file://<ROOT>/proj)"]
    assert uv_dist["installer"] == "uv"


def test_uv_venv_output_names_a_venv_under_the_cwd_relative_to_it(backend):
    _, _, uv = backend.uv_tool()
    assert backend.norm(backend.host.env.cwd()) == "<ROOT>"
    created = backend.host.proc.run([uv, "venv", "-q", "--no-python-downloads", "--python", backend.python,
                                     backend.path("quiet")], env=uv_env(backend))
    assert (created.returncode, created.stderr) == (0, "")
    created = backend.host.proc.run([uv, "venv", "--no-python-downloads", "--python", backend.python,
                                     backend.path("uvenv")], env=uv_env(backend, shell="/bin/bash"))
    assert created.stderr.splitlines()[1:] == ["Creating virtual environment at: uvenv",
                                               "Activate with: source uvenv/bin/activate"]


@pytest.mark.parametrize("shell, extra, hint", [
    ("/bin/bash", {}, "source v/bin/activate"), ("/bin/ksh", {}, ". v/bin/activate"),
    ("/usr/bin/fish", {}, "source v/bin/activate.fish"), ("/bin/sh", {}, None), ("", {}, None),
    ("", {"BASH_VERSION": "5.2"}, "source v/bin/activate"), ("/usr/bin/fish", {"BASH_VERSION": "5.2"}, "source v/bin/activate"),
])
def test_uv_venv_activation_hint_follows_the_shell(backend, shell, extra, hint):
    """The hint depends on the shell uv detects (a CI job often has none): the kernel must not rely on it."""
    _, _, uv = backend.uv_tool()
    env = uv_env(backend, shell=shell)
    env.update(extra)
    created = backend.host.proc.run([uv, "venv", "--no-python-downloads", "--python", backend.python,
                                     backend.path("v")], env=env)
    assert created.returncode == 0
    assert created.stderr.splitlines()[2:] == ([] if hint is None else ["Activate with: " + hint])


@pytest.mark.parametrize("target, options, env, expected", [
    ("venv", [], {}, "A virtual environment already exists at: v"),
    ("venv", ["--clear"], {}, None),
    ("venv", [], {"UV_VENV_CLEAR": "1"}, None),
    ("venv", ["--allow-existing"], {}, None),
    ("dir", [], {}, "A directory already exists at: v"),
    ("dir", ["--clear"], {}, "uv will not clear a directory that is not a virtual environment"),
    ("dir", ["--allow-existing"], {}, None),
    ("empty", [], {}, None),
    ("file", ["--clear"], {}, "File exists at `v`"),
])
def test_uv_venv_over_an_existing_target(backend, target, options, env, expected):
    """uv 0.13 refuses an existing target unless told what to do; the kernel always creates a venv where
    nothing is (a broken one is moved aside first)."""
    _, _, uv = backend.uv_tool()
    v = backend.path("v")
    if target == "venv":
        assert backend.host.proc.run([uv, "venv", "-q", "--python", backend.python, v],
                                     env=uv_env(backend)).returncode == 0
    elif target in ("dir", "empty"):
        os.makedirs(v)
        if target == "dir":
            backend.write("v/keep.txt", "mine\n")
    else:
        backend.write("v", "a file\n")
    run_env = uv_env(backend)
    run_env.update(env)
    created = backend.host.proc.run([uv, "venv", "-q", "--no-python-downloads", "--python", backend.python]
                                    + options + [v], env=run_env)
    if expected is None:
        assert (created.returncode, created.stderr) == (0, "")
        assert os.path.isfile(os.path.join(v, "pyvenv.cfg"))
    else:
        assert created.returncode == 2
        assert expected in created.stderr
    if target == "dir":
        assert os.path.isfile(os.path.join(v, "keep.txt"))


def test_uv_pip_install_against_a_contradicting_constraint_fails_and_installs_nothing(backend):
    """(With uv: it reads the project's static metadata without a build, so this costs nothing; pip would
    build the project first.)"""
    require_wheelhouse(backend)
    _, _, uv = backend.uv_tool()
    venv = backend.path("uvenv")
    vpy = os.path.join(venv, "bin", "python")
    project = backend.write_project("other", "otherproj", "0.1.0", ["packaging"])
    constraints = backend.write("constraints.txt", "packaging==0.0.1\n")
    proc = backend.host.proc
    created = proc.run([uv, "venv", "-q", "--no-python-downloads", "--python", backend.python, venv],
                       env=uv_env(backend))
    assert created.returncode == 0, created.stderr
    result = proc.run([uv, "pip", "install", "--python", vpy, "--compile-bytecode", "--constraint", constraints,
                       "--editable", project], env=uv_env(backend))
    assert result.returncode == 1
    assert "No solution found when resolving dependencies" in result.stderr
    assert backend.host.fs.list_dir(site_packages(backend, venv)) == []


def test_uv_venv_with_a_missing_python_fails(backend):
    _, _, uv = backend.uv_tool()
    result = backend.host.proc.run([uv, "venv", "--no-python-downloads", "--python", backend.path("nope"),
                                    backend.path("uvenv")], env=uv_env(backend))
    assert result.returncode == 2
    assert not backend.host.fs.exists(os.path.join(backend.path("uvenv"), "pyvenv.cfg"))


# --- shells run as commands ------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELL_PATHS)
def test_shell_dash_c_runs_or_is_missing(backend, shell):
    result = backend.host.proc.run([shell, "-c", ":"])
    missing = (127, "", "cannot run %s: No such file or directory" % shell)
    expected = (0, "", "") if shell in backend.facts.shells else missing
    assert (result.returncode, result.stdout, result.stderr) == expected


def test_shell_dash_c_sees_the_given_env_and_cwd(backend):
    if "/bin/bash" not in backend.facts.shells:
        pytest.skip("no /bin/bash on this machine")
    env = {"PATH": "/usr/bin:/bin", "CONTRACT_A": "a value", "CONTRACT_B": "b=c d"}
    cwd = backend.mkdir("work")
    result = backend.host.proc.run(["/bin/bash", "-c", SHELL_REPORT], env=env, cwd=cwd)
    assert result.returncode == 0
    assert backend.norm(backend.run_seen(result)) == {
        "cwd": "<ROOT>/work", "contract_env": {"CONTRACT_A": "a value", "CONTRACT_B": "b=c d"}}


@pytest.mark.parametrize("code", [0, 5])
def test_shell_dash_c_exit_code_is_the_commands(backend, code):
    if code:
        backend.known_difference("F5: the fake shell does not interpret -c CMD: `run` of it always gives 0")
    if "/bin/sh" not in backend.facts.shells:
        pytest.skip("no /bin/sh on this machine")
    assert backend.host.proc.run(["/bin/sh", "-c", "exit %d" % code]).returncode == code
