"""Tapes never hold secrets (docs/security.md): every string a tape stores goes through the kernel's
`redact`, on recording and on the comparison of a replay, and environment values outside the allow-list are
stored as REDACTED."""

from protoprimer_harness._tape_format import REDACTED, canonical_args, plain, redact_env


def test_strings_of_a_recorded_call_have_url_passwords_and_secret_values_hidden():
    argv = ["pip", "install", "--index-url", "https://bob:s3cret@pypi.example/simple", "x"]
    assert plain(argv)[3] == "https://bob:***@pypi.example/simple"
    assert plain({"cmd": "API_TOKEN=abc make"}) == {"cmd": "API_TOKEN=*** make"}
    assert plain(("pkg @ https://u:p@host/pkg.whl",)) == ["pkg @ https://u:***@host/pkg.whl"]


def test_a_replay_compares_calls_in_the_same_redacted_form():
    import inspect

    def run(argv, env=None):
        return argv

    signature = inspect.signature(run)
    recorded = canonical_args(signature, (["curl", "https://bob:s3cret@host"],), {})
    replayed = canonical_args(signature, (["curl", "https://bob:s3cret@host"],), {})
    assert recorded == replayed == [["curl", "https://bob:***@host"]]


def test_environment_values_outside_the_allow_list_are_not_stored():
    assert redact_env({"PATH": "/usr/bin", "GITHUB_TOKEN": "ghp_x", "PIP_INDEX_URL": "https://u:p@h"}) == {
        "GITHUB_TOKEN": REDACTED, "PATH": "/usr/bin", "PIP_INDEX_URL": REDACTED}
