"""Contract tests: one test body, two backends.

Every test here takes the `backend` fixture, parametrised "fake" and "real" (pytest-subprocess's
`fake in [False, True]`, pyfakefs's RealFsTestMixin). The body sees the same small API on both:

- `backend.root`: an empty directory to work in (the test's tmp_path; on the fake backend the same path in
  the world's fake filesystem);
- `backend.host`: a `kernel.Host` - real: the kernel's real adapters; fake: the ports of a process opened
  in an activated harness world (`WorldSession.open_process`), whose filesystem port is the kernel's real
  adapter on pyfakefs;
- helpers that make files, links, interpreters, lock holders, venvs and processes the same way on both
  (`write`, `symlink`, `broken_python`, `hold_lock`, `create_venv`, `uv_tool`, `run_chain`, ...);
- `backend.norm(value)`: paths that differ between the backends replaced by placeholders (<ROOT>,
  <VENV>, ...), so the body compares both against one expectation.

The fake world mirrors this machine: simulated interpreters where the real ones are (every one
`protoprimer_harness._real_interpreters` finds, with the same symlinks and versions), and this test process's own
interpreter (its port process runs "as" it, so the environment facts agree); the pip version the real
interpreter's ensurepip bundles; the same shells; the wheelhouse's releases in the fake package index.
Environment of the port process: CONTRACT_VAR set, argv ["contract-test"], cwd the root (the real
backend monkeypatches this test process to match).

What is costly on the real backend is made once per session (`RealMachine`): the wheelhouse (setuptools,
wheel, packaging, uv; downloaded once, then installs run offline with PIP_NO_INDEX/UV_NO_INDEX), the venv
made by the kernel's `python -I -m venv` argv, one more of the newest Python 3.12+, and the uv tool venv
(the kernel's argv: `-m venv`, then `pip install uv`). Those venvs are created concurrently, and
`backend.create_venv()` / `backend.uv_tool()` hand the real backend the session's results; the fake
backend runs the same argv in its world. Real tests that cannot have what they need (no wheelhouse:
offline; no uv wheel; no Python 3.12) skip, saying why.

A difference the fake has from the real thing, once found, is recorded in the test with
`backend.known_difference("Fn: ...")`: the fake case is then an expected failure of an assertion (strict:
fixing the fake turns it into an XPASS failure, and the call must go; `--runxfail` shows them all).

Files: test_filesystem_port.py, test_process_port.py, test_environment_port.py (the ports),
test_process_replacement.py (execve, chains, shells as replacements), test_tools.py (venv, pip, uv, shells
as commands); contract_backends.py (the backends), contract_programs.py + chain_script.py (the program a
process chain runs, for real and as a stub kernel's main).
"""

import os

import pytest

from contract_backends import FakeBackend, MachineFacts, RealBackend, RealMachine, find_facts


@pytest.fixture(scope="session")
def machine_facts() -> MachineFacts:
    return find_facts()


@pytest.fixture(scope="session")
def real_machine(machine_facts, tmp_path_factory) -> RealMachine:
    return RealMachine(os.path.realpath(str(tmp_path_factory.mktemp("contract-machine"))), machine_facts)


@pytest.fixture(params=["fake", "real"])
def backend(request, tmp_path, monkeypatch, machine_facts, real_machine):
    root = os.path.realpath(str(tmp_path))
    if request.param == "fake":
        made = FakeBackend(request, root, machine_facts, real_machine, request.getfixturevalue("world"))
    else:
        made = RealBackend(request, root, machine_facts, real_machine, monkeypatch)
    try:
        yield made
    finally:
        made.close()
