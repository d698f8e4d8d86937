"""Python starts per command, counted from the successful execve calls of a run (strace -f).

A python start is an execve of a file named python, python3 or python3.X (a venv's bin/python included).
`total` counts every one of the run (the kernel's restart chain, its probes, pip and its build-isolation
subprocesses); `chain` counts those that replaced the process the user started (the restart chain:
`./prime` -> /usr/bin/env -> python3 -> ... are one pid throughout, each hop an execve).

Without strace (not installed, or ptrace not permitted) the counts come from the kernels' file logs:
our kernel logs one "restarting as" line per restart, so its chain is 1 + that count; the total is not
known then.
"""

import glob
import os
import re
import subprocess
import tempfile

PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
EXECVE = re.compile(r'^(\d+)\s+execve\("([^"]*)"')
RESUMED = re.compile(r"^(\d+)\s+<\.\.\. execve resumed>.*=\s*(-?\d+)")
RESULT = re.compile(r"=\s*(-?\d+)(\s+\S+.*)?$")


class Starts(object):
    def __init__(self, total, chain, how):
        self.total = total
        self.chain = chain
        self.how = how

    def text(self):
        if self.total is None:
            return "%d (chain, from the log)" % self.chain
        if self.chain is None:
            return "%d" % self.total
        return "%d (chain %d)" % (self.total, self.chain)


def parse_execves(text):
    """[(pid, path)] of the successful execve calls in strace -f output (in order)."""
    done = []
    pending = {}
    for line in text.splitlines():
        m = EXECVE.match(line)
        if m:
            pid, path = int(m.group(1)), m.group(2)
            if line.rstrip().endswith("<unfinished ...>"):
                pending[pid] = path
                continue
            r = RESULT.search(line)
            if r and r.group(1) == "0":
                done.append((pid, path))
            continue
        m = RESUMED.match(line)
        if m:
            pid = int(m.group(1))
            path = pending.pop(pid, None)
            if path is not None and m.group(2) == "0":
                done.append((pid, path))
    return done


def count(strace, commands, cwd, env, chain=True):
    """Starts of running `commands` in order (their counts add up; `chain` only for one command)."""
    total = 0
    chain_count = 0
    for argv in commands:
        fd, out = tempfile.mkstemp(prefix="bench-strace-", suffix=".txt")
        os.close(fd)
        try:
            result = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", out] + list(argv), cwd=cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    universal_newlines=True)
            if result.returncode != 0:
                raise RuntimeError("`%s` under strace exited %d:\n%s" % (" ".join(argv), result.returncode, result.stderr[-1500:]))
            with open(out, encoding="utf-8", errors="replace") as f:
                execs = parse_execves(f.read())
        finally:
            os.remove(out)
        if not execs:
            raise RuntimeError("strace saw no execve of `%s`" % " ".join(argv))
        root = execs[0][0]
        pythons = [(pid, path) for pid, path in execs if PYTHON_NAME.match(os.path.basename(path))]
        total += len(pythons)
        chain_count += sum(1 for pid, _ in pythons if pid == root)
    return Starts(total, chain_count if chain and len(commands) == 1 else None, "strace")


def count_from_log(run_command, log_dir):
    """Fallback without strace: run the command and read the new log file of our kernel."""
    before = set(glob.glob(os.path.join(log_dir, "*.log")))
    run_command()
    new = sorted(set(glob.glob(os.path.join(log_dir, "*.log"))) - before)
    restarts = 0
    for path in new:
        with open(path, encoding="utf-8", errors="replace") as f:
            restarts += sum(1 for line in f if "restarting as " in line)
    return Starts(None, 1 + restarts, "log")
