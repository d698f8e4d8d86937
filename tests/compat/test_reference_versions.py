"""Required versions as repos written for the reference have them, and `eval` as a check.

Cheap on purpose: the repos are written per test (a fraction of a second each) and most runs stop before a
venv is needed (`eval`, or a boot that fails on the config); one test boots for real (a cold boot, about
8 s), to see that a pre-release form selects the interpreter it names.
"""

import os

import pytest

from compat_repos import error_lines, find_key, json_documents, one_tagged, write_reference_repo

PRE_RELEASE_FORMS = {
    "rc": "{major}.{minor}rc2",
    "beta": "{major}.{minor}b5",
    "dash-beta": "{major}.{minor}.{micro}-beta.2",
}


def pre_release_version(machine, form):
    major, minor, micro = (int(part) for part in machine.full_version(machine.primary).split("."))
    return PRE_RELEASE_FORMS[form].format(major=major, minor=minor, micro=micro)


def instant_repo(machine, artefacts, root, version):
    """An instant-layout repo with `.python-version` holding `version` (None: no `.python-version`), and
    `./prime` the reference's boot_env of client.app:run (boot_env("") has a test of its own)."""
    repo = write_reference_repo(machine, artefacts, root, [("boot_env", "prime", "client.app:run")], layout="instant")
    if version is None:
        os.remove(repo.path(".python-version"))
    else:
        repo.write(".python-version", version + "\n")
    return repo


def selected_python(run):
    """The interpreter `eval` reports as selected (state_selected_python_file_abs_path_inited)."""
    try:
        documents = json_documents(run.stdout)
    except ValueError as e:
        raise AssertionError("eval printed no JSON (%s):\n%s" % (e, run.describe()))
    found = set(find_key(documents, "state_selected_python_file_abs_path_inited"))
    assert len(found) == 1, "expected one selected python in the eval output, found %s:\n%s" % (found, run.describe())
    return found.pop()


@pytest.mark.parametrize("form", sorted(PRE_RELEASE_FORMS))
def test_pre_release_required_version_is_accepted_by_eval(real_machine, artefacts, tmp_path, form):
    """Case 7: `.python-version` in a pre-release form the reference accepted ("3.11rc2", "3.11b5",
    "3.11.7-beta.2", from the primary interpreter's real version): `./prime eval` exits 0 and selects the
    primary interpreter (matched by the numeric prefix)."""
    repo = instant_repo(real_machine, artefacts, tmp_path / "repo", pre_release_version(real_machine, form))
    run = repo.prime("eval").assert_ok()
    assert os.path.realpath(selected_python(run)) == os.path.realpath(real_machine.python(real_machine.primary)), run.describe()
    assert not os.path.exists(repo.venv().dir), "eval built a venv:\n" + run.describe()


def test_pre_release_required_version_boots_with_the_primary_interpreter(real_machine, artefacts, tmp_path):
    """Case 7, one real boot: `.python-version` "3.11rc2": `./prime` exits 0 and its main runs in the venv,
    made from the primary interpreter."""
    repo = instant_repo(real_machine, artefacts, tmp_path / "repo", pre_release_version(real_machine, "rc"))
    run = repo.prime().assert_ok()
    assert one_tagged(run, "RUN-PREFIX") == os.path.realpath(repo.venv().dir), run.describe()
    assert one_tagged(run, "RUN-VERSION") == real_machine.full_version(real_machine.primary), run.describe()


def _no_python_version_above(path):
    path = os.path.realpath(path)
    while True:
        assert not os.path.exists(os.path.join(path, ".python-version")), (
            "%s/.python-version exists: the test needs a tree with no required version anywhere" % path)
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


@pytest.mark.parametrize(
    "version, code",
    [(None, 3), ("3.99", 5)],
    ids=["no-required-version", "no-matching-interpreter"],
)
def test_eval_fails_like_a_boot_on_the_same_config(real_machine, artefacts, tmp_path, version, code):
    """Case 8: `eval` is a check: with no required version anywhere (exit 3) or one no interpreter has
    (exit 5), `./prime eval` exits with the same code and the same ERROR line as `./prime`."""
    repo = instant_repo(real_machine, artefacts, tmp_path / "repo", version)
    if version is None:
        _no_python_version_above(repo.root)
    boot = repo.prime()
    check = repo.prime("eval")
    assert boot.code == code, boot.describe()
    assert check.code == code, check.describe()
    assert error_lines(boot), "no ERROR line:\n" + boot.describe()
    assert error_lines(check) == error_lines(boot), "\n\n".join([boot.describe(), check.describe()])
    assert not os.path.exists(repo.venv().dir)
