"""A client repo tests its own bootstrap: a world made from the repo as committed (`World.add_repo`, the key
`repo`, the fixture `repo_world`), the fake index seeded from its constraints files, its own client code
run in simulation (the main "import"). docs/client-testing.md is the guide."""

import os
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest

from plugin_loading import PLUGIN_ARGS

from protoprimer_harness import HarnessError, World
from protoprimer_harness.errors import UnknownMainError
from protoprimer_harness.scenario import ScenarioError, load_scenario
from protoprimer_harness.world import repo_files
from protoprimer_harness._repo import parse_pins

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git(repo, *args):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("GIT_"))
    env.update(GIT_CONFIG_NOSYSTEM="1", HOME=str(repo))  # nobody's global config, hooks or signing
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
                   + list(args), cwd=str(repo), env=env, check=True, stdout=subprocess.DEVNULL)


def write(root, rel, text, executable=False):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(0o755)
    return path


def world_files(session, root="/repo"):
    """Every file and symlink under `root` in the world, relative to it, sorted."""
    found = []
    for dir_path, dir_names, file_names in os.walk(root):
        for name in file_names + [d for d in dir_names if os.path.islink(os.path.join(dir_path, d))]:
            found.append(os.path.relpath(os.path.join(dir_path, name), root))
    return sorted(found)


def kernel_generated(directory):
    """A directory as the kernel makes it in a repo: a `.gitignore` of `*` and something in it."""
    write(directory, ".gitignore", "*\n")
    write(directory, "something.txt", "generated\n")


def client_repo(root):
    """A small client repo: configs, an entry script, a pyproject, a symlink, an executable; plus what a
    booted checkout holds and is not the repo's (a venv, logs, the lconf link, caches)."""
    write(root, ".gitignore", "/venv/\n/lconf\n/log/\n__pycache__/\n")
    write(root, "pyproject.toml", '[project]\nname = "client"\nversion = "0.1.0"\n')
    write(root, "proto_kernel.json", "{}\n")
    write(root, "prime", "#!/usr/bin/env python3\n# an entry script\n", executable=True)
    write(root, "src/client/__init__.py", "")
    os.symlink("src/client", str(root / "client_link"))
    write(root, "venv/pyvenv.cfg", "home = /usr/bin\n")
    write(root, "venv/bin/python", "")
    write(root, "log/prime.log", "a log\n")
    write(root, "src/client/__pycache__/x.cpython-311.pyc", "")
    os.symlink("dst/dev", str(root / "lconf"))
    kernel_generated(root / "cache")      # ignored by its own .gitignore, not by the repo's
    kernel_generated(root / "venv.ci")


REPO_FILES = [".gitignore", "client_link", "prime", "proto_kernel.json", "pyproject.toml", "src/client/__init__.py"]


# region: what comes in


