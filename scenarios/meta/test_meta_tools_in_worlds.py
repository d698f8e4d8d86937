"""The meta tools (`protoprimer graph`, `explain`, `config`) and the built-in meta states, in simulation:
each tool runs against the world a real `./prime` would meet (its host is a simulated process in the repo),
and its report is checked against what the run did (docs/meta-tools.md)."""

import json
import os
import re

import pytest

from meta_worlds import MAIN, FakePreCommit, add_pre_commit_to_venv
from protoprimer import config_report, explain, graph_view, meta_states
from protoprimer import primer_kernel as kernel
from protoprimer.meta import States
from protoprimer_harness import World
from protoprimer_harness._graph_check import walk_graph


# --- graph ------------------------------------------------------------------------------------------


def mermaid_edges(text):
    return set(tuple(line.strip().split(" --> ")) for line in text.splitlines() if " --> " in line)


def engine_edges(entry, mode, factories):
    """The edges the engine builds for a whole run at (entry, mode): phase 1 at (entry, None), then the
    mode's targets (the harness's own walker, which proves the graphs complete and acyclic)."""
    edges = set(walk_graph(factories, kernel.Coordinates(entry), "state_exec_mode_inited")[0])
    coords = kernel.Coordinates(entry, mode)
    for target in graph_view.default_targets(entry, mode)[1:]:
        edges.update(walk_graph(factories, coords, target)[0])
    return edges


@pytest.mark.parametrize("entry, mode", graph_view.coordinate_combinations(), ids=lambda v: str(v))
def test_every_coordinate_combination_renders_and_the_mermaid_edges_are_the_engines(entry, mode):
    view = graph_view.build(entry, mode)
    mermaid = graph_view.render_mermaid(view)
    text = graph_view.render_text(view)
    dot = graph_view.render_dot(view)
    assert view.problems == []
    assert mermaid_edges(mermaid) == engine_edges(entry, mode, dict(kernel.builtin_states()))
    assert mermaid.startswith("flowchart TD\n")
    assert text.splitlines()[0] == "graph of (%s, %s) to %s: %d states, %d edges" % (
        entry, mode, ", ".join(view.targets), len(view.states), len(view.edges))
    assert set(re.findall(r'"(\w+)" -> "(\w+)"', dot)) == mermaid_edges(mermaid)


def client_states():
    states = States()

    @states.state(parents=["state_boot_completed", "state_local_venv_dir_abs_path_inited"])
    def hello_printed(ctx, p):
        return 0

    states.target("hello", "hello_printed")
    return states


def test_client_states_are_in_the_graph_and_marked_and_a_client_target_resolves():
    view = graph_view.build(target="hello", states=client_states())
    mermaid = graph_view.render_mermaid(view)
    assert ("state_boot_completed", "hello_printed") in mermaid_edges(mermaid)
    assert "    class hello_printed client" in mermaid
    assert "hello_printed (client) <- state_boot_completed, state_local_venv_dir_abs_path_inited" in graph_view.render_text(view)


def test_an_unreachable_mode_is_refused():
    with pytest.raises(ValueError, match="start_app runs never reach mode_prime"):
        graph_view.build(kernel.EntryFunc.func_start_app, kernel.ExecMode.mode_prime)


def test_the_graph_tool_from_the_command_line(capsys, monkeypatch):
    from protoprimer import cli

    module = type(os)("graph_client_states")
    module.states = client_states()
    monkeypatch.setitem(__import__("sys").modules, "graph_client_states", module)
    code = cli.main(["graph", "--states", "graph_client_states:states", "--target", "hello", "--format", "mermaid"])
    out = capsys.readouterr().out
    assert code == 0 and "state_boot_completed --> hello_printed" in out
    assert cli.main(["graph", "--states", "nope"]) == 2
    assert "--states nope: expected MODULE:ATTR" in capsys.readouterr().err


# --- explain and config in a simulated repo -----------------------------------------------------


def max_world():
    return (World().apply_layout("max").add_interpreter("python3", "3.11.7").add_interpreter("/usr/bin/python3.12", "3.12.1")
            .add_main(MAIN, "report"))


def log_text(session):
    log_dir = session.path("/repo/log")
    return session.read_text(explain.last_log(log_dir))


def test_explain_after_a_cold_boot_names_the_python_and_its_source_the_env_and_the_venv_decision():
    with max_world().activate() as session:
        session.run("./prime").assert_exit(0)
        path = explain.last_log(session.path("/repo/log"))
        cold = explain.explain_log(path, session.read_text(path))
        session.run("./prime").assert_exit(0)
        path = explain.last_log(session.path("/repo/log"))
        warm = explain.explain_log(path, session.read_text(path))
    assert cold.topic("python") == ["required 3.11, from field required_python_version in /repo/gconf/proto_kernel.json",
                                    "rejected: python3.11: not on PATH", "chosen: Python 3.11.7 at /usr/bin/python3"]
    assert cold.topic("env")[0] == "/repo/dst/default_env, chosen by field default_env_dir_rel_path in /repo/gconf/proto_kernel.json"
    assert cold.topic("venv")[0].startswith("/repo/venv: to build: ")
    assert any(what.startswith("creating the venv /repo/venv") for what, _ in cold.phases)
    assert cold.exit[:2] == ("SUCCESS", 0)
    assert warm.topic("venv")[0] == "/repo/venv: reused, up to date"
    assert warm.topic("env")[0].startswith("/repo/dst/default_env, chosen by ")
    assert warm.phases == []


