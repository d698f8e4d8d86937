"""Filesystem fault points (a write, a link, a removal, ... fails with an errno, or kills the process
before or after it) and the record of the filesystem operations a run performs (`Outcome.fs_ops`)."""

import errno
import inspect
import os

import pytest

from protoprimer_harness import World
from protoprimer_harness._process_fs import ProcessFileSystem
from protoprimer_harness._session_state import FS_OPS, FsFaultSpec
from protoprimer_harness._stub_kernel import stub_kernel

KERNEL_FILE = "#!/usr/bin/env python3\n# protoprimer-kernel-file\n"


def world():
    return World().add_interpreter("python3", "3.11.7").add_file("k.py", KERNEL_FILE, executable=True)


def writing(*paths, report_errors=True):
    """A stub kernel that writes "<n>\\n" to each path in turn, printing "<errno name> <filename>" for an
    OSError it catches (or letting it through)."""

    def main(host):
        for number, path in enumerate(paths):
            try:
                host.fs.write_text(path, "%d\n" % number)
            except OSError as error:
                if not report_errors:
                    raise
                host.env.write_stdout("%s %s\n" % (errno.errorcode[error.errno], error.filename))

    return stub_kernel(main=main)


def read(path):
    with open(path) as f:
        return f.read()


# --- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ENOSPC", "EACCES", "EROFS"])
def test_an_error_fault_raises_the_errno_with_the_path_and_does_nothing(name):
    # given
    w = world().add_fault(fs_op="write_text", path="/repo/a.txt", error=name)
    # when
    with w.activate(kernel=writing("/repo/a.txt", "/repo/b.txt")) as session:
        outcome = session.run("./k.py")
        files = (os.path.exists("/repo/a.txt"), sorted(os.listdir("/repo")))
    # then
    outcome.assert_exit(0).assert_stdout(equals="%s /repo/a.txt\n" % name)
    assert files == (False, ["b.txt", "k.py"])  # no temporary sibling either
    assert [(r.op, r.path, r.error, r.fault) for r in outcome.fs_ops] == [
        ("write_text", "/repo/a.txt", name, "error %s at write_text '/repo/a.txt'" % name),
        ("write_text", "/repo/b.txt", None, None),
    ]
    assert [(hit.kind, hit.line) for hit in outcome.faults] == [("fs", "write_text /repo/a.txt")]


def test_the_error_is_the_real_oserror_subclass_with_the_strerror():
    # given
    seen = []

    def main(host):
        try:
            host.fs.remove("/repo/x")
        except OSError as error:
            seen.append((type(error), error.errno, error.strerror, error.filename))

    w = world().add_file("x", "x\n").add_fault(fs_op="remove", path="x", error="EACCES")
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        session.run("./k.py").assert_exit(0)
        kept = os.path.exists("/repo/x")
    # then
    assert seen == [(PermissionError, errno.EACCES, os.strerror(errno.EACCES), "/repo/x")]
    assert kept


def test_a_move_error_names_both_paths_and_a_copy_error_its_destination():
    # given
    seen = []

    def main(host):
        for op in (host.fs.move, host.fs.copy):
            try:
                op("/repo/src", "/repo/dst")
            except OSError as error:
                seen.append((error.filename, error.filename2))

    w = (world().add_file("src", "s\n").add_fault(fs_op="move", path="src", error="EROFS")
         .add_fault(fs_op="copy", path="dst", error="ENOSPC"))
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        session.run("./k.py").assert_exit(0)
    # then
    assert seen == [("/repo/src", "/repo/dst"), ("/repo/dst", None)]


def test_an_error_the_kernel_does_not_catch_ends_the_run_like_a_real_one():
    # given
    w = world().add_fault(fs_op="write_text", path="*.txt", error="ENOSPC")
    # when
    with w.activate(kernel=writing("/repo/a.txt", report_errors=False)) as session:
        outcome = session.run("./k.py")
    # then: the stub does not handle it: a crash (the real kernel turns it into exit 10)
    outcome.assert_exit(1).assert_stderr(contains="OSError: [Errno 28] No space left on device: '/repo/a.txt'")