@needs_git
def test_a_world_from_a_git_repo_holds_what_git_lists_not_its_venv_logs_or_caches(tmp_path):
    # given: a committed repo, booted (venv, logs, caches, lconf), with an untracked file not ignored
    repo = tmp_path / "repo"
    client_repo(repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    write(repo, "notes/draft.md", "not committed yet, not ignored\n")
    world = World().add_repo(str(repo))
    # when
    with world.activate() as session:
        files = world_files(session)
        link = session.read_link("client_link")
        prime_executable = os.access("/repo/prime", os.X_OK)
    # then
    assert files == sorted(REPO_FILES + ["notes/draft.md"])
    assert repo_files(str(repo)) == files
    assert link == "src/client"
    assert prime_executable


@needs_git
def test_a_repo_nested_in_a_work_tree_is_listed_by_git_relative_to_its_own_directory(tmp_path):
    # given: the client repo is a directory of a bigger work tree (as examples/full is of this repo)
    outer = tmp_path / "outer"
    write(outer, "top.txt", "not the client's\n")
    client_repo(outer / "examples" / "client")
    git(outer, "init", "-q")
    # when
    listed = repo_files(str(outer / "examples" / "client"))
    # then
    assert listed == REPO_FILES


@needs_git
def test_a_repo_its_work_tree_ignores_is_walked(tmp_path):
    # given: a copy of the repo under an ignored tmp/ of another work tree: git lists nothing of it
    outer = tmp_path / "outer"
    write(outer, ".gitignore", "/tmp/\n")
    client_repo(outer / "tmp" / "client")
    git(outer, "init", "-q")
    # when
    listed = repo_files(str(outer / "tmp" / "client"))
    # then
    assert listed == REPO_FILES


def test_outside_git_the_walk_skips_what_the_kernel_generates(tmp_path, monkeypatch):
    # given: no git at all, and a repo with every kind of generated thing
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    repo = tmp_path / "repo"
    client_repo(repo)
    write(repo, "tmp/venv.lock", "")
    write(repo, "build.egg-info/PKG-INFO", "")
    write(repo, ".git", "gitdir: /elsewhere\n")         # a worktree's .git file
    write(repo, "dst/dev/proto_kernel.json", "{}\n")
    kernel_generated(repo / "dst" / "dev" / "generated")  # deeper than the top: the .gitignore says it
    write(repo, "tools/venv2/pyvenv.cfg", "home = /usr/bin\n")  # a venv anywhere
    write(repo, "tools/run.sh", "#!/bin/sh\n", executable=True)
    # when
    listed = repo_files(str(repo))
    with World().add_repo(str(repo)).activate() as session:
        files = world_files(session)
        run_executable = os.access("/repo/tools/run.sh", os.X_OK)
    # then
    assert listed == sorted(REPO_FILES + ["dst/dev/proto_kernel.json", "tools/run.sh"])
    assert files == listed
    assert run_executable


def test_add_repo_of_a_missing_directory_fails_at_activation(tmp_path):
    world = World().add_repo(str(tmp_path / "nope"))

    with pytest.raises(HarnessError, match="add_repo: .*nope is not a directory"):
        world.activate().close()  # closed when it does not raise


def test_files_a_scenario_adds_replace_the_repos_and_remove_drops_them(tmp_path):
    # given
    repo = tmp_path / "repo"
    write(repo, "proto_kernel.json", "{}\n")
    write(repo, "README.md", "hi\n")
    world = World().add_repo(str(repo)).add_file("proto_kernel.json", '{"x": 1}\n').remove("README.md")
    # when
    with world.activate() as session:
        text = session.read_text("proto_kernel.json")
        readme = session.exists("README.md")
    # then
    assert text == '{"x": 1}\n'
    assert not readme


# endregion: what comes in

# region: the index seeded from constraints


def test_pins_are_the_exact_name_version_lines_of_a_constraints_file():
    text = textwrap.dedent("""\
        # pinned by ./prime
        requests==2.31.0
        Charset_Normalizer == 3.3.2   # a comment after the pin
        idna==3.6 ; python_version >= "3.8"
        urllib3==2.2.1 \\
            --hash=sha256:abc
        rich[jupyter]==13.7.1
        -c other.txt
        -r more.txt
        -e ./local
        --index-url https://example.org/simple
        six>=1.16
        attrs==23.*
        pkg @ https://example.org/pkg.whl

        """)

    assert parse_pins(text) == [("requests", "2.31.0"), ("Charset_Normalizer", "3.3.2"), ("idna", "3.6"),
                                ("urllib3", "2.2.1"), ("rich", "13.7.1")]


def test_a_pin_that_is_not_a_version_is_refused_naming_the_file_and_line():
    with pytest.raises(ValueError, match=r"dst/prod/constraints.txt, line 2: requests==two: 'two' is not a version"):
        parse_pins("idna==3.6\nrequests==two\n", "dst/prod/constraints.txt")


def index_releases(session):
    index = session.session_state.index
    return dict((name, [(r.version, r.dependencies) for r in index.releases(name)]) for name in index.names())


def test_the_repos_constraints_files_seed_the_index_unless_the_world_has_that_release(tmp_path):
    # given: pins in two envs; the world declares one of the pinned releases with its dependencies
    repo = tmp_path / "repo"
    write(repo, "dst/dev/constraints.txt", "requests==2.31.0\nidna==3.6\n")
    write(repo, "dst/prod/constraints.txt", "requests==2.28.2\nidna==3.6\n")
    world = World().add_repo(str(repo)).add_package("requests", "2.31.0", ["idna>=3"])
    # when
    with world.activate() as session:
        releases = index_releases(session)
        seeded = session.seeded_packages
    # then
    assert seeded == [("idna", "3.6"), ("requests", "2.28.2")]
    assert releases["requests"] == [("2.28.2", ()), ("2.31.0", ("idna>=3",))]
    assert releases["idna"] == [("3.6", ())]
    assert "protoprimer" in releases and "uv" in releases  # the default index is still there


def test_the_constraints_basename_the_repos_config_names_is_seeded_too(tmp_path):
    # given
    repo = tmp_path / "repo"
    write(repo, "gconf/proto_kernel.json", '{"version_constraints_file_basename": "pins.txt"}\n')
    write(repo, "dst/dev/pins.txt", "attrs==23.2.0\n")
    write(repo, "dst/dev/constraints.txt", "six==1.16.0\n")
    # when
    with World().add_repo(str(repo)).activate() as session:
        seeded = session.seeded_packages
    # then
    assert seeded == [("six", "1.16.0"), ("attrs", "23.2.0")]


def test_a_repo_can_be_added_without_seeding_and_seeded_from_other_files_and_texts(tmp_path):
    # given
    repo = tmp_path / "repo"
    write(repo, "constraints.txt", "six==1.16.0\n")
    world = (World().add_repo(str(repo), seed_index=False)
             .add_file("locks/prod.txt", "attrs==23.2.0\n")
             .add_packages_from_constraints(path="locks/prod.txt")
             .add_packages_from_constraints(text="idna==3.6\n"))
    # when
    with world.activate() as session:
        seeded = session.seeded_packages
    # then
    assert seeded == [("attrs", "23.2.0"), ("idna", "3.6")]


def test_seeding_from_a_file_the_world_lacks_fails_at_activation_naming_it():
    world = World().add_packages_from_constraints(path="dst/prod/constraints.txt")

    with pytest.raises(HarnessError, match="seeded from the constraints file /repo/dst/prod/constraints.txt, but the "
                                           "world has no file there"):
        world.activate().close()  # closed when it does not raise


def test_the_pins_hold_when_the_index_has_newer_releases(tmp_path):
    # given: the repo pins idna 3.6; the index also has 3.7 (declared by the test)
    repo = tmp_path / "repo"
    write(repo, "pyproject.toml", '[project]\nname = "client"\nversion = "0.1.0"\ndependencies = ["idna"]\n')
    write(repo, "constraints.txt", "idna==3.6\n")
    write(repo, ".python-version", "3.11\n")
    world = (World().add_repo(str(repo)).add_kernel_copy("proto_kernel.py").add_interpreter("python3", "3.11.7")
             .add_package("idna", "3.7"))
    # when
    with world.activate() as session:
        outcome = session.run("./proto_kernel.py")
        pins = session.read_text("constraints.txt")
    # then
    outcome.assert_exit(0)
    assert "idna==3.6" in pins.splitlines()


# endregion: the index seeded from constraints

# region: the main "import"


@pytest.fixture
def client_package(tmp_path, monkeypatch):
    """A client package of a unique name on sys.path (removed from sys.modules afterwards): write(module,
    text) adds `<package>/<module>.py` and returns "<package>.<module>"."""
    package = "client_%s" % uuid.uuid4().hex[:8]
    source = tmp_path / "src"
    write(source, "%s/__init__.py" % package, "")
    monkeypatch.syspath_prepend(str(source))

    def add(module, text):
        write(source, "%s/%s.py" % (package, module), textwrap.dedent(text))
        return "%s.%s" % (package, module)

    yield add
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


STATES_MAIN = """\
    from protoprimer.meta import States

    states = States()


    @states.state(parents=["state_boot_completed", "state_local_venv_dir_abs_path_inited"])
    def greeted(ctx, p):
        ctx.host.fs.write_text(p["state_local_venv_dir_abs_path_inited"] + "/greeted.txt", "hello\\n")
        ctx.host.env.write_stdout("greeted in %s\\n" % p["state_local_venv_dir_abs_path_inited"])
        return 0


    states.target("greet", "greeted")


    def main(host=None):
        return states.run("greet", host=host)
    """


def test_an_imported_main_runs_the_clients_own_states_with_the_simulated_host(client_package):
    # given
    module = client_package("prime_env", STATES_MAIN)
    world = (World().apply_layout("min").add_interpreter("python3", "3.11.7")
             .add_entry_script("prime", "boot_env", module + ":main", "proto_kernel.py")
             .add_main(module + ":main", "import"))
    # when
    with world.activate() as session:
        outcome = session.run("./prime")
        greeted = session.read_text("venv/greeted.txt")
    # then
    outcome.assert_exit(0).assert_stdout(equals="greeted in /repo/venv\n")
    assert greeted == "hello\n"
    assert outcome.main_calls[-1].behaviour == "import"
    assert outcome.main_calls[-1].executable == "/repo/venv/bin/python"
    assert not os.path.exists("/repo/venv/greeted.txt")  # the real machine was not touched


def test_an_imported_main_without_a_host_parameter_is_refused_at_activation(client_package):
    # given
    module = client_package("prime_env", """\
        def main():
            return 0
        """)
    world = World().add_main(module + ":main", "import")
    # when
    with pytest.raises(HarnessError) as raised:
        world.activate().close()  # closed when it does not raise
    # then
    message = str(raised.value)
    assert "the main '%s:main' = \"import\": main() takes no `host` parameter" % module in message
    assert "Write it as `def main(host=None)`" in message


def test_an_imported_main_whose_module_cannot_be_imported_says_how_to_make_it_importable():
    world = World().add_main("no_such_client_pkg.prime_env:main", "import")

    with pytest.raises(HarnessError, match=r"cannot import no_such_client_pkg.prime_env \(ModuleNotFoundError.*"
                                           r"pythonpath = src"):
        world.activate().close()  # closed when it does not raise


def test_a_client_module_importing_proto_kernel_at_its_top_is_explained(client_package, monkeypatch):
    monkeypatch.delitem(sys.modules, "proto_kernel", raising=False)  # ./cmd/test registered this repo's copy
    module = client_package("prime_env", """\
        import proto_kernel

        def main(host=None):
            return 0
        """)
    world = World().add_main(module + ":main", "import")

    with pytest.raises(HarnessError, match="imports proto_kernel when it is imported"):
        world.activate().close()  # closed when it does not raise


def test_a_main_the_world_does_not_name_says_how_to_import_it():
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")

    with world.activate() as session:
        with pytest.raises(UnknownMainError, match=r'add it as `World.add_main\(\'client.main:main\', "import"\)`'):
            session.run("./prime")


# endregion: the main "import"

# region: scenario keys and the fixture


def scenario_file(directory, text):
    path = directory / "scenarios" / "s.toml"
    write(directory, "scenarios/s.toml", textwrap.dedent(text))
    return str(path)


def test_the_repo_key_is_relative_to_the_scenario_file_and_must_be_a_directory(tmp_path):
    # given
    path = scenario_file(tmp_path, """\
        format = 1
        title = "t"
        [given]
        repo = "../nope"
        [when]
        run = "./prime"
        [then]
        exit = 0
        """)
    # when
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path, file_name="s.toml")
    # then
    assert "given.repo: '../nope' is not a directory (a relative path is relative to the scenario file's directory" \
        in str(raised.value)


