"""protoprimer_harness/_fake_fs.py: the shortcuts through pyfakefs' API give what the plain `os`/`shutil` way gives."""

import os
import shutil

import pytest

from protoprimer_harness import World
from protoprimer_harness._fake_fs import copy_tree_objects, read_file, real_path, write_file
from protoprimer_harness._snapshot import take_snapshot


def build_tree(root):
    write_file(os.path.join(root, "pkg", "__init__.py"), "x = 1\n")
    write_file(os.path.join(root, "pkg", "sub", "run"), "#!/bin/sh\n", 0o755)
    os.symlink("__init__.py", os.path.join(root, "pkg", "alias.py"))
    os.symlink("missing", os.path.join(root, "pkg", "dangling"))
    os.utime(os.path.join(root, "pkg", "__init__.py"), (1_600_000_000, 1_600_000_000))


def relative(snapshot, top):
    return {os.path.relpath(path, top): entry for path, entry in snapshot.items()}


def test_the_object_copy_equals_shutils_copy_on_the_fake_filesystem():
    # given
    with World().activate():
        build_tree("/src")
        # when
        copy_tree_objects(os.filesystem, "/src/pkg", "/fast")
        shutil.copytree("/src/pkg", "/viashutil", symlinks=True, copy_function=shutil.copy2)  # the original path
        # then
        assert relative(take_snapshot("/fast"), "/fast") == relative(take_snapshot("/viashutil"), "/viashutil")
        assert os.stat("/fast/__init__.py").st_mtime == os.stat("/viashutil/__init__.py").st_mtime == 1_600_000_000
        assert os.readlink("/fast/alias.py") == "__init__.py"


def test_copytree_in_a_session_keeps_shutils_other_behaviours_and_is_restored_after():
    # given
    plain = shutil.copytree
    with World().activate():
        build_tree("/src")
        os.remove("/src/pkg/dangling")
        # when: links followed (symlinks=False) is not the shortcut's case
        shutil.copytree("/src/pkg", "/followed")
        # then
        assert not os.path.islink("/followed/alias.py") and open("/followed/alias.py").read() == "x = 1\n"
        with pytest.raises(FileExistsError):
            shutil.copytree("/src/pkg", "/followed", symlinks=True)
    assert shutil.copytree is plain


def test_read_file_gives_what_open_gives_and_its_errors():
    # given
    with World().activate():
        build_tree("/src")
        write_file("/src/bytes", b"\x00\xffraw")
        # then
        assert read_file("/src/pkg/alias.py") == b"x = 1\n"  # through the link
        assert read_file("/src/bytes") == b"\x00\xffraw"
        for path, error in (("/src/missing", FileNotFoundError), ("/src/pkg", IsADirectoryError),
                            ("/src/pkg/dangling", FileNotFoundError)):
            with pytest.raises(error):
                read_file(path)


def test_real_path_agrees_with_os_realpath_through_links_dot_dot_and_missing_parts():
    # given
    with World().activate():
        build_tree("/src")
        os.symlink("/src", "/link")
        # then
        for path in ("/link/pkg/alias.py", "/link/pkg/sub/../__init__.py", "/src/pkg", "/link/pkg/dangling",
                     "/link/missing/x", "/src/pkg/sub/run"):
            assert real_path(path) == os.path.realpath(path), path
