"""The filesystem port (`host.fs`): the kernel's RealFileSystem on the real disk and on the fake filesystem
(pyfakefs, as the harness runs it), one body each."""

import errno
import os
import re

import pytest

TMP_NAME = re.compile(r"\.tmp-\d+$")


def default_file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def outcome_of(call, *args):
    """("ok", result) or ("raised", exception type name, errno) of calling `call(*args)`."""
    try:
        return ("ok", call(*args))
    except OSError as error:
        return ("raised", type(error).__name__, errno.errorcode.get(error.errno))


def no_tmp_names(names):
    return [name for name in names if TMP_NAME.search(name)] == []


# --- read / write ----------------------------------------------------------------------------------------


def test_write_text_creates_parents_and_is_atomic(backend):
    fs = backend.host.fs
    path = backend.path("a", "b", "file.txt")
    # when
    fs.write_text(path, "one\ntwo\n")
    # then
    assert fs.read_text(path) == "one\ntwo\n"
    assert backend.listing(backend.path("a", "b")) == ["file.txt"]  # no temp file left
    assert fs.file_mode(path) == default_file_mode()


def test_write_text_keeps_newlines_and_utf8_as_given(backend):
    fs = backend.host.fs
    path = backend.path("text.txt")
    fs.write_text(path, "crlf\r\nlf\n\u00e9\u4e2d\n")
    with open(path, "rb") as f:
        data = f.read()
    assert data == "crlf\r\nlf\n\u00e9\u4e2d\n".encode("utf-8")
    assert fs.read_text(path) == "crlf\nlf\n\u00e9\u4e2d\n"  # read_text: universal newlines, as open() does


def test_write_text_with_a_mode_and_rewriting_without_one(backend):
    fs = backend.host.fs
    path = backend.path("script")
    fs.write_text(path, "#!/bin/sh\n", mode=0o755)
    assert fs.file_mode(path) == 0o755
    # a rewrite without a mode is a new file: the mode does not carry over
    fs.write_text(path, "#!/bin/sh\necho\n")
    assert fs.file_mode(path) == default_file_mode()


def test_write_text_over_a_symlink_replaces_the_link_not_its_target(backend):
    fs = backend.host.fs
    target = backend.write("target.txt", "target\n")
    link = backend.symlink("link.txt", "target.txt")
    fs.write_text(link, "new\n")
    assert (fs.is_symlink(link), fs.read_text(link), fs.read_text(target)) == (False, "new\n", "target\n")


def test_write_text_into_a_file_fails_and_leaves_no_temp_file(backend):
    fs = backend.host.fs
    backend.write("plain", "x\n")
    assert outcome_of(fs.write_text, backend.path("plain", "child.txt"), "y") == ("raised", "FileExistsError", "EEXIST")
    assert backend.listing(backend.root) == ["plain"]


def test_write_text_over_a_directory_fails_and_leaves_no_temp_file(backend):
    fs = backend.host.fs
    backend.mkdir("dir")
    assert outcome_of(fs.write_text, backend.path("dir"), "y") == ("raised", "IsADirectoryError", "EISDIR")
    assert backend.listing(backend.root) == ["dir"]


