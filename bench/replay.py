"""Time the harness replaying one scenario file, in a process of its own (the bench runs it with the
repo's venv python, which has the harness installed).

    venv/bin/python bench/replay.py SCENARIO_FILE ROUNDS

prints one JSON line: the import time of the harness, and the seconds of each full run of the scenario
(load the file, build the world, run the kernel against it, check every expectation: what the plugin
does per scenario). The first run pays one-time costs (lazy imports, caches); the bench reports the
median of the others.
"""

import json
import os
import sys
import time


def main(argv):
    path, rounds = os.path.abspath(argv[0]), int(argv[1])
    start = time.perf_counter()
    from protoprimer_harness.scenario import load_scenario, run_scenario

    imported = time.perf_counter() - start
    name = os.path.relpath(path)
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        scenario = load_scenario(path, file_name=name)
        run_scenario(scenario, check=True)
        seconds.append(time.perf_counter() - start)
    sys.stdout.write(json.dumps({"import": imported, "seconds": seconds}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
