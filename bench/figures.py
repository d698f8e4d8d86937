"""The figures: each function measures one group side by side and adds rows to the report.

Columns of a figure row: this project, the reference (protoprimer 0.13.0), and the baseline (the bare
interpreter start, or the plain tools). Targets are ratios of medians from the same alternation.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import repos
import starts
from machine import REPO_ROOT
from timing import BenchError, Contender, alternate

COLD_BOOT_SCENARIO = "scenarios/chain/cold_boot_from_a_bare_python.toml"

KERNEL_LOAD = (
    "import importlib.util, sys; spec = importlib.util.spec_from_file_location('proto_kernel', sys.argv[1]); "
    "module = importlib.util.module_from_spec(spec); sys.modules['proto_kernel'] = module; spec.loader.exec_module(module)"
)


class Settings(object):
    def __init__(self, quick):
        self.quick = quick
        # rounds of each alternation (each contender runs once per round, cheap ones `repeat` times)
        self.warm_rounds = 3 if quick else 9
        self.warm_repeat = 2 if quick else 3
        self.small_rounds = 5 if quick else 15
        self.load_rounds = 5 if quick else 41
        self.cold_pip_rounds = 1 if quick else 5
        self.cold_uv_rounds = 2 if quick else 7
        self.replay_rounds = 4 if quick else 21


class Row(object):
    def __init__(self, figure, ours=None, ref=None, base=None, base_is="", runs="", note=""):
        self.figure = figure
        self.ours = ours
        self.ref = ref
        self.base = base
        self.base_is = base_is
        self.runs = runs
        self.note = note


class Target(object):
    def __init__(self, label, measured, limit, verdict, note=""):
        self.label = label
        self.measured = measured
        self.limit = limit
        self.verdict = verdict
        self.note = note


class StartsRow(object):
    def __init__(self, command, ours, ref, base, base_is=""):
        self.command = command
        self.ours = ours
        self.ref = ref
        self.base = base
        self.base_is = base_is


class Report(object):
    def __init__(self):
        self.rows = []
        self.targets = []
        self.starts = []
        self.medians = {}  # (figure key, contender) -> seconds
        self.notes = []


def ms(seconds):
    if seconds is None:
        return "-"
    if seconds >= 1.0:
        return "%.2f s" % seconds
    return "%.1f ms" % (seconds * 1000.0)


def ratio_text(value):
    return "%.2fx" % value if value < 10 else "%.0fx" % value


def verdict(ok):
    return "met" if ok else "**MISSED**"


class Context(object):
    def __init__(self, machine, twins, settings, report, log):
        self.machine = machine
        self.twins = twins
        self.settings = settings
        self.report = report
        self.log = log
        self.fast = repos.fast_wrap_supported(twins["ours-pip"])

    def progress(self, what):
        def tick(done, total):
            self.log("  %s: round %d/%d" % (what, done, total))

        return tick

    def contender(self, name, twin, commands, **kwargs):
        return Contender(name, commands, twin.root, kwargs.pop("env", None) or twin.env(), **kwargs)


# --- warm runs


def warm_noop_prime(ctx):
    """Warm no-op ./prime: ours and the reference against a bare `python3 -c pass` through the same
    shebang and PATH; the fast entry-script form when the kernel has `wrap --fast`."""
    s = ctx.settings
    ours, ref = ctx.twins["ours-pip"], ctx.twins["ref-pip"]
    bare_argv = ours.shebang() + ["-c", "pass"]
    bare_is = "`%s -c pass`" % " ".join(ours.shebang())
    contenders = [
        ctx.contender("ours", ours, [ours.prime()], repeat=s.warm_repeat),
        ctx.contender("bare", ours, [bare_argv], repeat=s.warm_repeat),
        ctx.contender("ref", ref, [ref.prime()]),
    ]
    fast = ctx.fast
    if fast:
        contenders.insert(1, ctx.contender("fast", ours, [repos.make_fast_entry(ours, "boot_env")], repeat=s.warm_repeat))
        uv_sync = ctx.twins["uv-sync"]
        contenders.append(ctx.contender("uv-sync", uv_sync, [[ctx.machine.uv, "sync", "--python", ctx.machine.python]],
                                        repeat=s.warm_repeat))
    ctx.log("warm no-op ./prime (%d rounds)" % s.warm_rounds)
    got = alternate(contenders, s.warm_rounds, progress=ctx.progress("warm ./prime"))
    _check_warm_was_noop(ctx, ours)
    o, b, r = got["ours"].median, got["bare"].median, got["ref"].median
    rep = ctx.report
    runs = "%d / %d" % (len(got["ours"].seconds), len(got["ref"].seconds))
    rep.rows.append(Row("warm no-op `./prime`", ms(o), ms(r), ms(b), bare_is, runs, "runs: ours / reference"))
    rep.targets.append(Target("warm no-op `./prime` within 1.3x of a bare `python3 -c pass` (same shebang, PATH)",
                              ratio_text(o / b), "<= 1.3x", verdict(o / b <= 1.3)))
    rep.targets.append(Target("warm no-op `./prime` at least 50x faster than the reference", ratio_text(r / o), ">= 50x", verdict(r / o >= 50)))
    if fast:
        f = got["fast"].median
        rep.rows.append(Row("warm no-op `./prime-fast` (`wrap --fast`)", ms(f), ms(r), ms(b), bare_is, runs,
                            "the reference has no fast form: its column is its `./prime`"))
        rep.targets.append(Target("fast form: warm no-op `./prime-fast` within 1.3x of the bare start (the `./prime` target)",
                                  ratio_text(f / b), "<= 1.3x", verdict(f / b <= 1.3)))
        rep.targets.append(Target("fast form: warm no-op `./prime-fast` at least 50x faster than the reference", ratio_text(r / f), ">= 50x",
                                  verdict(r / f >= 50)))
        u = got["uv-sync"].median
        rep.rows.append(Row("warm no-op `uv sync` (a uv project, synced)", "-", "-", ms(u), "`uv sync`", runs,
                            "the baseline of the fast form's own target"))
        rep.targets.append(Target("fast form: warm no-op `./prime-fast` within 1.5x of `uv sync`'s no-op", ratio_text(f / u),
                                  "<= 1.5x", verdict(f / u <= 1.5)))
    else:
        rep.rows.append(Row("warm no-op, fast entry script (`wrap --fast`)", "missing", "-", "-", "", "", "the kernel's `wrap` has no `--fast`"))
        rep.targets.append(Target("fast entry-script form (`wrap --fast`)", "-", "(elided in the issue)", "**missing**: `wrap` has no `--fast`"))


def _check_warm_was_noop(ctx, twin):
    """The newest log of ./prime must say the warm run installed nothing (else the figure is not a no-op)."""
    logs = sorted((os.path.getmtime(p), p) for p in _logs(twin) if os.path.basename(p).startswith("prime."))
    if not logs:
        ctx.report.notes.append("could not check that the warm `./prime` of ours was a no-op: no log file")
        return
    with open(logs[-1][1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    if "nothing to install" not in text:
        ctx.report.notes.append("the last warm `./prime` of ours did not log 'nothing to install':\n" + text[-1500:])


def _logs(twin):
    log_dir = twin.path("log")
    return [os.path.join(log_dir, n) for n in os.listdir(log_dir) if n.endswith(".log")] if os.path.isdir(log_dir) else []


def warm_start_app(ctx):
    """./app (start_app): ours and the reference against the bare starts it needs: the first interpreter
    (`python3 -c pass` through the shebang), then the venv's python running the app."""
    s = ctx.settings
    ours, ref = ctx.twins["ours-pip"], ctx.twins["ref-pip"]
    bare = [ours.shebang() + ["-c", "pass"], [ours.venv_python, "-I", "-c", repos.APP_CODE]]
    contenders = [
        ctx.contender("ours", ours, [ours.app()]),
        ctx.contender("bare", ours, bare),
        ctx.contender("ref", ref, [ref.app()]),
    ]
    if ctx.fast:
        contenders.insert(1, ctx.contender("fast", ours, [repos.make_fast_entry(ours, "start_app")]))
        contenders.append(ctx.contender("console", ours, [[ours.path("venv", "bin", "sample-app")]]))
    ctx.log("start_app ./app (%d rounds)" % s.small_rounds)
    got = alternate(contenders, s.small_rounds, progress=ctx.progress("./app"))
    o, b, r = got["ours"].median, got["bare"].median, got["ref"].median
    rep = ctx.report
    bare_is = "`python3 -c pass` + `venv/bin/python -I -c 'app()'`"
    rep.rows.append(Row("warm `./app` (start_app)", ms(o), ms(r), ms(b), bare_is, "%d" % len(got["ours"].seconds)))
    rep.targets.append(Target("start_app within 1.5x of the bare starts it needs", ratio_text(o / b), "<= 1.5x", verdict(o / b <= 1.5)))
    rep.targets.append(Target("start_app at least 2x faster than the reference", ratio_text(r / o), ">= 2x", verdict(r / o >= 2)))
    if ctx.fast:
        f = got["fast"].median
        rep.rows.append(Row("warm `./app-fast` (start_app, `wrap --fast`)", ms(f), ms(r), ms(b), bare_is, "%d" % len(got["fast"].seconds),
                            "the reference has no fast form: its column is its `./app`"))
        rep.targets.append(Target("fast form: start_app within 1.5x of the bare starts of `./app` (the start_app target)", ratio_text(f / b),
                                  "<= 1.5x", verdict(f / b <= 1.5)))
        rep.targets.append(Target("fast form: start_app at least 2x faster than the reference", ratio_text(r / f), ">= 2x", verdict(r / f >= 2)))
        c = got["console"].median
        rep.rows.append(Row("warm `venv/bin/sample-app` (the venv's console script)", "-", "-", ms(c), "the console script",
                            "%d" % len(got["console"].seconds), "the baseline of the fast start_app's own target"))
        rep.targets.append(Target("fast form: start_app within 1.3x of the venv's own console script", ratio_text(f / c), "<= 1.3x",
                                  verdict(f / c <= 1.3)))


