"""Repos laid out as real repos written for the reference are: a python selector in the global config,
the reference's kernel itself as the committed copy, entry scripts in a subdirectory.

Each test boots a repo of its own cold (about 8-15 s each): what is checked is the cold boot itself
(which interpreter the venv is made from, the handover from the reference's copy, the paths of a
subdirectory layout), so no repo is shared.
"""

import ast
import os
import subprocess

from client_repos import version_text
from compat_repos import PYTHON_SELECTOR, kernel_body, one_tagged, version_line, write_reference_repo

MAX_LAYOUT = dict(layout="max", envs={"dst/default": {}}, default_env="dst/default")


def venv_version(repo):
    out = subprocess.run([repo.venv().python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_python_selector_written_for_the_reference_picks_the_venv_interpreter(real_machine, artefacts, tmp_path):
    """Case 6: `python_selector_file_rel_path` in gconf/proto_kernel.json names a selector that unpacks a
    3-tuple of ints (`major, minor, patch = required_version`) and returns `which pythonX.Y`: `./prime`
    exits 0, the selector was called with (X, Y, 0), and the venv is made from that interpreter (the
    version other than python3's when this machine has one), which runs the main."""
    target = real_machine.other_version() or real_machine.primary
    repo = write_reference_repo(
        real_machine, artefacts, tmp_path / "repo", [("boot_env", "prime", "client.app:run")],
        python_version=version_text(target),
        global_conf={"python_selector_file_rel_path": "cmd/python_selector.py"},
        files={"cmd/python_selector.py": PYTHON_SELECTOR},
        **MAX_LAYOUT
    )
    run = repo.prime()
    calls_file = repo.path("cmd", "selector-calls.txt")
    calls = repo.read("cmd/selector-calls.txt").splitlines() if os.path.isfile(calls_file) else []
    run.assert_ok()
    assert calls, "the selector was never called:\n" + run.describe()
    for call in calls:
        argument, _, answer = call.partition(" -> ")
        assert ast.literal_eval(argument) == tuple(target) + (0,), calls
    assert venv_version(repo) == real_machine.full_version(target), run.describe()
    assert one_tagged(run, "RUN-VERSION") == real_machine.full_version(target), run.describe()


def test_reference_kernel_as_the_committed_copy_hands_over_and_is_refreshed(real_machine, artefacts, tmp_path):
    """Case 10: a repo whose committed copy is the reference's kernel (max layout, venv_pip) and whose
    project depends on protoprimer (our wheel): `./prime` (the reference's boot_env of client.app:run) exits
    0 with the main run in the venv, our installed kernel took over and refreshed the copy to our kernel;
    the next `./prime` (now our copy) exits 0 and runs the main in the venv too."""
    ours = real_machine.kernel_text
    repo = write_reference_repo(
        real_machine, artefacts, tmp_path / "repo", [("boot_env", "prime", "client.app:run")],
        copy_text=artefacts.reference_kernel_text, dependencies=["protoprimer"],
        global_conf={"venv_driver": "venv_pip"}, **MAX_LAYOUT
    )
    assert version_line(repo.read(repo.kernel_rel)) == artefacts.reference_version
    run = repo.prime().assert_ok()
    venv_dir = os.path.realpath(repo.venv().dir)
    assert one_tagged(run, "RUN-PREFIX") == venv_dir, run.describe()
    assert "protoprimer-%s.dist-info" % real_machine.kernel.__version__ in repo.venv().dist_infos(), run.describe()
    copy = repo.read(repo.kernel_rel)
    assert version_line(copy) == real_machine.kernel.__version__, "the copy was not refreshed:\n" + run.describe()
    assert kernel_body(copy) == kernel_body(ours), "the copy is not our kernel modulo the generated header"
    assert os.access(repo.kernel_copy, os.X_OK)
    again = repo.prime().assert_ok()
    assert one_tagged(again, "RUN-PREFIX") == venv_dir, again.describe()


def test_entry_script_in_a_subdirectory_with_its_copy_in_proto_code(real_machine, artefacts, tmp_path):
    """Case 11: the copy at exe/proto_code/proto_kernel.py (its primer file puts the ref root two levels up)
    and `exe/prime` written by the reference's wrap (loading `proto_code/proto_kernel.py` relative to
    itself): it boots, builds <root>/venv and runs its main there."""
    repo = write_reference_repo(
        real_machine, artefacts, tmp_path / "repo", [("boot_env", "exe/prime", "client.app:run")],
        kernel_rel="exe/proto_code/proto_kernel.py",
        files={"exe/proto_code/proto_kernel.json": {"ref_root_dir_rel_path": "../.."}},
    )
    assert '"proto_code/proto_kernel.py"' in repo.read("exe/prime")
    assert not os.path.exists(repo.path("proto_kernel.py"))
    run = repo.run(["exe/prime"]).assert_ok()
    assert one_tagged(run, "RUN-PREFIX") == os.path.realpath(repo.venv().dir), run.describe()
    assert os.path.isfile(repo.venv().python)

