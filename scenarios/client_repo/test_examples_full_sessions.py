"""examples/full in one simulated world, through the `repo_world` fixture: a session of runs a developer
makes (boot, switch env, run the app, back), the repo's own client code in each (docs/client-testing.md)."""
import json

BOOT_MAIN = "demo_app.bootstrap:extend"
APP_MAIN = "demo_app.cli:main"


def example_world(repo_world):
    return (repo_world("examples/full").add_interpreter("python3", "3.11.7")
            .add_main(BOOT_MAIN, "import").add_main(APP_MAIN, "import"))


def test_a_developer_session_boots_switches_env_runs_the_app_and_switches_back(repo_world):
    with example_world(repo_world).activate() as session:
        dev = session.run("./prime")
        ci = session.run("./prime --env dst/ci")
        hello = session.run("./cmd/hello")
        back = session.run("./prime --env dst/dev")
        lconf = session.read_link("lconf")

    assert [json.loads(o.stdout)["env"] for o in (dev, ci, back)] == ["dst/dev", "dst/ci", "dst/dev"]
    hello.assert_exit(0).assert_stdout(equals="hello from dst/ci (no arguments)\n")
    assert hello.main_calls[-1].executable == "/repo/venv.ci/bin/python"
    # the dev venv built first is reused as it is (only its record of the last boot, for the fast path, is new)
    back.assert_exit(0).assert_unchanged(["venv/bin/", "venv/lib/", "venv/pyvenv.cfg", "venv/protoprimer.stamp"])
    assert lconf == "dst/dev"


def test_the_world_has_the_example_as_committed_and_nothing_the_kernel_generates(repo_world):
    with example_world(repo_world).activate() as session:
        gitignore = session.read_text(".gitignore")
        generated = [p for p in ("venv", "venv.ci", "lconf", "log", "tmp", "cache") if session.exists(p)]

    assert "/venv/" in gitignore
    assert generated == []
