"""Drift: every committed tape (scenarios/tapes/*.tape.toml), re-recorded today from its own recipe on this
machine, must make the same calls in the same order and end the same way.

The fast tier replays the tapes against the kernel; this test keeps the tapes honest against the real
world they were recorded from (python -m venv, pip, the filesystem). It compares call sequences (port, op,
normalised args, with the pid, times, file signatures and the interpreter's version masked), never
results: pip's output and the like differ from one machine and run to the next. The new recordings go to
tmp_path; the committed files are not touched. A drifted tape is re-recorded with
`venv/bin/python -m protoprimer_harness.tape record-all scenarios/tapes --only NAME`.
"""

from pathlib import Path

import pytest

from protoprimer_harness.tape import TapeError, drift_report
from protoprimer_harness._tape_format import load_tape, tape_name
from protoprimer_harness.tape_recipes import ensure_wheelhouse, record_recipe

pytestmark = pytest.mark.integration

TAPES_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "tapes"
TAPES = sorted(TAPES_DIR.glob("*.tape.toml"))


@pytest.fixture(scope="session")
def tape_wheelhouse():
    """setuptools and wheel for the recordings' pip (downloaded once, kept in the temp dir)."""
    try:
        return ensure_wheelhouse()
    except TapeError as e:
        pytest.fail(str(e), pytrace=False)


def test_there_are_tapes_to_check():
    assert len(TAPES) >= 8, "expected the committed tapes in %s" % TAPES_DIR


@pytest.mark.parametrize("path", TAPES, ids=[tape_name(str(p)) for p in TAPES])
def test_a_real_run_today_makes_the_calls_of_the_committed_tape(path, tape_wheelhouse, tmp_path):
    committed = load_tape(str(path))
    if committed.recipe is None:
        pytest.skip("%s has no [recipe]: it cannot be re-recorded" % path.name)
    fresh, _ = record_recipe(committed.recipe, str(tmp_path / path.name), wheelhouse=tape_wheelhouse,
                             workdir=str(tmp_path))
    report = drift_report(committed, fresh, tape_name(str(path)))
    if report:
        pytest.fail("%s\n(the new recording: %s)" % (report, tmp_path / path.name), pytrace=False)