def test_explain_dry_decides_without_doing():
    with max_world().activate() as session:
        with session.open_process("python3", cwd="/repo") as process:
            process.env.remember("proto_kernel_abs_path", "/repo/cmd/proto_code/proto_kernel.py")
            dry = explain.explain_dry(host=process.host)
        assert not session.exists("/repo/venv")
    assert dry.topic("python")[-1] == "chosen: Python 3.11.7 at /usr/bin/python3"
    assert dry.topic("env") == ["/repo/dst/default_env, chosen by field default_env_dir_rel_path in /repo/gconf/proto_kernel.json"]
    assert dry.topic("venv")[0].startswith("/repo/venv: would be built: ")
    assert "dry evaluation" in explain.render_text(dry)


def test_the_annotated_config_says_where_each_value_came_from_and_flags_unused_fields():
    world = max_world()
    world.add_file("gconf/proto_kernel.json", json.dumps({
        "local_conf_symlink_rel_path": "lconf", "default_env_dir_rel_path": "dst/default_env",
        "required_python_version": "3.11", "venv_driver": "venv_pip", "colour": "blue",
        "ref_root_dir_rel_path": "..",
    }))
    world.add_file("dst/default_env/proto_kernel.json", json.dumps({"required_python_version": "3.12"}))
    with world.activate() as session:
        with session.open_process("python3", cwd="/repo") as process:
            process.env.remember("proto_kernel_abs_path", "/repo/cmd/proto_code/proto_kernel.py")
            report = config_report.build_report(host=process.host)
    fields = dict((field.field, field) for field in report.fields)
    assert fields["required_python_version"].value == "3.12"
    assert fields["required_python_version"].source == ("local", "/repo/dst/default_env/proto_kernel.json")
    assert fields["required_python_version"].overridden == [("global", "/repo/gconf/proto_kernel.json")]
    assert fields["local_log_dir_rel_path"].source is None and fields["local_log_dir_rel_path"].value == "/repo/log"
    assert ("/repo/gconf/proto_kernel.json", "colour", "unknown field: no state reads it (docs/config.md lists the fields)") in report.unused
    assert ("/repo/gconf/proto_kernel.json", "ref_root_dir_rel_path",
            "not read from this file: it belongs in the primer config") in report.unused
    text = config_report.render_text(report, "/repo")
    assert "required_python_version = 3.12\n    from dst/default_env/proto_kernel.json (local config); overrides " \
           "gconf/proto_kernel.json (global config)\n" in text
    assert set(config_report.FIELD_DESCRIPTIONS) == set(kernel.FIELD_TYPES)


# --- the built-in pre-commit state ---------------------------------------------------------------


def pre_commit_world(**options):
    states = meta_states.pre_commit(States(), **options)
    world = (World().apply_layout("min").add_interpreter("python3", "3.11.7").add_tool(FakePreCommit())
             .add_main(MAIN, lambda host: states.run(host=host)))
    world.add_file(".git/HEAD", "ref: refs/heads/main\n")
    return world


def test_the_pre_commit_state_installs_the_hooks_with_the_repos_config():
    world = pre_commit_world(hook_types=("pre-commit", "pre-push"))
    world.add_file(".pre-commit-config.yaml", "repos: []\n")
    with world.activate() as session:
        add_pre_commit_to_venv(session)
        outcome = session.run("./prime --target pre_commit")
        hooks = sorted(os.listdir(session.path("/repo/.git/hooks")))
    outcome.assert_exit(0)
    assert hooks == ["pre-commit", "pre-push"]


def test_the_pre_commit_state_falls_back_to_the_references_config_place():
    world = pre_commit_world()
    world.add_file("gconf/pre_commit.yaml", "repos: []\n")
    with world.activate() as session:
        add_pre_commit_to_venv(session)
        outcome = session.run("./prime -t pre_commit")
        hook = session.read_text("/repo/.git/hooks/pre-commit")
    outcome.assert_exit(0)
    assert "config /repo/gconf/pre_commit.yaml" in hook


def test_the_pre_commit_state_without_a_config_or_outside_git_does_nothing_and_says_why_with_v():
    world = pre_commit_world()
    with world.activate() as session:
        add_pre_commit_to_venv(session)
        outcome = session.run("./prime -v -t pre_commit")
    outcome.assert_exit(0).assert_stderr(contains="pre_commit_installed: no pre-commit config (.pre-commit-config.yaml "
                                                  "or gconf/pre_commit.yaml): no hooks to install")


def test_pre_commit_missing_from_the_venv_fails_the_state_naming_what_to_do():
    world = pre_commit_world()
    world.add_file(".pre-commit-config.yaml", "repos: []\n")
    outcome = None
    with world.activate() as session:
        outcome = session.run("./prime -t pre_commit")
    outcome.assert_exit(11).assert_stderr(contains="pre_commit_installed: /repo/venv/bin/pre-commit does not exist: add "
                                                   "pre-commit to the dependencies of a project the venv installs")
