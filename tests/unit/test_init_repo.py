"""`protoprimer init`: the files of each layout (text and mode), the kernel copy in its generated form,
--python, refusal (one line, nothing written) and --force, idempotence, the .gitignore kept and completed,
and the written config read by the copy itself (`./prime eval`)."""
import json
import os
import stat
import subprocess
import sys

import pytest

from protoprimer import cli
from protoprimer import primer_kernel as kernel

SOURCE = open(kernel.__file__, encoding="utf-8").read()
COPY_TEXT = kernel.generated_copy_text(SOURCE)
RUNNING = "%d.%d" % sys.version_info[:2]

# a new project: its package with the example function, and the start_app script that runs it
EXAMPLE_FILES = ["my_repo/__init__.py", "my_repo/app.py", "cmd/app"]
LAYOUT_FILES = {
    "instant": ["proto_kernel.py", "prime", ".python-version", "pyproject.toml", ".gitignore"],
    "min": ["proto_kernel.py", "proto_kernel.json", "prime", ".python-version", "pyproject.toml", ".gitignore"],
    "max": [
        "cmd/proto_code/proto_kernel.py", "cmd/proto_code/proto_kernel.json", "gconf/proto_kernel.json",
        "dst/default_env/proto_kernel.json", "prime", ".python-version", "pyproject.toml", ".gitignore",
    ],
}
KERNEL_COPY = {"instant": "proto_kernel.py", "min": "proto_kernel.py", "max": "cmd/proto_code/proto_kernel.py"}
EXECUTABLE = {"prime", "cmd/app"} | set(KERNEL_COPY.values())


def init(repo, *options):
    return cli.main(["init", str(repo)] + list(options))


def files_of(root):
    """{rel path: (text, mode)} of every file under root."""
    found = {}
    for dirpath, _, filenames in os.walk(str(root)):
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                found[os.path.relpath(path, str(root))] = (f.read(), stat.S_IMODE(os.stat(path).st_mode))
    return found


@pytest.mark.parametrize("layout", ["instant", "min", "max"])
def test_each_layout_writes_its_files_with_their_modes(layout, tmp_path, capsys):
    repo = tmp_path / "my-repo"
    assert init(repo, "--layout", layout) == 0

    files = files_of(repo)
    assert sorted(files) == sorted(LAYOUT_FILES[layout] + EXAMPLE_FILES)
    for rel, (_, mode) in files.items():
        if rel in EXECUTABLE:
            assert mode == 0o755, rel
        else:
            assert mode & 0o111 == 0, rel
    assert files[KERNEL_COPY[layout]][0] == COPY_TEXT
    assert files["prime"][0] == kernel.render_fast_entry_script("boot_env", KERNEL_COPY[layout], None, "$here/venv")
    assert files[".python-version"][0] == RUNNING + "\n"
    assert files[".gitignore"][0] == "/lconf\n__pycache__/\n*.egg-info/\n"
    assert 'name = "my-repo"' in files["pyproject.toml"][0]
    assert 'include = ["my_repo", "my_repo.*"]' in files["pyproject.toml"][0]
    out = capsys.readouterr().out
    assert all("wrote" in line for line in out.splitlines()[1:len(files) + 1]), out
    assert "next: cd %s && ./prime" % repo in out
    assert files["cmd/app"][0] == kernel.render_fast_entry_script(
        "start_app", os.path.relpath(KERNEL_COPY[layout], "cmd"), "my_repo.app:main", "$here/../venv")
    assert "def main():" in files["my_repo/app.py"][0]
    assert "then: ./cmd/app" in out


def test_min_writes_an_empty_config_and_instant_none(tmp_path):
    assert init(tmp_path / "min", "--layout", "min") == 0
    assert (tmp_path / "min" / "proto_kernel.json").read_text() == "{}\n"
    assert init(tmp_path / "instant", "--layout", "instant") == 0
    assert not [name for name in os.listdir(str(tmp_path / "instant")) if name.endswith(".json")]


def test_max_writes_primer_global_and_default_env_config(tmp_path):
    assert init(tmp_path, "--layout", "max") == 0
    read = lambda rel: json.loads((tmp_path / rel).read_text())
    assert read("cmd/proto_code/proto_kernel.json") == {"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"}
    assert read("gconf/proto_kernel.json") == {
        "local_conf_symlink_rel_path": "lconf",
        "default_env_dir_rel_path": "dst/default_env",
        "project_descriptors": [{"build_root_dir_rel_path": "."}],
    }
    assert read("dst/default_env/proto_kernel.json") == {}