def test_a_scenario_with_repo_and_index_from_constraints_builds_its_world(tmp_path):
    # given: the scenario's own file seeds the index; the repo's does too
    write(tmp_path, "constraints.txt", "six==1.16.0\n")
    write(tmp_path, "proto_kernel.json", "{}\n")
    path = scenario_file(tmp_path, """\
        format = 1
        title = "t"
        [given]
        repo = ".."
        index_from_constraints = ["extra/pins.txt"]
        [given.files]
        "extra/pins.txt" = "attrs==23.2.0\\n"
        [when]
        run = "./no_such_program"
        [then]
        exit = 127
        """)
    scenario = load_scenario(path, file_name="s.toml")
    # when
    with scenario.build_world().activate() as session:
        seeded = session.seeded_packages
        files = world_files(session)
    # then
    assert scenario.given.repo == str(tmp_path)
    assert seeded == [("six", "1.16.0"), ("attrs", "23.2.0")]
    assert "scenarios/s.toml" in files and "constraints.txt" in files





def test_the_repo_world_fixture_makes_worlds_from_the_rootdir_as_committed(pytester):
    # given: a client repo whose pytest rootdir is its root, booted (a venv, a log)
    pytester.makeini("[pytest]\n")
    client_repo(pytester.path)
    pytester.makepyfile(test_repo="""
        import os

        def test_repo(repo_world):
            world = repo_world()
            session = world.activate()  # never left by the test: the fixture closes it
            assert session.read_text("proto_kernel.json") == "{}\\n"
            assert os.path.exists("/repo/test_repo.py")
            assert not os.path.exists("/repo/venv") and not os.path.exists("/repo/log")

        def test_another_dir_and_root(repo_world):
            with repo_world("src", root="/home/me/src").activate() as session:
                assert session.exists("client/__init__.py")

        def test_real_filesystem_is_back():
            assert not os.path.exists("/repo/proto_kernel.json")
        """)
    # when
    result = pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider")
    # then
    result.assert_outcomes(passed=3)


# endregion: scenario keys and the fixture
