"""protoprimer's testing harness: simulated worlds in which the kernel runs in-process.

The core (this package minus `plugin`) imports neither pytest nor pyfakefs at import time; pyfakefs is
imported when a world is activated.

    from harness import World
    world = World().apply_layout("min").add_interpreter("python3", "3.11.7")
    with world.activate() as session:
        outcome = session.run("./prime eval --json")
    outcome.assert_exit(0)
"""

from .errors import (
    HarnessError,
    ProcessReplaced,
    RestartLoopError,
    SimulationSignal,
    UnknownCommandError,
    UnknownMainError,
    UnsupportedProgramError,
)
from .outcome import CommandRecord, MainCall, Outcome, ProcessRecord
from .session import WorldSession
from .world import Interpreter, World

__all__ = [
    "CommandRecord",
    "HarnessError",
    "Interpreter",
    "MainCall",
    "Outcome",
    "ProcessRecord",
    "ProcessReplaced",
    "RestartLoopError",
    "SimulationSignal",
    "UnknownCommandError",
    "UnknownMainError",
    "UnsupportedProgramError",
    "World",
    "WorldSession",
]
