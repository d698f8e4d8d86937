"""This repo's own test suite: pytester for the plugin tests, and guards around every test.

Every test runs inside `protoprimer_env_guard`, `protoprimer_cwd_guard` and `protoprimer_fs_guard`
(from protoprimer_harness.plugin): a test that leaves os.environ or the cwd changed, or writes under the repo,
fails. Inherited PROTOPRIMER_* and VIRTUAL_ENV variables are removed at session start, so a developer's
shell (or a test run from inside a `./prime` chain) cannot steer the tests.
"""

import os

import pytest

from plugin_loading import plugin_is_installed


pytest_plugins = ["pytester"] + ([] if plugin_is_installed() else ["protoprimer_harness.plugin"])

STRIPPED_ENV_PREFIXES = ("PROTOPRIMER_",)
STRIPPED_ENV_NAMES = ("VIRTUAL_ENV",)


def pytest_configure(config):
    # hypothesis keeps caches in ./.hypothesis unless told otherwise: not under the repo (the fs guard)
    import tempfile

    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="hypothesis-"))
    try:
        from hypothesis import settings
    except ImportError:
        pass
    else:  # no example database under the repo (the fs guard would see it); derandomized for CI's sake
        settings.register_profile("protoprimer", database=None, derandomize=bool(os.environ.get("CI")))
        settings.load_profile("protoprimer")
    for name in list(os.environ):
        if name.startswith(STRIPPED_ENV_PREFIXES) or name in STRIPPED_ENV_NAMES:
            del os.environ[name]


@pytest.fixture(autouse=True)
def _protoprimer_guards(protoprimer_env_guard, protoprimer_cwd_guard, protoprimer_fs_guard):
    yield