# --- kills ---------------------------------------------------------------------------------------------


def test_die_before_kills_the_run_with_137_before_the_write():
    # given
    w = world().add_fault(fs_op="write_text", path="/repo/b.txt", die="before")
    # when
    with w.activate(kernel=writing("/repo/a.txt", "/repo/b.txt", "/repo/c.txt")) as session:
        outcome = session.run("./k.py")
        names = sorted(os.listdir("/repo"))
    # then
    outcome.assert_exit(137).assert_killed()
    assert names == ["a.txt", "k.py"]
    assert [(r.path, r.killed) for r in outcome.fs_ops] == [("/repo/a.txt", None), ("/repo/b.txt", "before")]
    assert outcome.processes[0].ended == "killed"


def test_die_after_kills_the_run_with_the_write_done_and_nothing_after_it():
    # given
    def main(host):
        try:
            host.fs.make_symlink("target", "/repo/link")
        finally:
            host.fs.write_text("/repo/cleanup.txt", "the finally ran\n")
            host.env.write_stderr("unreachable\n")

    w = world().add_fault(fs_op="make_symlink", path="link", die="after")
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
        state = (os.readlink("/repo/link"), os.path.exists("/repo/cleanup.txt"))
    # then
    outcome.assert_exit(137).assert_killed().assert_stderr(not_contains="unreachable")
    assert state == ("target", False)
    assert [(r.op, r.path, r.target, r.killed) for r in outcome.fs_ops] == [
        ("make_symlink", "/repo/link", "target", "after")]


def test_times_and_skip_pick_which_calls_fire_and_a_session_fault_starts_from_now():
    # given
    w = world()
    with w.activate(kernel=writing("/repo/a.txt", "/repo/a.txt", "/repo/a.txt")) as session:
        first = session.run("./k.py")
        session.add_fault(fs_op="write_text", path="a.txt", error="EROFS", skip=1, times=1)
        # when
        second = session.run("./k.py")
        third = session.run("./k.py")
    # then: the first run is before the fault; the second's second write is the one that fails, once
    first.assert_stdout(equals="")
    second.assert_stdout(equals="EROFS /repo/a.txt\n")
    third.assert_stdout(equals="")


def test_a_path_matches_absolute_relative_to_the_root_or_as_a_glob_and_only_for_its_operation():
    # given
    def main(host):
        host.fs.make_dirs("/repo/d/e")
        for path in ("/repo/d/e/x.json", "/repo/d/y.txt", "/tmp/z.txt"):
            try:
                host.fs.append_text(path, "1\n")
            except OSError as error:
                host.env.write_stdout("%s\n" % error.filename)

    w = (world().add_fault(fs_op="append_text", path="d/*.json", error="EACCES")
         .add_fault(fs_op="append_text", path="/tmp/z.txt", error="EACCES")
         .add_fault(fs_op="write_text", path="d/y.txt", error="EACCES")  # another operation
         .add_fault(fs_op="append_text", path="y.txt", error="EACCES"))  # neither form of /repo/d/y.txt
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
    # then
    outcome.assert_stdout(equals="/repo/d/e/x.json\n/tmp/z.txt\n")


def test_a_move_matches_its_source_or_its_destination():
    # given
    def main(host):
        host.fs.move("/repo/a", "/repo/b")
        host.fs.move("/repo/b", "/repo/c")

    w = world().add_file("a", "a\n").add_fault(fs_op="move", path="c", die="before")
    # when
    with w.activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
        names = sorted(os.listdir("/repo"))
    # then
    outcome.assert_killed()
    assert names == ["b", "k.py"]
    assert outcome.fs_op_lines() == ["move /repo/a -> /repo/b", "move /repo/b -> /repo/c"]


# --- the record ----------------------------------------------------------------------------------------


