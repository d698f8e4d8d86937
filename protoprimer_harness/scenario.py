"""Scenario files: a versioned TOML description of one simulated run (given / when / then).

A scenario names a world (`[given]`), one command to run in it (`[when]`) and what must be observed
(`[then]`). This module is the public face of the file format; the work is done by modules named after
their role:

- `_scenario_model`: the model (`Scenario`, `Given`, `RunSpec`, `FileExpectation`) and
  `Scenario.build_world`;
- `_scenario_keys`: `Key` and `KeyTable`, how every key is declared once (parse, check, doc);
- `_scenario_reader`: `Reader`, the typed getters every parse function is built from;
- `_scenario_given`: the `[given]` and `[when]` keys (`GIVEN_KEYS`, `WHEN_KEYS`);
- `_scenario_then`: the `[then]` keys (`THEN_KEYS`) with their check functions, and `Then`;
- `_scenario_load`: `load_scenario` / `parse_scenario` (the top level, format versions, TOML errors);
- `_scenario_run`: `run_scenario` and `check_expectations` (the report of every failed expectation);
- `_scenario_toml`: the TOML parser shim (`toml_module`) and `HarnessMissing`.

None of them imports pytest; `protoprimer_harness.plugin` is the thin layer that turns scenario files into
pytest items. The format is described for users in docs/scenarios.md.

Invariants:
- every problem in a file is a `ScenarioError` whose message starts with the file's name and names the
  offending key by its dotted path (`then.files."x.txt".text`), with the valid alternatives;
- a loaded `Scenario` is plain data: loading never touches a world, and building a world
  (`Scenario.build_world`) never runs anything;
- `{root}` in any string of a scenario is the world's repo root (`{{root}}` is a literal `{root}`), so
  absolute paths are written portably; relative paths in a scenario are relative to the repo root;
- `check_expectations` evaluates every expectation and reports all failures together.

    from protoprimer_harness.scenario import load_scenario, run_scenario, check_expectations
    scenario = load_scenario("scenarios/examples/eval_instant.toml")
    outcome = run_scenario(scenario)         # build the world, run `before`, run `when`
    check_expectations(scenario, outcome)    # AssertionError listing every failed expectation
"""

from ._scenario_keys import Key, KeyTable
from ._scenario_load import SUPPORTED_FORMATS, default_file_name, load_scenario, parse_scenario
from ._scenario_model import DEFAULT_ROOT, FileExpectation, Given, MainSpec, RunSpec, Scenario, ScenarioError, ShellData
from ._scenario_run import check_expectations, run_scenario
from ._scenario_then import THEN_KEYS, Then
from ._scenario_toml import INSTALL_HINT, HarnessMissing

__all__ = [
    "DEFAULT_ROOT",
    "FileExpectation",
    "Given",
    "HarnessMissing",
    "INSTALL_HINT",
    "Key",
    "KeyTable",
    "MainSpec",
    "RunSpec",
    "SUPPORTED_FORMATS",
    "Scenario",
    "ScenarioError",
    "ShellData",
    "THEN_KEYS",
    "Then",
    "check_expectations",
    "default_file_name",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]