def test_the_default_layout_is_min(tmp_path):
    assert init(tmp_path) == 0
    assert (tmp_path / "proto_kernel.json").read_text() == "{}\n"


def test_the_current_directory_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init"]) == 0
    assert (tmp_path / "prime").is_file()
    assert "next: ./prime " in capsys.readouterr().out


@pytest.mark.parametrize("version", ["3.12", "3.7", "3.13.1"])
def test_python_writes_the_version_given(version, tmp_path):
    assert init(tmp_path, "--python", version) == 0
    assert (tmp_path / ".python-version").read_text() == version + "\n"


@pytest.mark.parametrize("version", ["3", "3.x", "python3.11", "3.11 ", "3.6", "2.7", "4.0", "", "3.11.7.1", "3.11rc1"])
def test_python_must_be_digits_x_y_of_3_7_or_newer(version, tmp_path, capsys):
    assert init(tmp_path, "--python", version) == kernel.ExitCode.usage_error
    err = capsys.readouterr().err
    assert err.startswith("ERROR protoprimer init: --python %s: " % version) and err.count("\n") == 1, err
    assert os.listdir(str(tmp_path)) == []


def test_an_existing_file_with_other_content_is_refused_with_one_line_listing_them_and_nothing_is_written(
        tmp_path, capsys):
    (tmp_path / "prime").write_text("#!/bin/sh\necho mine\n")
    (tmp_path / "proto_kernel.json").write_text('{"venv_driver": "venv_uv"}\n')
    before = files_of(tmp_path)

    assert init(tmp_path) == kernel.ExitCode.refused == 8

    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("ERROR protoprimer init: ")
    assert "proto_kernel.json, prime exist with other content: pass --force" in lines[0]
    assert files_of(tmp_path) == before  # not even .gitignore or the copy


def test_force_overwrites_them(tmp_path, capsys):
    (tmp_path / "prime").write_text("#!/bin/sh\necho mine\n")
    (tmp_path / "proto_kernel.py").write_text("# an old copy\n")
    os.chmod(str(tmp_path / "proto_kernel.py"), 0o644)

    assert init(tmp_path, "--force") == 0

    files = files_of(tmp_path)
    assert files["prime"] == (kernel.render_fast_entry_script("boot_env", "proto_kernel.py", None, "$here/venv"), 0o755)
    assert files["proto_kernel.py"] == (COPY_TEXT, 0o755)
    out = capsys.readouterr().out
    assert "overwrote" in out and "prime" in out


@pytest.mark.parametrize("layout", ["instant", "min", "max"])
def test_a_second_run_changes_nothing_and_says_so(layout, tmp_path, capsys):
    assert init(tmp_path, "--layout", layout) == 0
    before = files_of(tmp_path)
    stats = dict((rel, os.stat(str(tmp_path / rel)).st_mtime_ns) for rel in before)
    capsys.readouterr()

    assert init(tmp_path, "--layout", layout) == 0

    assert files_of(tmp_path) == before
    assert dict((rel, os.stat(str(tmp_path / rel)).st_mtime_ns) for rel in before) == stats
    out = capsys.readouterr().out
    assert "nothing to do" in out
    assert "wrote" not in out and "appended" not in out


def test_a_copy_with_the_same_text_but_not_executable_is_made_executable(tmp_path, capsys):
    (tmp_path / "proto_kernel.py").write_text(COPY_TEXT)
    os.chmod(str(tmp_path / "proto_kernel.py"), 0o644)
    assert init(tmp_path) == 0
    assert stat.S_IMODE(os.stat(str(tmp_path / "proto_kernel.py")).st_mode) == 0o755
    assert "made executable" in capsys.readouterr().out


def test_gitignore_entries_are_appended_once_and_the_users_lines_kept(tmp_path):
    (tmp_path / ".gitignore").write_text("/build/\n__pycache__\n*.log")  # no final newline
    assert init(tmp_path) == 0
    assert (tmp_path / ".gitignore").read_text() == "/build/\n__pycache__\n*.log\n/lconf\n*.egg-info/\n"
    assert init(tmp_path) == 0
    assert (tmp_path / ".gitignore").read_text() == "/build/\n__pycache__\n*.log\n/lconf\n*.egg-info/\n"


