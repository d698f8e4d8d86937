"""The program the process-chain contract runs, written once against the kernel's ports.

The real backend runs it in real interpreters (`chain_script.py` loads the kernel file and this file by
path and calls `chain_program(kernel.real_host())`); the fake backend runs it as the main of a stub kernel
in a simulated process. Standard library only: real child interpreters import it by path.
"""

import json
import os

# What a first process hands over to (set by the test, read by the program).
NEXT_ARGV_VARIABLE = "CONTRACT_NEXT_ARGV"
NEXT_ENV_VARIABLE = "CONTRACT_NEXT_ENV"
EXIT_VARIABLE = "CONTRACT_EXIT"


def observation(host):
    """What a process sees of itself through the environment port, as one JSON line."""
    env = host.env
    variables = env.variables()
    return json.dumps({
        "script": os.path.basename(env.argv[0]) if env.argv else None,
        "argv": env.argv,
        "pid": env.pid,
        "isolated": bool(env.isolated),
        "contract_env": {k: v for k, v in sorted(variables.items()) if k.startswith("CONTRACT_")},
    }, sort_keys=True)


def chain_program(host):
    """Print an observation; then replace this process with the argv/env named by the environment (JSON),
    or return the exit code it names."""
    env = host.env
    env.write_stdout(observation(host) + "\n")
    next_argv = env.get(NEXT_ARGV_VARIABLE)
    if next_argv:
        host.proc.replace(json.loads(next_argv), json.loads(env.get(NEXT_ENV_VARIABLE)))
        raise AssertionError("replace() returned")
    return int(env.get(EXIT_VARIABLE, "0"))