def test_every_operation_that_changes_files_is_recorded_with_its_pid_and_a_real_error_too():
    # given
    def main(host):
        fs = host.fs
        fs.make_dirs("/repo/d")
        fs.write_text("/repo/d/f", "f\n", mode=0o600)
        fs.append_text("/repo/d/f", "g\n")
        fs.read_text("/repo/d/f")  # reads are not recorded
        fs.copy("/repo/d", "/repo/e")
        fs.make_symlink("d", "/repo/l")
        fs.move("/repo/e", "/repo/m")
        fs.remove_tree("/repo/m")
        fs.remove("/repo/l")
        try:
            fs.remove("/repo/missing")
        except FileNotFoundError:
            pass

    # when
    with world().activate(kernel=stub_kernel(main=main)) as session:
        outcome = session.run("./k.py")
        mode = os.stat("/repo/d/f").st_mode & 0o777
    # then
    outcome.assert_exit(0)
    assert mode == 0o600
    assert outcome.fs_op_lines() == [
        "make_dirs /repo/d", "write_text /repo/d/f", "append_text /repo/d/f", "copy /repo/d -> /repo/e",
        "make_symlink /repo/l -> d", "move /repo/e -> /repo/m", "remove_tree /repo/m", "remove /repo/l",
        "remove /repo/missing"]
    assert {r.pid for r in outcome.fs_ops} == {outcome.processes[0].pid}
    assert [r.error for r in outcome.fs_ops][-2:] == [None, "ENOENT"]


def test_an_open_process_records_and_faults_its_filesystem_operations_too():
    # given
    w = world().add_fault(fs_op="make_dirs", path="/repo/x", error="EROFS")
    with w.activate() as session, session.open_process() as process:
        # when
        with pytest.raises(OSError) as raised:
            process.fs.make_dirs("/repo/x")
        process.fs.make_dirs("/repo/y")
    # then
    assert raised.value.errno == errno.EROFS
    assert process.outcome.fs_op_lines() == ["make_dirs /repo/x", "make_dirs /repo/y"]


# --- the spec and the port -----------------------------------------------------------------------------


def test_a_filesystem_fault_is_checked_when_declared():
    with pytest.raises(ValueError, match="fs_op must be one of write_text, make_symlink"):
        World().add_fault(fs_op="rename", path="x", die="before")
    with pytest.raises(ValueError, match="a filesystem call has no middle"):
        World().add_fault(fs_op="write_text", path="x", die="during")
    with pytest.raises(ValueError, match="error must be an errno name"):
        World().add_fault(fs_op="write_text", path="x", error="DISK_FULL")
    with pytest.raises(ValueError, match="give error=ERRNO_NAME"):
        World().add_fault(fs_op="write_text", path="x")
    with pytest.raises(ValueError, match="not both"):
        World().add_fault(fs_op="write_text", path="x", error="EROFS", die="after")
    with pytest.raises(ValueError, match="not both"):
        World().add_fault("pip", fs_op="write_text", path="x", die="after")
    with pytest.raises(ValueError, match="needs both fs_op= .* and path="):
        World().add_fault(path="x", die="after")
    with pytest.raises(ValueError, match="skip must be 0 or more"):
        World().add_fault(fs_op="remove", path="x", die="after", skip=-1)
    with pytest.raises(ValueError, match="are for filesystem faults"):
        World().add_fault("pip", exit=1, error="EROFS")
    assert World().add_fault(fs_op="remove", path="x", die="after").faults == [FsFaultSpec("remove", "x", die="after")]


def test_the_wrapper_has_the_ports_signatures():
    from protoprimer import primer_kernel

    for op in FS_OPS:
        assert inspect.signature(getattr(ProcessFileSystem, op)) == inspect.signature(
            getattr(primer_kernel.RealFileSystem, op)), op


def test_a_read_fault_fails_the_read_with_its_errno_and_a_kill_on_a_read_is_refused():
    from protoprimer_harness import World

    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")
    world.add_fault(fs_op="read_text", path="proto_kernel.json", error="EACCES")
    with world.activate() as session:
        outcome = session.run("./prime eval")
    outcome.assert_exit(3).assert_stderr(contains="ERROR cannot read /repo/proto_kernel.json: Permission denied")
    assert [hit.line for hit in outcome.faults] == ["read_text /repo/proto_kernel.json"]
    with pytest.raises(ValueError, match="a read fails with error=ERRNO_NAME"):
        World().add_fault(fs_op="list_dir", path="/repo", die="before")