def warm_eval(ctx):
    s = ctx.settings
    ours, ref = ctx.twins["ours-pip"], ctx.twins["ref-pip"]
    contenders = [
        ctx.contender("ours", ours, [ours.prime("eval")]),
        ctx.contender("bare", ours, [ours.shebang() + ["-c", "pass"]]),
        ctx.contender("ref", ref, [ref.prime("eval")]),
    ]
    ctx.log("./prime eval (%d rounds)" % s.small_rounds)
    got = alternate(contenders, s.small_rounds, progress=ctx.progress("eval"))
    o, b, r = got["ours"].median, got["bare"].median, got["ref"].median
    ctx.report.rows.append(Row("`./prime eval`", ms(o), ms(r), ms(b), "`python3 -c pass`", "%d" % len(got["ours"].seconds),
                               "reference / ours: %s" % ratio_text(r / o)))


def kernel_import(ctx):
    """Loading the kernel file the way an entry script does (spec_from_file_location + exec_module), in
    a clean interpreter (a venv without pip: no .pth file imports anything before), against the bare
    start of that interpreter. Twice: with bytecode cached in __pycache__ (written by the first run), and
    with PYTHONDONTWRITEBYTECODE=1 and no __pycache__ (the kernel is compiled at every start)."""
    s = ctx.settings
    m = ctx.machine
    kernels = {"ours": os.path.join(REPO_ROOT, "protoprimer", "primer_kernel.py"), "ref": m.reference_kernel}
    root = os.path.join(m.work, "kernel-load")
    paths = {}
    for mode in ("cached", "nocache"):
        for who, source in kernels.items():
            directory = os.path.join(root, mode, who)
            os.makedirs(directory)
            paths[(mode, who)] = os.path.join(directory, "proto_kernel.py")
            shutil.copyfile(source, paths[(mode, who)])
    env = m.env()
    env_nobc = m.env(PYTHONDONTWRITEBYTECODE="1")
    py = m.clean_python
    contenders = [Contender("bare", [[py, "-c", "pass"]], root, env)]
    for (mode, who), path in sorted(paths.items()):
        contenders.append(Contender("%s-%s" % (who, mode), [[py, "-c", KERNEL_LOAD, path]], root, env if mode == "cached" else env_nobc))
    ctx.log("kernel import (%d rounds)" % s.load_rounds)
    got = alternate(contenders, s.load_rounds, progress=ctx.progress("kernel import"))
    for who in kernels:
        if os.path.isdir(os.path.join(root, "nocache", who, "__pycache__")):
            raise BenchError("PYTHONDONTWRITEBYTECODE=1 did not keep the kernel's bytecode from being written")
    b = got["bare"].median
    rep = ctx.report
    n = "%d" % len(got["bare"].seconds)
    for mode, label in (("cached", "bytecode cached"), ("nocache", "PYTHONDONTWRITEBYTECODE=1, no __pycache__")):
        o, r = got["ours-" + mode].median, got["ref-" + mode].median
        rep.rows.append(Row("kernel import, %s (over the bare start)" % label, "%s (+%s)" % (ms(o), ms(o - b)), "%s (+%s)" % (ms(r), ms(r - b)),
                            ms(b), "`python -c pass` (clean venv)", n))
        rep.targets.append(Target("kernel load at most 15 ms over a bare interpreter start, %s" % label, "+" + ms(o - b), "<= 15 ms",
                                  verdict(o - b <= 0.015)))


