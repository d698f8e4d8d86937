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

    def progress(self, what):
        def tick(done, total):
            self.log("  %s: round %d/%d" % (what, done, total))

        return tick

    def contender(self, name, twin, commands, **kwargs):
        return Contender(name, commands, twin.root, kwargs.pop("env", None) or twin.env(), **kwargs)


# --- warm runs


def warm_noop_prime(ctx):
    """Warm no-op ./prime in this project's forms, side by side with `uv sync`'s no-op, the venv's console
    script of the main, a bare `python3 -c pass` through the Python form's shebang, and the reference:

    - `./boot`: the default form (wrap on POSIX) without a client main: the shell front's no-op;
    - `./prime`: the default form with the main: one start of the venv's python, the main called at once;
    - `./prime-plain`: the Python form (`wrap --plain`, what Windows gets) with the main."""
    s = ctx.settings
    ours, ref, uv_sync = ctx.twins["ours-pip"], ctx.twins["ref-pip"], ctx.twins["uv-sync"]
    bare_argv = ours.shebang() + ["-c", "pass"]
    bare_is = "`%s -c pass`" % " ".join(ours.shebang())
    r = s.warm_repeat
    contenders = [
        ctx.contender("boot", ours, [["./boot"]], repeat=r),
        ctx.contender("prime", ours, [ours.prime()], repeat=r),
        ctx.contender("plain", ours, [["./prime-plain"]], repeat=r),
        ctx.contender("console", ours, [[ours.path("venv", "bin", "sample-main")]], repeat=r),
        ctx.contender("uv-sync", uv_sync, [[ctx.machine.uv, "sync", "--python", ctx.machine.python]], repeat=r),
        ctx.contender("bare", ours, [bare_argv], repeat=r),
        ctx.contender("ref", ref, [ref.prime()]),
    ]
    logs_before = set(_logs(ours))
    ctx.log("warm no-op ./prime (%d rounds)" % s.warm_rounds)
    got = alternate(contenders, s.warm_rounds, progress=ctx.progress("warm ./prime"))
    _check_warm_was_noop(ctx, ours, logs_before)
    m = dict((name, samples.median) for name, samples in got.items())
    rep = ctx.report
    runs = "%d / %d" % (len(got["boot"].seconds), len(got["ref"].seconds))
    rep.rows.append(Row("warm no-op `./boot` (default form, no client main)", ms(m["boot"]), ms(m["ref"]), ms(m["uv-sync"]), "`uv sync`",
                        runs, "runs: ours / reference; the reference column is its `./prime`"))
    rep.rows.append(Row("warm `./prime` (default form, the main `sample.main:main`)", ms(m["prime"]), ms(m["ref"]), ms(m["console"]),
                        "`venv/bin/sample-main` (the venv's console script of the main)", runs, "reference / ours: %s" % ratio_text(m["ref"] / m["prime"])))
    rep.rows.append(Row("warm `./prime-plain` (`wrap --plain`, the main)", ms(m["plain"]), ms(m["ref"]), ms(m["bare"]), bare_is, runs,
                        "the Python form: what Windows gets"))
    rep.targets.append(Target("warm no-op `./prime` without a main (`./boot`) at most 1.0x `uv sync`'s no-op", ratio_text(m["boot"] / m["uv-sync"]),
                              "<= 1.0x", verdict(m["boot"] / m["uv-sync"] <= 1.0)))
    rep.targets.append(Target("warm `./prime` with a main at most 1.2x the venv's own console script of that main",
                              ratio_text(m["prime"] / m["console"]), "<= 1.2x", verdict(m["prime"] / m["console"] <= 1.2)))
    rep.targets.append(Target("the default `./prime`'s warm no-op at least 100x faster than the reference's", ratio_text(m["ref"] / m["prime"]),
                              ">= 100x", verdict(m["ref"] / m["prime"] >= 100)))
    rep.medians["warm"] = m


