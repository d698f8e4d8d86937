"""protoprimer's testing harness: simulated worlds in which the kernel runs in-process.

    from protoprimer_harness import World
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")
    with world.activate() as session:
        outcome = session.run("./prime eval --json")
    outcome.assert_exit(0)

The public surface is `__all__`: the names the documentation tells users to import (README.md, docs/*.md;
tests/harness/test_public_surface.py keeps the two the same). Each also lives in the module named below,
where the docs may import it from as well.

The public modules are `world`, `session`, `outcome` (worlds, sessions, what a run leaves), `scenario`
(scenario files), `tape` and `tape_recipes` (tapes), `guards`, `errors`, `plugin` (the pytest plugin) and
`tools` with `tools.base` and `tools.common` (what a tool of your own imports). Modules whose name starts
with `_` (`_runner`, `_fake_tools`, `tools._pip`, ...) are the harness's own workings: import from them at
the risk of their changing.

The core (this package minus `plugin`) imports neither pytest nor pyfakefs at import time; pyfakefs is
imported when a world is activated. The pytest plugin is `protoprimer_harness.plugin` (docs/scenarios.md);
the guards its fixtures wrap are `protoprimer_harness.guards`; the limits of the simulation are in
docs/limitations.md.
"""

# Names resolve on first use (PEP 562): the pytest plugin imports `protoprimer_harness.plugin` in every pytest run
# of a client venv, and must not pay for loading the whole core. name -> the module that provides it.
_EXPORTS = {
    # worlds, sessions and what a run leaves (docs/harness.md, docs/scenarios.md)
    "World": "world",
    "repo_files": "world",
    "WorldSession": "session",
    "Outcome": "outcome",
    "CommandRecord": "outcome",
    "ShellRecord": "outcome",
    "MainCall": "outcome",
    # a tool of your own for `World.add_tool` (docs/harness.md, "The tool table")
    "ToolCall": "tools.base",
    "ToolResult": "tools.base",
    "ToolRefusal": "tools.base",
    # scenario files from Python (docs/scenarios.md)
    "load_scenario": "scenario",
    "run_scenario": "scenario",
    "check_expectations": "scenario",
    # tapes (docs/tapes.md)
    "record_tape": "tape",
    "replay_tape": "tape",
    "record_recipe": "tape_recipes",
    "TapeRun": "tape",
    "TapeMismatch": "tape",
    "TapeUnconsumed": "tape",
    "TapeOutcomeMismatch": "tape",
    "TapeUnsupported": "tape",
    # the guards around a test, without pytest (docs/scenarios.md, "Python tests: fixtures and guards")
    "EnvGuard": "guards",
    "CwdGuard": "guards",
    "FsGuard": "guards",
    "SessionGuard": "guards",
    "GuardViolation": "guards",
    # what stops a run (docs/harness.md, docs/limitations.md)
    "HarnessError": "errors",
    "RestartLoopError": "errors",
    "SimulationSignal": "errors",
    "UnknownCommandError": "errors",
    "UnknownMainError": "errors",
    "UnsupportedProgramError": "errors",
    "LockWaitError": "errors",
    "ProcessKilled": "errors",
    "ProcessReplaced": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError("module 'protoprimer_harness' has no attribute %r" % name)
    import importlib

    # Not cached in this module: the module in sys.modules is the one pyfakefs patches, and a test runner may
    # replace it (pytester's in-process runs restore sys.modules), so every lookup asks sys.modules.
    return getattr(importlib.import_module("." + module_name, __name__), name)


def __dir__():
    return sorted(set(globals()) | set(__all__))
