"""A/B alternation and medians.

A contender is a name, an action (one or more subprocesses, timed together with time.perf_counter
around subprocess.run) and an optional untimed setup (a cold boot's reset). Contenders of one figure
are measured side by side: each round runs every contender once, the order rotating from round to
round, so drift of the machine (caches, CPU frequency, other load) hits all of them alike. One warm-up
round is run first and discarded. Figures are medians over the rounds.
"""

import statistics
import subprocess
import time


class BenchError(Exception):
    pass


def run(argv, cwd, env, timeout=600):
    """Run a command to completion, output captured; a non-zero exit is a BenchError with its tail."""
    result = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise BenchError("`%s` in %s exited %d:\n%s" % (" ".join(argv), cwd, result.returncode, "\n".join(output[-15:])))
    return result


class Contender(object):
    def __init__(self, name, commands, cwd, env, setup=None, repeat=1):
        self.name = name
        self.commands = [list(argv) for argv in commands]
        self.cwd = cwd
        self.env = env
        self.setup = setup
        self.repeat = repeat  # timed runs per round (cheap contenders beside an expensive one)

    def once(self):
        """Run the setup (untimed), then the commands; return the seconds the commands took."""
        if self.setup is not None:
            self.setup()
        total = 0.0
        for argv in self.commands:
            start = time.perf_counter()
            result = subprocess.run(argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
            total += time.perf_counter() - start
            if result.returncode != 0:
                tail = "\n".join(result.stderr.strip().splitlines()[-15:])
                raise BenchError("%s: `%s` exited %d:\n%s" % (self.name, " ".join(argv), result.returncode, tail))
        return total


class Samples(object):
    """The seconds of every timed run of one contender."""

    def __init__(self, name):
        self.name = name
        self.seconds = []

    @property
    def median(self):
        return statistics.median(self.seconds) if self.seconds else None


def alternate(contenders, rounds, warmup=1, progress=None):
    """Time `contenders` side by side for `rounds` rounds; {name: Samples}."""
    samples = dict((c.name, Samples(c.name)) for c in contenders)
    n = len(contenders)
    for r in range(warmup + rounds):
        order = contenders[r % n:] + contenders[:r % n]
        for contender in order:
            for _ in range(contender.repeat):
                seconds = contender.once()
                if r >= warmup:
                    samples[contender.name].seconds.append(seconds)
        if progress is not None:
            progress(r + 1, warmup + rounds)
    return samples