def _check_warm_was_noop(ctx, twin, logs_before):
    """The default form's runs wrote no log (the front ended `./boot`, the kernel called `./prime`'s main at
    once); the newest log of `./prime-plain` says it installed nothing."""
    new = [p for p in _logs(twin) if p not in logs_before]
    fast = [p for p in new if os.path.basename(p).split(".")[0] in ("boot", "prime")]
    if fast:
        ctx.report.notes.append("the default form's warm runs were not all no-ops: they wrote %d log files (%s)" % (
            len(fast), ", ".join(sorted(os.path.basename(p) for p in fast)[:3])))
    plain = sorted((os.path.getmtime(p), p) for p in new if os.path.basename(p).startswith("prime-plain."))
    if not plain:
        ctx.report.notes.append("could not check that the warm `./prime-plain` was a no-op: no log file")
        return
    with open(plain[-1][1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    if "nothing to install" not in text:
        ctx.report.notes.append("the last warm `./prime-plain` did not log 'nothing to install':\n" + text[-1500:])


def _logs(twin):
    log_dir = twin.path("log")
    return [os.path.join(log_dir, n) for n in os.listdir(log_dir) if n.endswith(".log")] if os.path.isdir(log_dir) else []


def warm_start_app(ctx):
    """start_app: the default form (`./app`) and the Python form (`./app-plain`) against the venv's console
    script of the app, the bare starts the Python form needs (the first interpreter through the shebang, then
    the venv's python running the app) and the reference's `./app`."""
    s = ctx.settings
    ours, ref = ctx.twins["ours-pip"], ctx.twins["ref-pip"]
    bare = [ours.shebang() + ["-c", "pass"], [ours.venv_python, "-I", "-c", repos.APP_CODE]]
    contenders = [
        ctx.contender("app", ours, [ours.app()]),
        ctx.contender("plain", ours, [["./app-plain"]]),
        ctx.contender("console", ours, [[ours.path("venv", "bin", "sample-app")]]),
        ctx.contender("bare", ours, bare),
        ctx.contender("ref", ref, [ref.app()]),
    ]
    ctx.log("start_app ./app (%d rounds)" % s.small_rounds)
    got = alternate(contenders, s.small_rounds, progress=ctx.progress("./app"))
    m = dict((name, samples.median) for name, samples in got.items())
    rep = ctx.report
    n = "%d" % len(got["app"].seconds)
    rep.rows.append(Row("warm `./app` (start_app, default form)", ms(m["app"]), ms(m["ref"]), ms(m["console"]),
                        "`venv/bin/sample-app` (the venv's console script of the app)", n, "reference / ours: %s" % ratio_text(m["ref"] / m["app"])))
    rep.rows.append(Row("warm `./app-plain` (start_app, `wrap --plain`)", ms(m["plain"]), ms(m["ref"]), ms(m["bare"]),
                        "`python3 -c pass` + `venv/bin/python -I -c 'app()'`", n, "the Python form: two starts"))
    rep.targets.append(Target("start_app (default form) at most 1.2x the venv's own console script", ratio_text(m["app"] / m["console"]),
                              "<= 1.2x", verdict(m["app"] / m["console"] <= 1.2)))
    rep.medians["start"] = m


def warm_through_a_shim(ctx):
    """The warm runs again with a pyenv-style shim first on PATH (a bash script that execs the real
    interpreter, as `python3` is for many users): what each form pays for it. The default form starts
    nothing through PATH on a warm run; the Python form's shebang (`/usr/bin/env python3`) goes through the
    shim at every run. The reference is left out here (its warm run is seconds; the shim adds the same)."""
    s = ctx.settings
    ours = ctx.twins["ours-pip"]
    env = ctx.machine.env(shim=True)
    r = s.warm_repeat
    contenders = [
        ctx.contender("boot", ours, [["./boot"]], repeat=r, env=env),
        ctx.contender("prime", ours, [ours.prime()], repeat=r, env=env),
        ctx.contender("plain", ours, [["./prime-plain"]], repeat=r, env=env),
        ctx.contender("app", ours, [ours.app()], repeat=r, env=env),
        ctx.contender("app-plain", ours, [["./app-plain"]], repeat=r, env=env),
        ctx.contender("bare", ours, [["python3", "-c", "pass"]], repeat=r, env=env),
        ctx.contender("console", ours, [[ours.path("venv", "bin", "sample-main")]], repeat=r, env=env),
        ctx.contender("uv-sync", ctx.twins["uv-sync"], [[ctx.machine.uv, "sync", "--python", ctx.machine.python]], repeat=r, env=env),
    ]
    ctx.log("warm runs through a pyenv-style shim (%d rounds)" % s.warm_rounds)
    got = alternate(contenders, s.warm_rounds, progress=ctx.progress("through a shim"))
    m = dict((name, samples.median) for name, samples in got.items())
    rep = ctx.report
    n = "%d" % len(got["boot"].seconds)
    without = rep.medians.get("warm", {})
    started = rep.medians.get("start", {})
    for name, figure, before in (
        ("boot", "warm no-op `./boot` through a pyenv-style shim on PATH", without.get("boot")),
        ("prime", "warm `./prime` (the main) through the shim", without.get("prime")),
        ("plain", "warm `./prime-plain` through the shim", without.get("plain")),
        ("app", "warm `./app` (start_app) through the shim", started.get("app")),
        ("app-plain", "warm `./app-plain` through the shim", started.get("plain")),
    ):
        note = "without the shim (the figures above): %s" % ms(before) if before else ""
        note += "; over the console script of the main (through the shim too): %s" % ratio_text(m[name] / m["console"]) \
            if name == "prime" else ""
        rep.rows.append(Row(figure, ms(m[name]), "-", ms(m["bare"]), "`python3 -c pass` through the shim", n, note))
    rep.targets.append(Target("through a pyenv-style shim: warm no-op `./boot` at most 1.0x `uv sync`'s no-op",
                              ratio_text(m["boot"] / m["uv-sync"]), "<= 1.0x", verdict(m["boot"] / m["uv-sync"] <= 1.0)))


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
        rep.targets.append(Target("cold boot, pip driver, at most 0.45x `python -m venv` + `pip install -e .`", ratio_text(o / p), "<= 0.45x",
                                  verdict(o / p <= 0.45)))
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
    for argv in (["./boot"], ["./boot"], ["./boot"]):  # the cold-boot figures rebuilt the venv: its record again
        ours.run(argv)
    bare = [ours.shebang() + ["-c", "pass"]]
    rep.starts.append(StartsRow("warm no-op `./boot` (default form, no main)", count(ours, [["./boot"]]), "-", count(ours, bare), "bare start"))
    rep.starts.append(StartsRow("warm `./prime` (default form, the main)", count(ours, [ours.prime()]), count(ref, [ref.prime()]),
                                count(ours, bare), "bare start"))
    rep.starts.append(StartsRow("warm `./prime-plain`", count(ours, [["./prime-plain"]]), count(ref, [ref.prime()]), count(ours, bare), "bare start"))
    app_bare = bare + [[ours.venv_python, "-I", "-c", repos.APP_CODE]]
    rep.starts.append(StartsRow("warm `./app` (start_app, default form)", count(ours, [ours.app()]), count(ref, [ref.app()]),
                                count(ours, app_bare, chain=False), "bare starts of the Python form"))
    rep.starts.append(StartsRow("warm `./app-plain`", count(ours, [["./app-plain"]]), count(ref, [ref.app()]),
                                count(ours, app_bare, chain=False), "bare starts of the Python form"))
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
