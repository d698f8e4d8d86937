"""Files and directories the user cannot read, and a repo the user cannot write (the harness fails the
filesystem port's calls with the errno the real call would raise: EACCES, EROFS). Each ends in one ERROR
line naming the path, a documented exit code, no traceback, and nothing written."""

import pytest

from protoprimer_harness import World

MAIN = "client.main:main"


def max_world():
    world = World().apply_layout("max").add_interpreter("python3", "3.11.7").add_main(MAIN, "report")
    world.add_file("dst/default_env/constraints.txt", "")
    return world


UNREADABLE = [
    # (the file, its role, the exit code: a config file is a config error, the others a file error)
    ("cmd/proto_code/proto_kernel.json", 3, "ERROR cannot read /repo/cmd/proto_code/proto_kernel.json: Permission denied"),
    ("gconf/proto_kernel.json", 3, "ERROR cannot read /repo/gconf/proto_kernel.json: Permission denied"),
    ("dst/default_env/proto_kernel.json", 3, "ERROR cannot read /repo/dst/default_env/proto_kernel.json: Permission denied"),
    ("pyproject.toml", 10, "ERROR cannot read or write /repo/pyproject.toml: Permission denied (check its permissions"),
    ("dst/default_env/constraints.txt", 10,
     "ERROR cannot read or write /repo/dst/default_env/constraints.txt: Permission denied (check its permissions"),
]


@pytest.mark.parametrize("path, code, message", UNREADABLE, ids=[case[0] for case in UNREADABLE])
def test_an_unreadable_file_is_named_and_never_taken_for_an_empty_one(path, code, message):
    world = max_world().add_fault(fs_op="read_text", path=path, error="EACCES")
    with world.activate() as session:
        outcome = session.run("./prime")
    outcome.assert_exit(code).assert_stderr(contains=message)
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert "Traceback" not in outcome.stderr
    # nothing but the run's own log (when the error comes after the log dir is known): no venv, no pins
    assert [path for path in outcome.written() if not path.startswith("log/")] == []


def test_an_unreadable_repo_directory_is_named():
    world = max_world().add_fault(fs_op="list_dir", path="/repo", error="EACCES")
    with world.activate() as session:
        outcome = session.run("./prime")
    outcome.assert_exit(10).assert_stderr(contains="ERROR cannot read or write /repo: Permission denied")
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("fs_op", ["make_dirs", "write_text", "make_symlink"])
def test_a_read_only_repo_stops_the_first_write_naming_it_and_the_next_run_heals(fs_op):
    world = max_world().add_fault(fs_op=fs_op, path="/repo/*", error="EROFS", times=1)
    with world.activate() as session:
        failed = session.run("./prime")
        healed = session.run("./prime")
    failed.assert_exit(10).assert_stderr(contains="Read-only file system (check its permissions and the free space)")
    assert "Traceback" not in failed.stderr
    healed.assert_exit(0)


def test_a_read_only_kernel_copy_is_not_refreshed_and_the_boot_goes_on_saying_so():
    world = max_world()
    world.add_file("pyproject.toml", '[project]\nname = "client"\nversion = "0.0.0"\ndependencies = ["protoprimer"]\n')
    world.add_file("cmd/proto_code/proto_kernel.py", "# an older copy\n" + open(
        __import__("protoprimer.primer_kernel", fromlist=["x"]).__file__).read())
    world.add_fault(fs_op="write_text", path="cmd/proto_code/proto_kernel.py", error="EACCES")
    with world.activate() as session:
        outcome = session.run("./prime")
        copy = session.read_text("/repo/cmd/proto_code/proto_kernel.py")
    outcome.assert_exit(0).assert_stderr(contains="cannot refresh the kernel copy /repo/cmd/proto_code/proto_kernel.py: "
                                                  "Permission denied (it stays as it is)")
    assert copy.startswith("# an older copy\n")