def test_gitignore_with_every_entry_is_left_alone(tmp_path, capsys):
    (tmp_path / ".gitignore").write_text("lconf\n**/__pycache__/\n*.egg-info\n")
    assert init(tmp_path) == 0
    assert (tmp_path / ".gitignore").read_text() == "lconf\n**/__pycache__/\n*.egg-info\n"


def test_an_existing_project_is_kept(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mine"\nversion = "1"\n')
    assert init(tmp_path, "--force") == 0
    assert (tmp_path / "pyproject.toml").read_text() == '[project]\nname = "mine"\nversion = "1"\n'
    out = capsys.readouterr().out
    assert "kept" in out
    # the repo's own code is not init's to guess: no example package or script, the command to write one
    assert not (tmp_path / "cmd" / "app").exists()
    assert "wrap start_app -s cmd/app -m MODULE:FUNC" in out


def test_a_setup_py_project_gets_no_pyproject(tmp_path):
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='mine')\n")
    assert init(tmp_path) == 0
    assert not (tmp_path / "pyproject.toml").exists()


def test_an_existing_python_version_is_kept_unless_python_is_given(tmp_path, capsys):
    (tmp_path / ".python-version").write_text("3.9.18\n")
    assert init(tmp_path) == 0
    assert (tmp_path / ".python-version").read_text() == "3.9.18\n"
    assert "Python 3.9.18" in capsys.readouterr().out

    assert init(tmp_path, "--python", "3.12") == kernel.ExitCode.refused
    assert ".python-version exists with other content" in capsys.readouterr().err
    assert init(tmp_path, "--python", "3.12", "--force") == 0
    assert (tmp_path / ".python-version").read_text() == "3.12\n"


def test_an_unreadable_python_version_is_a_conflict(tmp_path, capsys):
    (tmp_path / ".python-version").write_text("system\n")
    assert init(tmp_path) == kernel.ExitCode.refused
    assert ".python-version exists with other content" in capsys.readouterr().err


def test_an_entry_script_of_the_copy_with_a_main_is_kept(tmp_path, capsys):
    """`wrap boot_env -s prime -m pkg:main` after init: a second init (even --force) keeps that main."""
    own = kernel.render_entry_script("boot_env", "proto_kernel.py", "my_pkg.cli:main")
    (tmp_path / "prime").write_text(own)
    os.chmod(str(tmp_path / "prime"), 0o755)
    assert init(tmp_path, "--force") == 0
    assert (tmp_path / "prime").read_text() == own
    plain = kernel.render_entry_script("boot_env", "proto_kernel.py")  # `wrap --plain`, or init before the fast form
    (tmp_path / "prime").write_text(plain)
    assert init(tmp_path) == 0
    assert (tmp_path / "prime").read_text() == plain
    # of another copy (another layout's): a conflict
    assert init(tmp_path, "--layout", "max") == kernel.ExitCode.refused
    assert "prime" in capsys.readouterr().err


def test_a_directory_in_the_way_stops_the_run_whatever_force_says(tmp_path, capsys):
    (tmp_path / "cmd").write_text("a file, not a dir\n")
    assert init(tmp_path, "--layout", "max", "--force") == kernel.ExitCode.file_error
    assert "cmd is not a directory" in capsys.readouterr().err
    assert os.listdir(str(tmp_path)) == ["cmd"]


def test_the_directory_must_be_a_directory(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert init(tmp_path / "file") == kernel.ExitCode.usage_error
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("layout", ["instant", "min", "max"])
def test_the_copy_reads_the_config_init_wrote(layout, tmp_path):
    """`./prime eval` (it resolves everything ./prime would, builds nothing) succeeds in the seeded repo."""
    assert init(tmp_path, "--layout", layout) == 0
    env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.defpath, "HOME": str(tmp_path), "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "prime", "eval", "--json", "-q"], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    derived = json.loads(result.stdout)
    text = json.dumps(derived)
    assert os.path.join(str(tmp_path), KERNEL_COPY[layout]) in text
    if layout == "max":
        assert os.path.join(str(tmp_path), "dst", "default_env", "proto_kernel.json") in text
