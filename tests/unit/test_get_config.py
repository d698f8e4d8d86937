"""get_config(): the config of one leap, computed in-process from the kernel copy's location, with no
CLI, no restarts and no writes (the reference created the lconf link here)."""
import json
import os

import pytest

from protoprimer import primer_kernel as kernel


class CopyEnvironment(kernel.RealEnvironment):
    """The real environment of client code that loaded the repo's kernel copy by its path."""

    def __init__(self, copy):
        self.copy = copy
        self.memory = {}  # a fresh process's memory, not this test process's (./cmd/test fills that one)

    @property
    def kernel_path(self):
        return self.copy

    def remember(self, key, value):
        self.memory[key] = value

    def recall(self, key, default=None):
        return self.memory.get(key, default)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A real repo; `host` runs its kernel copy (as client code that loaded the copy does)."""
    files = {
        "cmd/proto_code/proto_kernel.py": "# protoprimer-kernel-file\n",
        "cmd/proto_code/proto_kernel.json": {"ref_root_dir_rel_path": "../.."},
        "gconf/proto_kernel.json": {"default_env_dir_rel_path": "dst/dev", "required_python_version": "3.11"},
        "dst/dev/proto_kernel.json": {"local_venv_dir_rel_path": "venv.dev"},
    }
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    monkeypatch.setattr("sys.argv", ["client_app"])
    return tmp_path


@pytest.fixture
def host(repo):
    copy = str(repo / "cmd/proto_code/proto_kernel.py")
    return kernel.Host(kernel.RealFileSystem(), kernel.RealProcesses(), CopyEnvironment(copy))


def test_derived_config_of_the_default_env(repo, host):
    derived = kernel.get_config(kernel.ConfLeap.leap_derived, host=host)
    assert derived["state_ref_root_dir_abs_path_inited"] == str(repo)
    assert derived["state_selected_env_dir_rel_path_inited"] == "dst/dev"
    assert derived["state_local_venv_dir_abs_path_inited"] == str(repo / "venv.dev")


def test_each_leap_as_written(repo, host):
    assert kernel.get_config("leap_primer", host=host) == {"ref_root_dir_rel_path": "../.."}
    assert kernel.get_config("leap_client", host=host)["default_env_dir_rel_path"] == "dst/dev"
    assert kernel.get_config("leap_env", host=host) == {"local_venv_dir_rel_path": "venv.dev"}
    assert kernel.get_config("leap_input", host=host)["state_proto_code_file_abs_path_inited"] == host.env.copy


def test_get_config_writes_nothing(repo, host):
    before = sorted(str(p) for p in repo.rglob("*"))
    kernel.get_config(host=host)
    assert sorted(str(p) for p in repo.rglob("*")) == before
    assert not os.path.lexists(repo / "lconf")


def test_a_broken_config_raises_a_primer_error_with_the_file(repo, host):
    (repo / "dst/dev/proto_kernel.json").write_text("{")
    with pytest.raises(kernel.PrimerError) as caught:
        kernel.get_config(host=host)
    assert caught.value.exit_code == 3
    assert str(repo / "dst/dev/proto_kernel.json") in caught.value.message


def test_an_unknown_leap_lists_the_valid_ones(repo):
    with pytest.raises(ValueError, match="leap_input, leap_primer, leap_client, leap_env, leap_derived"):
        kernel.get_config("leap_everything")