# --- cold boots


def cold_boot(ctx, driver):
    s = ctx.settings
    t = ctx.twins
    if driver == "venv_pip":
        names = {"ours": "ours-pip", "ref": "ref-pip", "plain": "plain-pip"}
        rounds = s.cold_pip_rounds
    else:
        names = {"ours": "ours-uv", "plain": "plain-uv"}
        rounds = s.cold_uv_rounds
    contenders = [ctx.contender(who, t[name], t[name].cold_commands(), setup=t[name].reset_cold) for who, name in names.items()]
    ctx.log("cold boot, %s (%d rounds)" % (driver, rounds))
    # no warm-up round: every twin was booted once when it was built (caches are warm alike)
    got = alternate(contenders, rounds, warmup=0, progress=ctx.progress("cold boot %s" % driver))
    o, p = got["ours"].median, got["plain"].median
    r = got["ref"].median if "ref" in got else None
    rep = ctx.report
    rep.medians["cold-" + driver] = dict((k, v.median) for k, v in got.items())
    if driver == "venv_pip":
        rep.rows.append(Row("cold boot, pip driver", ms(o), ms(r), ms(p), "`python3 -m venv venv` + `venv/bin/python -m pip install -e .`",
                            "%d" % rounds, "reference / ours: %s" % ratio_text(r / o)))
        rep.targets.append(Target("cold boot, pip driver, within 0.6x of `python -m venv` + `pip install -e .`", ratio_text(o / p), "<= 0.6x",
                                  verdict(o / p <= 0.6)))
    else:
        rep.rows.append(Row("cold boot, uv driver (uv already in its tool venv)", ms(o), "n/a", ms(p),
                            "`uv venv --python python3 venv` + `uv pip install -e .`", "%d" % rounds,
                            "0.13's uv driver runs `uv python install` (a download): not measured offline"))
        rep.targets.append(Target("cold boot, uv driver, within 1.3x of `uv venv` + `uv pip install -e .`", ratio_text(o / p), "<= 1.3x",
                                  verdict(o / p <= 1.3)))


