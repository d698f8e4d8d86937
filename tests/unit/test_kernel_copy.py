"""The kernel copy's generated format: line for line with the source, a header on lines 2-10, body
markers on blank lines at least 20 lines apart; the copy still compiles and runs."""
import subprocess
import sys

import pytest

from protoprimer import primer_kernel as kernel

SOURCE = open(kernel.__file__, encoding="utf-8").read()


def test_the_copy_has_the_same_number_of_lines_as_the_source():
    assert len(kernel.generated_copy_text(SOURCE).splitlines()) == len(SOURCE.splitlines())


def test_lines_2_to_10_are_the_generated_header_and_line_11_is_untouched():
    copy = kernel.generated_copy_text(SOURCE).splitlines()
    assert copy[0] == "#!/usr/bin/env python3"
    assert tuple(copy[1:10]) == kernel.GENERATED_HEADER
    assert copy[10] == SOURCE.splitlines()[10]


def test_body_markers_replace_only_blank_lines_at_least_20_lines_apart():
    source = SOURCE.splitlines()
    copy = kernel.generated_copy_text(SOURCE).splitlines()
    markers = [i for i, line in enumerate(copy) if line == kernel.GENERATED_BODY_MARKER]
    assert markers, "a 2000-line source gets body markers"
    assert all(source[i].strip() in ("", "#") for i in markers)
    assert all(b - a > kernel.MIN_LINES_BETWEEN_MARKERS for a, b in zip(markers, markers[1:]))
    assert all(c == s for i, (c, s) in enumerate(zip(copy, source)) if i not in markers and i >= 10)


def test_the_copy_compiles_and_runs_eval(tmp_path):
    copy = tmp_path / "proto_kernel.py"
    copy.write_text(kernel.generated_copy_text(SOURCE))
    (tmp_path / ".python-version").write_text("%d.%d\n" % sys.version_info[:2])
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "client"\nversion = "0"\n')
    result = subprocess.run([sys.executable, str(copy), "eval", "--json", "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"leap_derived"' in result.stdout


def test_generating_from_a_copy_gives_the_same_copy():
    once = kernel.generated_copy_text(SOURCE)
    assert kernel.generated_copy_text(once) == once


def test_a_source_without_the_reserved_lines_is_refused():
    with pytest.raises(kernel.PrimerError, match="does not reserve lines 2-10"):
        kernel.generated_copy_text('#!/usr/bin/env python3\n"""doc"""\n' + "x = 1\n" * 30)


def test_this_repos_committed_copy_is_the_generated_text_of_the_source():
    """./prime refreshes cmd/proto_code/proto_kernel.py from the source; commit both together."""
    import pathlib

    copy = pathlib.Path(kernel.__file__).resolve().parents[1] / "cmd" / "proto_code" / "proto_kernel.py"
    assert copy.read_text(encoding="utf-8") == kernel.generated_copy_text(SOURCE), (
        "the committed kernel copy is stale: run ./prime (it refreshes the copy) and commit it"
    )
