"""The examples are client repos: their kernel copies are current, and examples/full's own bootstrap
scenarios pass when its pytest runs them through the protoprimer plugin, as a client would."""
import pathlib
import subprocess
import sys

import pytest

from protoprimer import primer_kernel as kernel

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
COPIES = ["instant/proto_kernel.py", "full/cmd/proto_code/proto_kernel.py"]


@pytest.mark.parametrize("copy", COPIES)
def test_the_examples_kernel_copies_are_current(copy):
    source = pathlib.Path(kernel.__file__).read_text(encoding="utf-8")
    assert (EXAMPLES / copy).read_text(encoding="utf-8") == kernel.generated_copy_text(source), (
        "examples/%s is stale: cp cmd/proto_code/proto_kernel.py examples/%s (after ./prime refreshed it)" % (copy, copy)
    )


def test_the_full_examples_scenarios_pass_under_its_own_pytest():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"], cwd=EXAMPLES / "full", capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scenario_files = list((EXAMPLES / "full" / "scenarios").glob("*.toml"))
    assert "%d passed" % len(scenario_files) in result.stdout, result.stdout


def test_the_examples_entry_scripts_are_what_wrap_writes():
    """wrap's default on POSIX: the fast form, its shell front finding the venv next to the repo root."""
    full = EXAMPLES / "full"
    assert (full / "prime").read_text() == kernel.render_fast_entry_script(
        "boot_env", "cmd/proto_code/proto_kernel.py", "demo_app.bootstrap:extend", "$here/venv"
    )
    assert (full / "cmd/hello").read_text() == kernel.render_fast_entry_script(
        "start_app", "proto_code/proto_kernel.py", "demo_app.cli:main", "$here/../venv")