# --- python starts


def python_starts(ctx):
    m = ctx.machine
    t = ctx.twins
    ours, ref = t["ours-pip"], t["ref-pip"]
    rep = ctx.report
    if m.strace is None:
        rep.notes.append("strace is not available: the starts of ours come from its log (the chain only), the reference's are not counted")

    def count(twin, commands, chain=True, reset=False):
        if reset:
            twin.reset_cold()
        if m.strace is not None:
            return starts.count(m.strace, commands, twin.root, twin.env(), chain=chain).text()
        if twin.kind != "ours":
            return "n/a"
        return starts.count_from_log(lambda: [twin.run(argv) for argv in commands], twin.path("log")).text()

    ctx.log("python starts per command (strace: %s)" % ("yes" if m.strace else "no"))
    bare = [ours.shebang() + ["-c", "pass"]]
    rep.starts.append(StartsRow("warm no-op `./prime`", count(ours, [ours.prime()]), count(ref, [ref.prime()]), count(ours, bare), "bare start"))
    if ctx.fast:
        rep.starts.append(StartsRow("warm no-op `./prime-fast`", count(ours, [repos.make_fast_entry(ours, "boot_env")]), "-", count(ours, bare),
                                    "bare start"))
    app_bare = bare + [[ours.venv_python, "-I", "-c", repos.APP_CODE]]
    rep.starts.append(StartsRow("warm `./app` (start_app)", count(ours, [ours.app()]), count(ref, [ref.app()]),
                                count(ours, app_bare, chain=False), "bare starts it needs"))
    if ctx.fast:
        rep.starts.append(StartsRow("warm `./app-fast`", count(ours, [repos.make_fast_entry(ours, "start_app")]), "-",
                                    count(ours, app_bare, chain=False), "bare starts it needs"))
    rep.starts.append(StartsRow("`./prime eval`", count(ours, [ours.prime("eval")]), count(ref, [ref.prime("eval")]), count(ours, bare), "bare start"))
    plain = t["plain-pip"]
    rep.starts.append(StartsRow("cold boot, pip driver", count(ours, [ours.prime()], reset=True), count(ref, [ref.prime()], reset=True),
                                count(plain, plain.cold_commands(), reset=True), "plain venv + pip"))
    ours_uv, plain_uv = t["ours-uv"], t["plain-uv"]
    rep.starts.append(StartsRow("cold boot, uv driver", count(ours_uv, [ours_uv.prime()], reset=True), "n/a",
                                count(plain_uv, plain_uv.cold_commands(), reset=True), "plain uv"))


