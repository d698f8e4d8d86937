"""The snapshot that reads pyfakefs' file objects directly must equal the one that walks through `os`."""

import os

from protoprimer_harness import World
from protoprimer_harness._snapshot import _walk_snapshot, diff_snapshots, take_snapshot


def build_tree(root):
    os.makedirs(os.path.join(root, "a", "b"))
    with open(os.path.join(root, "a", "b", "data.bin"), "wb") as f:
        f.write(b"\x00\x01binary")
    with open(os.path.join(root, "a", "run.sh"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(root, "a", "run.sh"), 0o755)
    open(os.path.join(root, "a", "empty"), "w").close()
    os.symlink("b", os.path.join(root, "a", "dir-link"))
    os.symlink("missing", os.path.join(root, "a", "dangling"))
    os.symlink("b/data.bin", os.path.join(root, "a", "file-link"))
    os.makedirs(os.path.join(root, "skip", "deep"))
    with open(os.path.join(root, "skip", "deep", "x"), "w") as f:
        f.write("x")


def test_the_object_snapshot_equals_the_walked_one_on_the_fake_filesystem():
    # given
    with World().activate() as session:
        build_tree("/repo")
        excluded = ["/repo/skip/deep"]
        # when
        fast = take_snapshot("/repo", excluded)
        walked = _walk_snapshot("/repo", tuple(excluded))
        # then
        assert fast == walked
        assert "/repo/skip" in fast and "/repo/skip/deep" not in fast
        assert fast["/repo/a/dir-link"].kind == "symlink" and fast["/repo/a/dir-link"].target == "b"
        assert fast["/repo/a/run.sh"].executable and not fast["/repo/a/empty"].executable
        assert fast["/repo/a/b/data.bin"].data == b"\x00\x01binary"
        assert session is not None


def test_a_snapshot_of_the_real_disk_walks_it(tmp_path):
    # given
    build_tree(str(tmp_path))
    # when
    snapshot = take_snapshot(str(tmp_path))
    # then
    assert snapshot == _walk_snapshot(str(tmp_path), ())
    assert snapshot[str(tmp_path / "a" / "file-link")].target == "b/data.bin"


def test_changes_between_object_snapshots_name_created_modified_and_deleted_paths():
    # given
    with World().activate():
        build_tree("/repo")
        before = take_snapshot("/repo")
        # when
        with open("/repo/a/empty", "w") as f:
            f.write("now full")
        os.remove("/repo/a/run.sh")
        os.makedirs("/repo/new/dir")
        changes = diff_snapshots(before, take_snapshot("/repo"))
        # then
        assert (changes.created, changes.modified, changes.deleted) == (
            ["/repo/new/dir/"], ["/repo/a/empty"], ["/repo/a/run.sh"])
