"""Logs never hold secrets (docs/security.md): what the kernel writes to stderr and to the file log, at
every verbosity, has a URL's password and the value of a secret-looking NAME=value hidden."""

import os

import pytest

from protoprimer.primer_kernel import redact
from protoprimer_harness import World


@pytest.mark.parametrize("text, shown", [
    ("pip install --index-url https://bob:pw@pypi.example/simple x", "pip install --index-url https://bob:***@pypi.example/simple x"),
    ("bash -c 'API_TOKEN=abc make'", "bash -c 'API_TOKEN=*** make'"),
    ('GH_PASSWORD="x y" run', 'GH_PASSWORD=*** y" run'),
    ("AWS_SECRET_ACCESS_KEY=abc", "AWS_SECRET_ACCESS_KEY=***"),
    ("PIP_INDEX_URL=https://u:p@host/simple", "PIP_INDEX_URL=https://u:***@host/simple"),
    ("MY_AUTH=1 DB_CREDENTIALS=2 KEY=3", "MY_AUTH=*** DB_CREDENTIALS=*** KEY=***"),
])
def test_what_looks_secret_is_hidden(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize("text", [
    "see https://pypi.org/simple/x/", "http://user@host/path", "--keyring-provider=import", "PATH=/usr/bin:/bin",
    "monkey=banana", "key=value in lower case is an argument, not a variable", "TOKENS are fine without =",
])
def test_what_does_not_look_secret_is_kept(text):
    assert redact(text) == text


def test_a_password_in_a_failing_tools_output_reaches_no_log_at_any_verbosity():
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7").add_main("client.main:main", "report")
    world.add_fault("*-m pip install*--editable*", exit=1, stderr="ERROR: fetch https://bob:s3cret-pw@pypi.example/simple/ 401\n")
    with world.activate() as session:
        runs = [session.run(command) for command in ("./prime", "./prime -v", "./prime -vv")]
        log_dir = session.path("/repo/log")
        logs = [session.read_text(os.path.join(log_dir, name)) for name in sorted(os.listdir(log_dir)) if name.endswith(".log")]
    for outcome in runs:
        outcome.assert_exit(6)
    # at the default verbosity the kernel reports the tool's output itself; with -v the tool's own output
    # streams to the terminal as the tool writes it (pip hides passwords itself) and the kernel logs none of it
    assert "s3cret-pw" not in runs[0].stderr and "bob:***@pypi.example" in runs[0].stderr
    assert len(logs) == 3 and all("s3cret-pw" not in log for log in logs)
    assert "bob:***@" in logs[0]
