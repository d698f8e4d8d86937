"""protoprimer's testing harness: simulated worlds in which the kernel runs in-process.

The core (this package minus `plugin`) imports neither pytest nor pyfakefs at import time; pyfakefs is
imported when a world is activated.

    from protoprimer_harness import World
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")
    with world.activate() as session:
        outcome = session.run("./prime eval --json")
    outcome.assert_exit(0)
"""

# Names resolve on first use (PEP 562): the pytest plugin imports `protoprimer_harness.plugin` in every pytest run of
# a client venv, and must not pay for loading the whole core.
_EXPORTS = {
    "HarnessError": "errors",
    "LockWaitError": "errors",
    "ProcessKilled": "errors",
    "ProcessReplaced": "errors",
    "RestartLoopError": "errors",
    "SimulationSignal": "errors",
    "UnknownCommandError": "errors",
    "UnknownMainError": "errors",
    "UnsupportedProgramError": "errors",
    "CommandRecord": "outcome",
    "MainCall": "outcome",
    "Outcome": "outcome",
    "ProcessRecord": "outcome",
    "ShellRecord": "outcome",
    "OpenProcess": "runner",
    "TapeMismatch": "tape",
    "TapeRun": "tape",
    "record_tape": "tape",
    "replay_tape": "tape",
    "WorldSession": "session",
    "Interpreter": "world",
    "World": "world",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError("module 'protoprimer_harness' has no attribute %r" % name)
    import importlib

    return getattr(importlib.import_module("." + module_name, __name__), name)