def test_read_text_of_missing_and_of_a_directory(backend):
    fs = backend.host.fs
    backend.mkdir("dir")
    assert outcome_of(fs.read_text, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")
    assert outcome_of(fs.read_text, backend.path("dir")) == ("raised", "IsADirectoryError", "EISDIR")


def test_append_text_creates_parents_then_appends(backend):
    fs = backend.host.fs
    path = backend.path("logs", "run.log")
    fs.append_text(path, "one\n")
    fs.append_text(path, "two\n")
    assert fs.read_text(path) == "one\ntwo\n"


# --- kinds of paths --------------------------------------------------------------------------------------


def test_exists_lexists_and_kinds_of_every_sort_of_path(backend):
    fs = backend.host.fs
    backend.write("file", "x")
    backend.mkdir("dir")
    backend.symlink("link_file", "file")
    backend.symlink("link_dir", "dir")
    backend.symlink("dangling", "nowhere")
    backend.symlink("loop_a", "loop_b")
    backend.symlink("loop_b", "loop_a")
    names = ["file", "dir", "link_file", "link_dir", "dangling", "loop_a", "missing", "file/below"]
    table = {name: (fs.exists(backend.path(name)), fs.lexists(backend.path(name)), fs.is_file(backend.path(name)),
                    fs.is_dir(backend.path(name)), fs.is_symlink(backend.path(name))) for name in names}
    assert table == {
        #             exists lexists is_file is_dir is_symlink
        "file":      (True, True, True, False, False),
        "dir":       (True, True, False, True, False),
        "link_file": (True, True, True, False, True),
        "link_dir":  (True, True, False, True, True),
        "dangling":  (False, True, False, False, True),
        "loop_a":    (False, True, False, False, True),
        "missing":   (False, False, False, False, False),
        "file/below": (False, False, False, False, False),
    }


def test_dot_dot_after_a_missing_directory_does_not_resolve(backend):
    """The OS resolves `missing/..` component by component: ENOENT. (The kernel normalises the paths it
    builds, but a path from a config file could have this shape.)"""
    fs = backend.host.fs
    backend.write("file", "x")
    path = backend.root + "/missing/../file"
    assert (fs.exists(path), fs.is_file(path), fs.same_file(path, backend.path("file"))) == (False, False, False)
    assert outcome_of(fs.read_text, path) == ("raised", "FileNotFoundError", "ENOENT")
    assert outcome_of(fs.write_text, backend.root + "/missing2/../other", "y") == ("ok", None)  # makedirs made it
    assert backend.listing(backend.root) == ["file", "missing2", "other"]


def test_move_to_a_path_through_a_missing_directory_fails(backend):
    backend.known_difference("F1: pyfakefs's os.rename resolves `missing/..` lexically; the OS says ENOENT")
    fs = backend.host.fs
    backend.write("file", "x")
    assert outcome_of(fs.move, backend.path("file"), backend.root + "/missing/../moved") == (
        "raised", "FileNotFoundError", "ENOENT")
    assert backend.listing(backend.root) == ["file"]


def test_read_link_returns_the_target_as_written(backend):
    fs = backend.host.fs
    backend.symlink("rel", "../x/y")
    backend.symlink("abs", backend.path("elsewhere"))
    backend.write("file", "x")
    assert backend.norm([fs.read_link(backend.path("rel")), fs.read_link(backend.path("abs"))]) == [
        "../x/y", "<ROOT>/elsewhere"]
    assert outcome_of(fs.read_link, backend.path("file")) == ("raised", "OSError", "EINVAL")
    assert outcome_of(fs.read_link, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")


# --- symlinks --------------------------------------------------------------------------------------------


def test_make_symlink_creates_parents_and_keeps_the_target_text(backend):
    fs = backend.host.fs
    link = backend.path("deep", "er", "link")
    fs.make_symlink("../../target", link)
    assert (fs.is_symlink(link), fs.read_link(link), fs.exists(link)) == (True, "../../target", False)


def test_make_symlink_replaces_an_existing_link_and_leaves_no_temp_link(backend):
    fs = backend.host.fs
    backend.write("a", "a\n")
    backend.write("b", "b\n")
    link = backend.symlink("link", "a")
    fs.make_symlink("b", link)
    assert (fs.read_link(link), fs.read_text(link)) == ("b", "b\n")
    assert backend.listing(backend.root) == ["a", "b", "link"]


def test_make_symlink_replaces_a_regular_file(backend):
    fs = backend.host.fs
    backend.write("a", "a\n")
    path = backend.write("in_the_way", "x\n")
    fs.make_symlink("a", path)
    assert (fs.is_symlink(path), fs.read_text(path)) == (True, "a\n")


def test_make_symlink_over_a_directory_fails(backend):
    fs = backend.host.fs
    backend.mkdir("dir")
    assert outcome_of(fs.make_symlink, "target", backend.path("dir")) == ("raised", "IsADirectoryError", "EISDIR")
    # the temporary link the adapter made is left behind, on both
    names = backend.listing(backend.root)
    assert [TMP_NAME.sub(".tmp-PID", name) for name in names] == [".dir.tmp-PID", "dir"]


# --- paths and identity ----------------------------------------------------------------------------------


def test_real_path_follows_links_and_normalises(backend):
    fs = backend.host.fs
    backend.write("real/file", "x")
    backend.symlink("links/to_real", "../real")
    backend.symlink("links/to_file", "to_real/file")
    backend.symlink("links/dangling", "../nowhere/x")
    got = [fs.real_path(backend.path(p)) for p in ("links/to_file", "links/to_real/./file", "links/dangling",
                                                    "missing/../real//file", "missing/x")]
    assert backend.norm(got) == ["<ROOT>/real/file", "<ROOT>/real/file", "<ROOT>/nowhere/x", "<ROOT>/real/file",
                                 "<ROOT>/missing/x"]


def test_same_file(backend):
    fs = backend.host.fs
    a = backend.write("a", "same\n")
    b = backend.write("b", "same\n")
    link = backend.symlink("link", "a")
    dangling = backend.symlink("dangling", "nowhere")
    assert [fs.same_file(a, link), fs.same_file(link, a), fs.same_file(a, b), fs.same_file(a, backend.path("missing")),
            fs.same_file(dangling, dangling), fs.same_file(backend.root, backend.root + "/.")] == [
        True, True, False, False, False, True]


def test_list_dir_is_sorted_and_includes_dangling_links(backend):
    fs = backend.host.fs
    for name in ("b", "A", "a", ".hidden"):
        backend.write("d/" + name, "")
    backend.symlink("d/zz", "nowhere")
    backend.mkdir("d/sub")
    assert fs.list_dir(backend.path("d")) == [".hidden", "A", "a", "b", "sub", "zz"]
    assert outcome_of(fs.list_dir, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")
    assert outcome_of(fs.list_dir, backend.path("d", "a")) == ("raised", "NotADirectoryError", "ENOTDIR")


def test_make_dirs_is_idempotent_and_fails_on_a_file(backend):
    fs = backend.host.fs
    fs.make_dirs(backend.path("x", "y"))
    fs.make_dirs(backend.path("x", "y"))
    backend.write("f", "")
    assert fs.is_dir(backend.path("x", "y"))
    assert outcome_of(fs.make_dirs, backend.path("f")) == ("raised", "FileExistsError", "EEXIST")
    assert outcome_of(fs.make_dirs, backend.path("f", "below")) == ("raised", "NotADirectoryError", "ENOTDIR")


def test_file_mode_follows_links(backend):
    fs = backend.host.fs
    backend.write("exe", "", mode=0o750)
    backend.symlink("link", "exe")
    assert (fs.file_mode(backend.path("exe")), fs.file_mode(backend.path("link"))) == (0o750, 0o750)
    assert outcome_of(fs.file_mode, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")


# --- removing and moving ---------------------------------------------------------------------------------


def test_remove_a_file_and_a_link_but_not_a_directory(backend):
    fs = backend.host.fs
    backend.write("file", "")
    backend.write("target", "")
    backend.symlink("link", "target")
    backend.symlink("dir_link", "dir")
    backend.mkdir("dir")
    fs.remove(backend.path("file"))
    fs.remove(backend.path("link"))
    fs.remove(backend.path("dir_link"))
    assert backend.listing(backend.root) == ["dir", "target"]
    assert outcome_of(fs.remove, backend.path("dir")) == ("raised", "IsADirectoryError", "EISDIR")
    assert outcome_of(fs.remove, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")


def test_remove_tree_removes_everything_below_without_following_links(backend):
    fs = backend.host.fs
    backend.write("keep/precious", "x")
    backend.write("tree/a/b/file", "x")
    backend.symlink("tree/a/link_out", "../../keep")
    fs.remove_tree(backend.path("tree"))
    assert backend.listing(backend.root) == ["keep"]
    assert backend.listing(backend.path("keep")) == ["precious"]
    assert outcome_of(fs.remove_tree, backend.path("missing")) == ("raised", "FileNotFoundError", "ENOENT")


def test_remove_tree_refuses_a_symlink(backend):
    fs = backend.host.fs
    backend.write("dir/x", "x")
    backend.symlink("link", "dir")
    assert outcome_of(fs.remove_tree, backend.path("link")) == ("raised", "OSError", None)
    assert backend.listing(backend.path("dir")) == ["x"]


def test_move_renames_replaces_and_moves_into_a_directory(backend):
    fs = backend.host.fs
    backend.write("a", "a\n")
    backend.write("b", "b\n")
    backend.write("venv/pyvenv.cfg", "cfg\n")
    backend.mkdir("aside")
    fs.move(backend.path("a"), backend.path("c"))  # rename
    fs.move(backend.path("b"), backend.path("c"))  # over an existing file
    fs.move(backend.path("venv"), backend.path("aside"))  # into an existing directory
    fs.move(backend.path("aside", "venv"), backend.path("moved"))
    assert backend.listing(backend.root) == ["aside", "c", "moved"]
    assert (fs.read_text(backend.path("c")), fs.read_text(backend.path("moved", "pyvenv.cfg"))) == ("b\n", "cfg\n")


def test_move_keeps_a_symlink_a_symlink(backend):
    fs = backend.host.fs
    backend.symlink("link", "target-text")
    fs.move(backend.path("link"), backend.path("moved"))
    assert (fs.is_symlink(backend.path("moved")), fs.read_link(backend.path("moved"))) == (True, "target-text")


def test_copy_of_a_tree_keeps_links_modes_and_times(backend):
    """What the pip seeding relies on: a copied package keeps its symlinks as links, its modes, and the
    modification times that cached bytecode is checked against."""
    fs = backend.host.fs
    backend.write("seed/pip/__init__.py", "x = 1\n")
    backend.write("seed/pip/run", "#!/bin/sh\n", mode=0o755)
    backend.symlink("seed/pip/alias.py", "__init__.py")
    os.utime(backend.path("seed/pip/__init__.py"), ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    backend.mkdir("venv")
    fs.copy(backend.path("seed", "pip"), backend.path("venv", "pip"))
    assert backend.listing(backend.path("venv", "pip")) == ["__init__.py", "alias.py", "run"]
    assert fs.read_link(backend.path("venv", "pip", "alias.py")) == "__init__.py"
    assert fs.file_mode(backend.path("venv", "pip", "run")) == 0o755
    assert os.stat(backend.path("venv", "pip", "__init__.py")).st_mtime_ns == 1_600_000_000_000_000_000
    assert outcome_of(fs.copy, backend.path("seed", "pip"), backend.path("venv", "pip"))[:2] == (
        "raised", "FileExistsError")


def test_copy_of_a_file_and_of_a_link(backend):
    fs = backend.host.fs
    backend.write("seed/distutils-precedence.pth", "import os\n")
    backend.symlink("seed/link.pth", "distutils-precedence.pth")
    backend.mkdir("venv")
    fs.copy(backend.path("seed", "distutils-precedence.pth"), backend.path("venv", "distutils-precedence.pth"))
    fs.copy(backend.path("seed", "link.pth"), backend.path("venv", "link.pth"))
    assert fs.read_text(backend.path("venv", "distutils-precedence.pth")) == "import os\n"
    assert (fs.is_symlink(backend.path("venv", "link.pth")), fs.read_link(backend.path("venv", "link.pth"))) == (
        True, "distutils-precedence.pth")
    assert outcome_of(fs.copy, backend.path("seed", "missing"), backend.path("venv", "x")) == (
        "raised", "FileNotFoundError", "ENOENT")


# --- stat signatures -------------------------------------------------------------------------------------


def test_stat_signature_none_for_missing_and_dangling(backend):
    fs = backend.host.fs
    backend.symlink("dangling", "nowhere")
    assert (fs.stat_signature(backend.path("missing")), fs.stat_signature(backend.path("dangling"))) == (None, None)


def test_stat_signature_follows_links_and_changes_with_the_content(backend):
    fs = backend.host.fs
    path = backend.path("python")
    fs.write_text(path, "aaaa")
    link = backend.symlink("link", "python")
    first = fs.stat_signature(path)
    assert first is not None and re.match(r"^\d+:\d+:\d+$", first)
    assert fs.stat_signature(link) == first
    assert fs.stat_signature(path) == first  # stable while nothing changes
    fs.write_text(path, "bbbb")  # same size, a new file (atomic write)
    second = fs.stat_signature(path)
    assert second != first and fs.stat_signature(link) == second
    assert first.split(":")[0] == second.split(":")[0] == "4"  # the size


def test_stat_signature_changes_when_a_file_is_replaced_by_another_of_the_same_size(backend):
    fs = backend.host.fs
    backend.write("old", "xxxx")
    backend.write("new", "yyyy")
    path = backend.path("old")
    before = fs.stat_signature(path)
    fs.move(backend.path("new"), path)
    assert fs.stat_signature(path) not in (None, before)


@pytest.mark.parametrize("size", [0, 1, 5000])
def test_stat_signature_starts_with_the_size(backend, size):
    fs = backend.host.fs
    path = backend.write("f", "x" * size)
    assert fs.stat_signature(path).split(":")[0] == str(size)


def test_a_write_removes_the_temporary_siblings_a_killed_process_left_and_keeps_a_live_ones(backend):
    """A process killed between writing its temporary sibling and renaming it leaves `.NAME.tmp-PID`; the next
    write of NAME removes it when that pid is gone (a live writer's sibling is its own business)."""
    fs = backend.host.fs
    path = backend.path("constraints.txt")
    dead, live = backend.path(".constraints.txt.tmp-999999999"), backend.path(".constraints.txt.tmp-%d" % os.getppid())
    for leftover in (dead, live, backend.path(".other.txt.tmp-999999999")):
        with open(leftover, "w") as f:
            f.write("half")
    fs.write_text(path, "a==1\n")
    assert sorted(backend.listing(backend.path())) == [".constraints.txt.tmp-%d" % os.getppid(), ".other.txt.tmp-999999999",
                                                       "constraints.txt"]
