"""docs/client-testing.md is executed as written: its repo is seeded as its shell block says, each of its
blocks with a `file=PATH` is written there, and the repo's own pytest runs its scenario files and Python
tests through the installed plugin, as a client's CI does."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from plugin_loading import PLUGIN_ARGS

from protoprimer import primer_kernel

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "client-testing.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.S | re.M)
FILE_INFO = re.compile(r"\bfile=(\S+)")

# What the doc's "A repo to test" shell block says, and what this test does for each line.
SEED_COMMANDS = [
    "protoprimer init --layout max --python 3.11 shop",
    "cd shop",
    "python3 cmd/proto_code/proto_kernel.py wrap boot_env -s prime -m shop.prime_env:main --force",
    "git init",
]
MAIN = "shop.prime_env:main"


def blocks():
    """(language, file path or None, text) of every fenced block of the doc, in order."""
    found = []
    for language, info, text in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        match = FILE_INFO.search(info)
        found.append((language, match.group(1) if match else None, text))
    return found


def files():
    return [(path, text) for _, path, text in blocks() if path is not None]


def seed_block():
    shells = [text for language, path, text in blocks() if language == "sh" and "protoprimer init" in text]
    assert len(shells) == 1, "docs/client-testing.md should seed its repo in one sh block"
    return [line.strip() for line in shells[0].splitlines() if line.strip()]


def test_the_doc_seeds_its_repo_with_the_commands_this_test_runs():
    assert seed_block() == SEED_COMMANDS


def test_the_doc_has_the_files_of_both_walkthroughs():
    paths = [path for path, _ in files()]

    assert "dst/prod/proto_kernel.json" in paths and "dst/prod/constraints.txt" in paths
    assert "src/shop/prime_env.py" in paths and "tests/test_settings.py" in paths
    assert len([p for p in paths if p.startswith("scenarios/")]) == 3
    assert len(paths) == len(set(paths)), "a file is shown twice: %s" % paths


def test_every_toml_and_python_block_of_the_doc_parses():
    from protoprimer_harness._scenario_toml import toml_module

    tomllib = toml_module("the doc's TOML blocks")
    for language, path, text in blocks():
        if language == "toml":
            tomllib.loads(text)
        elif language == "python":
            compile(text, path or "<docs/client-testing.md>", "exec")


def seed_repo(root):
    """The doc's shell block, done in-process: `protoprimer init`, the kernel's `wrap` (the script it writes
    is `render_entry_script`'s, tests/examples/test_examples.py holds the two the same), `git init`."""
    from protoprimer.cli import main as protoprimer_cli

    assert protoprimer_cli(["init", "--layout", "max", "--python", "3.11", str(root)]) == 0
    prime = root / "prime"
    prime.write_text(primer_kernel.render_entry_script("boot_env", "cmd/proto_code/proto_kernel.py", MAIN),
                     encoding="utf-8")
    prime.chmod(0o755)
    if shutil.which("git"):
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("GIT_"))
        subprocess.run(["git", "init", "-q"], cwd=str(root), env=env, check=True)


def _plugin_args():
    return list(PLUGIN_ARGS)


def test_the_walkthroughs_pass_in_the_repo_the_doc_builds(tmp_path, capsys):
    # given: the repo of the doc
    root = tmp_path / "shop"
    seed_repo(root)
    capsys.readouterr()  # init's report
    for path, text in files():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(("PROTOPRIMER_", "PYTEST_", "GIT_")) and k not in ("VIRTUAL_ENV", "PYTHONPATH"))
    # when: its own pytest, in its directory
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"] + _plugin_args(),
                            cwd=str(root), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=300)
    # then
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^5 passed", result.stdout.splitlines()[-1]), output
