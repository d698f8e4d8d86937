"""Running a loaded scenario and reporting on it.

`run_scenario` builds the scenario's world, runs the `before` steps and the `[when]` command in one
session and returns the `Outcome` of the `[when]` run; `check_expectations` checks every expectation of
`[then]` against it (each with its key's check function, protoprimer_harness._scenario_then) and raises one
`AssertionError` reporting all that failed:

    scenarios/conf/x.toml: 1 of 3 expectations failed
      title: ...
      run:   ./prime eval --json

    [then.exit]
      expected exit 0, got 2

    --- stderr ---
    ...
    --- stdout: (empty) ---
"""

import os
import shutil
from typing import Any, List, Tuple

from .errors import HarnessError
from .outcome import ExpectationFailure, output_tails
from ._scenario_model import RunSpec, Scenario

__all__ = ["check_expectations", "run_scenario"]


def run_scenario(scenario: Scenario, check: bool = False):
    """Build the scenario's world, activate it, run the `before` commands (each must end with its `exit`,
    or an AssertionError names the command) and then the `when` command; return the Outcome of the
    `when` run. With `check=True` the expectations are checked too (see `check_expectations`)."""
    world = scenario.build_world()
    with world.activate() as session:
        for i, before in enumerate(scenario.given.before):
            _change_files(session, before)
            outcome = _run(session, before)
            if outcome.exit_code != before.exit:
                raise AssertionError(
                    "%s: before run given.before[%d] `%s` exited %d, expected %d (the `when` run did not "
                    "start)\n  title: %s\n%s" % (scenario.file_name, i, before.display(), outcome.exit_code,
                                                 before.exit, scenario.title,
                                                 output_tails(outcome.stderr, outcome.stdout)))
        _change_files(session, scenario.when)
        outcome = _run(session, scenario.when)
    if check:
        check_expectations(scenario, outcome)
    return outcome


def _run(session, spec: RunSpec):
    return session.run(
        list(spec.command) if isinstance(spec.command, tuple) else spec.command,
        env=dict(spec.env) if spec.env else None,
        cwd=spec.cwd,
    )


def _change_files(session, spec: RunSpec) -> None:
    """Apply a `before` step's file edits (as a person would between two runs)."""
    for path in spec.remove:
        target = session.path(path)
        if os.path.islink(target) or os.path.isfile(target):
            os.remove(target)
        elif os.path.isdir(target):
            shutil.rmtree(target)
        else:
            raise HarnessError("before: cannot remove %s: nothing is there" % target)
    for path, entry in spec.files.items():
        session.write_text(path, entry.text, executable=entry.executable)


def check_expectations(scenario: Scenario, outcome) -> None:
    """Check every expectation of `[then]` against `outcome`; raise one AssertionError listing all
    that failed (each under its key), headed by the scenario file's name and title and followed, once,
    by the tails of stderr and stdout."""
    expectations = scenario.then.expectations()
    failures: List[Tuple[str, str]] = []
    for dotted, key, value in expectations:
        try:
            key.check(outcome, value)
        except ExpectationFailure as failure:
            failures.append((dotted, failure.explanation))
        except AssertionError as error:
            failures.append((dotted, str(error) or "failed"))
    if failures:
        raise AssertionError(_report(scenario, outcome, failures, len(expectations)))


def _report(scenario: Scenario, outcome: Any, failures: List[Tuple[str, str]], checked: int) -> str:
    lines = [
        "%s: %d of %d expectations failed" % (scenario.file_name, len(failures), checked),
        "  title: %s" % scenario.title,
        "  run:   %s" % scenario.when.display(),
    ]
    for dotted, explanation in failures:
        lines.append("")
        lines.append("[%s]" % dotted)
        lines.extend("  " + line if line else "" for line in explanation.splitlines())
    lines.append("")
    lines.append(output_tails(outcome.stderr, outcome.stdout))
    return "\n".join(lines)
