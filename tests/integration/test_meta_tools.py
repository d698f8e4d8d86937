"""The meta tools as a user runs them: the `protoprimer` console script installed in a real venv (from the
built wheel, as the client repo's dependency), in the session's booted repo (max layout, a default env)."""

import os
import re

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(booted_repo):
    if booted_repo.cold.code != 0:
        pytest.fail("the shared cold boot failed:\n%s" % booted_repo.cold.describe(), pytrace=False)
    return booted_repo


def tool(repo, *args):
    run = repo.run([os.path.join(repo.venv().dir, "bin", "protoprimer")] + list(args))
    assert run.code == 0, run.describe()
    return run.stdout


def decision_lines(text, section):
    """The lines of one section of `protoprimer explain`'s report ("Python:", "env:", ...)."""
    lines, inside = [], False
    for line in text.splitlines():
        if not line.startswith("  "):
            inside = line == section + ":"
            continue
        if inside:
            lines.append(line.strip())
    return lines


def test_explain_after_the_real_cold_boot_names_the_python_and_its_source_the_env_and_the_venv_decision(repo, real_machine):
    cold_log = [path for path in repo.cold.logs if path.endswith(".log")]
    assert len(cold_log) == 1, repo.cold.describe()
    report = tool(repo, "explain", "--log", cold_log[0])
    python = decision_lines(report, "Python")
    assert python[0] == "required %d.%d, from field required_python_version in %s" % (
        real_machine.primary + (repo.path("gconf/proto_kernel.json"),)), report
    chosen = [line for line in python if line.startswith("chosen: Python %d.%d." % real_machine.primary)]
    assert len(chosen) == 1, report
    assert decision_lines(report, "env")[0] == "%s, chosen by field default_env_dir_rel_path in %s" % (
        repo.path("dst/default"), repo.path("gconf/proto_kernel.json")), report
    assert decision_lines(report, "venv")[0].startswith("%s: to build: " % repo.venv().dir), report
    phases = decision_lines(report, "phases")
    assert any(re.match(r"\d+\.\d\d s  creating the venv %s with " % re.escape(repo.venv().dir), line) for line in phases), report
    assert any(line.endswith("s  installing the projects") for line in phases), report
    assert re.search(r"^run: SUCCESS \[0\]: .* \(\d+\.\d\d s\)$", report, re.MULTILINE), report


def test_explain_after_a_warm_no_op_says_the_venv_was_reused_and_why(repo):
    warm = repo.prime()
    assert warm.code == 0, warm.describe()
    report = tool(repo, "explain")
    assert decision_lines(report, "venv") == ["%s: reused, up to date" % repo.venv().dir,
                                              "%s is up to date: nothing installed" % repo.venv().dir], report
    assert decision_lines(report, "env")[0].startswith("%s, chosen by " % repo.path("dst/default")), report
    assert decision_lines(report, "phases") == [], report


def test_explain_dry_and_config_and_graph_from_the_installed_console_script(repo):
    dry = tool(repo, "explain", "--dry")
    assert "%s: would be reused: up to date" % repo.venv().dir in dry, dry
    config = tool(repo, "config")
    assert "default_env_dir_rel_path = dst/default\n    from gconf/proto_kernel.json (global config)" in config, config
    mermaid = tool(repo, "graph", "--all", "--format", "mermaid")
    assert mermaid.count("flowchart TD") == 10, mermaid[:500]
    assert "state_venv_prepared --> state_stride_deps_updated_reached" in mermaid
