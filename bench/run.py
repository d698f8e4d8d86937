"""Benchmarks: this project against the reference tool (protoprimer 0.13.0) and the plain tools.

    venv/bin/python bench/run.py [--quick] [--update-doc]

Builds identical sample repos under bench/cache/work/ (recreated at every run), measures every figure
side by side (A/B alternation, medians) and prints one markdown report: the figures, the targets as
ratios from the same run, and the python starts per command. The report is also written to
bench/cache/last-report.md; --update-doc puts it into docs/performance.md (between its markers).
--quick is a smoke run: the same figures with a few rounds each.

Run it with the repo's venv python (./prime builds it): the harness replay and the scenario suite need
the harness and pytest; everything else runs in subprocesses with an environment of its own (see
bench/machine.py). The package index is used only to fill bench/cache/ the first time.
"""

import argparse
import datetime
import os
import platform
import shutil
import sys
import time
import traceback

sys.dont_write_bytecode = True  # the bench writes nothing into the repo but bench/cache/ and the doc

import figures  # noqa: E402
import repos  # noqa: E402
import table  # noqa: E402
from machine import CACHE_DIR, REPO_ROOT, SOURCE_KERNEL, Machine, SetupError  # noqa: E402
from timing import BenchError  # noqa: E402

DOC = os.path.join(REPO_ROOT, "docs", "performance.md")
BEGIN = "<!-- bench:begin (written by bench/run.py --update-doc) -->"
END = "<!-- bench:end -->"


def log(message):
    sys.stderr.write("bench: %s\n" % message)
    sys.stderr.flush()


def first_boots(twins):
    """Boot every twin once (this also warms pip's, uv's and the OS's caches for all alike), then run the
    kernel twins' entry scripts again: the warm figures start from a venv that no-op runs have seen (and,
    for the default form, recorded)."""
    for name, twin in twins.items():
        start = time.perf_counter()
        twin.cold_boot()
        log("  first boot of %s: %.1f s" % (name, time.perf_counter() - start))
    twins["ref-pip"].run(twins["ref-pip"].prime())
    ours = twins["ours-pip"]
    for argv in (["./boot"], ["./boot"], ["./boot"], ours.prime(), ours.app(), ["./prime-plain"], ["./app-plain"]):
        ours.run(argv)  # the cold boot records the inputs, the first no-op what they look like


def update_doc(text):
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit("%s has no %r ... %r markers" % (DOC, BEGIN, END))
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)
    log("updated %s" % DOC)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: every figure, a few rounds each")
    parser.add_argument("--update-doc", action="store_true", help="write the report into docs/performance.md")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 11):
        log("warning: the bench is meant to run with the repo's venv python (3.11), this is %s" % platform.python_version())
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    work = os.path.join(CACHE_DIR, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    settings = figures.Settings(args.quick)
    report = figures.Report()
    try:
        machine = Machine(work, log)
        log("building the sample repos in %s" % os.path.join(work, "repos"))
        twins = repos.make_twins(machine, SOURCE_KERNEL)
        first_boots(twins)
    except (SetupError, BenchError) as error:
        log("setup failed: %s" % error)
        return 2
    ctx = figures.Context(machine, twins, settings, report, log)
    steps = [
        ("warm no-op ./prime", figures.warm_noop_prime),
        ("start_app", figures.warm_start_app),
        ("through a pyenv-style shim", figures.warm_through_a_shim),
        ("eval", figures.warm_eval),
        ("kernel import", figures.kernel_import),
        ("cold boot, pip", lambda c: figures.cold_boot(c, "venv_pip")),
        ("cold boot, uv", lambda c: figures.cold_boot(c, "venv_uv")),
        ("python starts", figures.python_starts),
        ("harness replay", figures.harness_replay),
        ("scenario suite", figures.scenario_suite),
    ]
    failed = 0
    for name, step in steps:
        try:
            step(ctx)
        except Exception as error:  # one failed figure must not lose the others
            failed += 1
            report.rows.append(figures.Row(name, "error", "error", "error", note=str(error).splitlines()[0][:200]))
            report.notes.append("%s failed:\n%s" % (name, "".join(traceback.format_exception(type(error), error, error.__traceback__))[-3000:]))
            log("%s failed: %s" % (name, error))
    total = time.perf_counter() - started
    versions = machine.tool_versions()
    header = [
        "Run: `venv/bin/python bench/run.py%s` on %s, %s, %d CPUs; total %.0f s%s." % (
            " --quick" if args.quick else "", datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            platform.platform(terse=True), os.cpu_count() or 0, total, " (quick: few rounds, smoke only)" if args.quick else ""),
        "",
        "Python %s; %s; %s; wheelhouse: %s; this project's kernel: %s (%s)." % (
            versions["python"], versions["pip"], versions["uv"], versions["wheelhouse"], _kernel_version(), _git_head()),
        "",
        "Load average (1 min) at the start and the end of the run: %.2f, %.2f (the bench shares the machine with "
        "whatever else runs; the A/B alternation keeps the ratios fair, the absolute times move with the load)." % (
            load_before, os.getloadavg()[0]),
    ]
    text = table.render(report, header)
    sys.stdout.write(text)
    with open(os.path.join(CACHE_DIR, "last-report.md"), "w", encoding="utf-8") as f:
        f.write(text)
    if args.update_doc:
        update_doc(text)
    log("done in %.0f s" % total)
    return 1 if failed else 0


def _git_head():
    import subprocess

    result = subprocess.run(["git", "-C", REPO_ROOT, "log", "-1", "--format=%h"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, universal_newlines=True)
    dirty = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--", "protoprimer"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, universal_newlines=True)
    head = result.stdout.strip() or "unknown commit"
    return "commit %s%s" % (head, ", protoprimer/ modified" if dirty.stdout.strip() else "")


def _kernel_version():
    with open(SOURCE_KERNEL, encoding="utf-8") as f:
        for line in f:
            if line.startswith("__version__ = "):
                return line.split("=", 1)[1].strip().strip('"')
    return "?"


if __name__ == "__main__":
    sys.exit(main())
