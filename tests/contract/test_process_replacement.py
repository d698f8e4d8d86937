"""Process replacement (`host.proc.replace`, execve): real interpreters running `chain_script.py` (which
calls the real adapter's replace) against the harness runner running the same program
(`contract_programs.chain_program`) as a stub kernel's main, where replace raises ProcessReplaced and the
runner starts the next process."""

import json
import os

import pytest

from contract_backends import CHAIN_SCRIPT_FILE, KERNEL_FILE, PROGRAMS_FILE, SHELL_REPORT
from contract_programs import EXIT_VARIABLE, NEXT_ARGV_VARIABLE, NEXT_ENV_VARIABLE

with open(CHAIN_SCRIPT_FILE, "r", encoding="utf-8") as _f:
    CHAIN_SCRIPT = _f.read()
BASE_ENV = {
    "CONTRACT_KERNEL_FILE": KERNEL_FILE,
    "CONTRACT_PROGRAMS_FILE": PROGRAMS_FILE,
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
}


def chain_env(next_argv=None, next_env=None, exit_code=None, **extra):
    env = dict(BASE_ENV, **extra)
    if next_argv is not None:
        env[NEXT_ARGV_VARIABLE] = json.dumps(next_argv)
        env[NEXT_ENV_VARIABLE] = json.dumps(next_env)
    if exit_code is not None:
        env[EXIT_VARIABLE] = str(exit_code)
    return env


def contract_vars(env):
    return {k: v for k, v in sorted(env.items()) if k.startswith("CONTRACT_")}


def observations(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_replace_runs_the_new_program_in_the_same_process_with_the_given_argv_and_env(backend):
    first = backend.write("first.py", CHAIN_SCRIPT)
    second = backend.write("second.py", CHAIN_SCRIPT)
    env1 = chain_env(exit_code=7, CONTRACT_ONLY_IN_SECOND="2")
    env0 = chain_env([backend.python, "-I", second, "arg1", "arg 2"], env1, CONTRACT_ONLY_IN_FIRST="1")
    # when
    chain = backend.run_chain([backend.python, first, "a0"], env0)
    # then
    assert chain.returncode == 7, chain.stderr
    seen = observations(chain.stdout)
    assert len(seen) == 2 and seen[0]["pid"] == seen[1]["pid"]
    for item in seen:
        del item["pid"]
    assert backend.norm(seen) == backend.norm([
        {"script": "first.py", "argv": [first, "a0"], "isolated": False, "contract_env": contract_vars(env0)},
        {"script": "second.py", "argv": [second, "arg1", "arg 2"], "isolated": True,
         "contract_env": contract_vars(env1)},
    ])


def test_replace_with_an_interpreter_found_through_a_symlink(backend):
    link = backend.symlink("bin/python", backend.python)
    first = backend.write("first.py", CHAIN_SCRIPT)
    second = backend.write("second.py", CHAIN_SCRIPT)
    chain = backend.run_chain([backend.python, first], chain_env([link, "-I", second], chain_env(exit_code=3)))
    scripts = [o["script"] for o in observations(chain.stdout)]
    assert (chain.returncode, scripts) == (3, ["first.py", "second.py"])


def test_replace_into_a_broken_interpreter_ends_with_its_failure(backend):
    broken = backend.broken_python("broken/bin/python" + backend.facts.short_version)
    first = backend.write("first.py", CHAIN_SCRIPT)
    chain = backend.run_chain([backend.python, first], chain_env([broken, "-I", first], chain_env()))
    assert (chain.returncode, [o["script"] for o in observations(chain.stdout)]) == (1, ["first.py"])
    assert chain.stderr.strip()


@pytest.mark.parametrize("what", ["missing", "not executable", "a directory", "a bare name", "dangling link"])
def test_replace_that_cannot_start_raises_oserror_and_returns_to_the_caller(backend, what):
    """execve fails in the calling process (nothing is replaced): the kernel sees the OSError."""
    backend.write("data.txt", "x\n")
    backend.mkdir("dir")
    backend.symlink("dangling", "nowhere")
    argv0 = {"missing": backend.path("missing"), "not executable": backend.path("data.txt"),
             "a directory": backend.path("dir"), "a bare name": "contract-no-such-program",
             "dangling link": backend.path("dangling")}[what]
    with pytest.raises(OSError) as raised:
        backend.host.proc.replace([argv0, "-c", "pass"], dict(BASE_ENV))
    expected = PermissionError if what in ("not executable", "a directory") else FileNotFoundError
    assert type(raised.value) is expected


# --- replacement into shells -----------------------------------------------------------------------------


def test_replace_into_a_shell_command(backend):
    if "/bin/bash" not in backend.facts.shells:
        pytest.skip("no /bin/bash on this machine")
    first = backend.write("first.py", CHAIN_SCRIPT)
    shell_env = dict(BASE_ENV, CONTRACT_VIRTUAL_ENV=backend.path("venv"), VIRTUAL_ENV=backend.path("venv"))
    chain = backend.run_chain([backend.python, first], chain_env(["/bin/bash", "-c", SHELL_REPORT], shell_env))
    assert chain.returncode == 0, chain.stderr
    python_pid = observations(chain.stdout)[0]["pid"]
    seen = backend.shell_seen(chain)
    assert seen["pid"] == python_pid
    assert backend.norm(seen["contract_env"]) == backend.norm(contract_vars(shell_env))


@pytest.mark.parametrize("code", [0, 3])
def test_replace_into_a_shell_command_exits_with_the_command_exit_code(backend, code):
    """`boot -c CMD` / `shell -c CMD`: the chain's exit code is the shell's."""
    if code != 0:
        backend.known_difference("F5: the fake shell does not interpret -c CMD: it always exits 0 (documented "
                                 "gap; a scenario cannot show `boot -c 'exit 3'` exiting 3)")
    if "/bin/sh" not in backend.facts.shells:
        pytest.skip("no /bin/sh on this machine")
    first = backend.write("first.py", CHAIN_SCRIPT)
    chain = backend.run_chain([backend.python, first], chain_env(["/bin/sh", "-c", "exit %d" % code], dict(BASE_ENV)))
    assert chain.returncode == code


def test_replace_into_an_interactive_bash_with_an_rc_file(backend):
    """stdin is not a terminal here: the real bash reads the rc file, then EOF, and exits 0."""
    if "/bin/bash" not in backend.facts.shells:
        pytest.skip("no /bin/bash on this machine")
    first = backend.write("first.py", CHAIN_SCRIPT)
    rc = backend.write("cache/shell/rc.bash", "CONTRACT_RC=1\n")
    chain = backend.run_chain([backend.python, first], chain_env(["/bin/bash", "--rcfile", rc, "-i"], dict(BASE_ENV)))
    assert chain.returncode == 0, chain.stderr


def test_replace_into_sh_with_an_rcfile_option_is_refused(backend):
    """The fake's sh is a POSIX sh that refuses --rcfile, as dash does (bash as sh would accept it)."""
    if os.path.basename(os.path.realpath("/bin/sh")) != "dash":
        pytest.skip("/bin/sh is not dash here")
    first = backend.write("first.py", CHAIN_SCRIPT)
    rc = backend.write("rc.sh", ":\n")
    chain = backend.run_chain([backend.python, first], chain_env(["/bin/sh", "--rcfile", rc, "-i"], dict(BASE_ENV)))
    assert chain.returncode == 2