# --- the harness


def harness_replay(ctx):
    """The harness replaying the cold-boot scenario (in a process of its own) against the real cold boot
    it models (ours, pip driver, from the cold-boot figure of this run)."""
    s = ctx.settings
    ctx.log("harness replay of %s (%d runs)" % (COLD_BOOT_SCENARIO, s.replay_rounds))
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "bench", "replay.py"), COLD_BOOT_SCENARIO, str(s.replay_rounds)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if result.returncode != 0:
        raise BenchError("bench/replay.py failed:\n%s" % (result.stdout + result.stderr)[-3000:])
    data = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = data["seconds"]
    steady = statistics.median(seconds[1:] if len(seconds) > 1 else seconds)
    real = ctx.report.medians.get("cold-venv_pip", {}).get("ours")
    rep = ctx.report
    note = "first run %s; harness import %s" % (ms(seconds[0]), ms(data["import"]))
    if real is not None:
        note += "; the real run / the replay: %s" % ratio_text(real / steady)
    rep.rows.append(Row("harness replay of `%s`" % COLD_BOOT_SCENARIO, ms(steady), "-", ms(real), "the real cold boot it models (ours, pip)",
                        "%d" % max(1, len(seconds) - 1), note))
    rep.targets.append(Target("a full cold-boot scenario in the harness under 50 ms", ms(steady), "< 50 ms", verdict(steady < 0.050)))


def scenario_suite(ctx):
    ctx.log("the scenario suite (pytest scenarios)")
    argv = [sys.executable, "-m", "pytest", "scenarios", "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    seconds = time.perf_counter() - start
    summary = [line for line in result.stdout.strip().splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = summary[-1].strip("= ") if summary else "exit %d" % result.returncode
    counted = re.search(r"(\d+) passed", summary)
    per = " (%s per scenario)" % ms(seconds / int(counted.group(1))) if counted else ""
    ctx.report.rows.append(Row("scenario suite: `venv/bin/python -m pytest scenarios -q -p no:cacheprovider`", ms(seconds), "-", "-", "", "1",
                               summary + per))
    if result.returncode != 0:
        ctx.report.notes.append("the scenario suite failed (exit %d):\n%s" % (result.returncode, result.stdout[-2000:]))
