"""The command line of the tapes: `python -m protoprimer_harness.tape COMMAND` (protoprimer_harness.tape
runs this module's `main`).

    record-all DIR [--only NAME]... [--wheelhouse DIR] [--python PATH] [--keep]
    replay PATH...            replay tapes, print how each ended and how long it took
    drift PATH...             re-record tapes into a temporary place and compare them with the files
    list                      the built-in recipes
"""

import argparse
import glob
import os
import sys
import tempfile
import time
from typing import List, Optional

from ._tape_drift import drift_report
from ._tape_errors import TapeError
from ._tape_format import TAPE_SUFFIX, load_tape, tape_name
from .tape_recipes import BUILTIN_RECIPES, builtin_recipe, ensure_wheelhouse, record_recipe
from ._tape_record import default_python
from ._tape_replay import replay_tape


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protoprimer_harness.tape", description="Record, replay and check tapes.")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record-all", help="(re)record the built-in recipes' tapes into DIR, replacing them")
    rec.add_argument("directory", metavar="DIR")
    rec.add_argument("--only", action="append", metavar="NAME", help="only this recipe (repeatable)")
    rec.add_argument("--wheelhouse", metavar="DIR", help="setuptools and wheel wheels (default: downloaded once)")
    rec.add_argument("--python", metavar="PATH", help="the recording interpreter (default: this one's base)")
    rec.add_argument("--keep", action="store_true", help="keep the temporary repos (their paths are printed)")
    rep = sub.add_parser("replay", help="replay tapes and print how each ended and how long it took")
    rep.add_argument("paths", nargs="+", metavar="PATH")
    drift = sub.add_parser("drift", help="re-record tapes into a temporary place and compare the call sequences")
    drift.add_argument("paths", nargs="+", metavar="PATH")
    drift.add_argument("--wheelhouse", metavar="DIR")
    sub.add_parser("list", help="list the built-in recipes")
    args = parser.parse_args(argv)
    try:
        if args.command == "record-all":
            return _record_all(args)
        if args.command == "replay":
            return _replay(args.paths)
        if args.command == "drift":
            return _drift(args.paths, args.wheelhouse)
        for name in sorted(BUILTIN_RECIPES):
            print("%-24s %s" % (name, BUILTIN_RECIPES[name]["title"]))
        return 0
    except TapeError as e:
        sys.stderr.write("error: %s\n" % e)
        return 1


def _record_all(args) -> int:
    names = args.only or sorted(BUILTIN_RECIPES)
    for name in names:
        builtin_recipe(name)  # unknown names fail before anything is recorded
    python = args.python or default_python()
    wheelhouse = ensure_wheelhouse(args.wheelhouse, python)
    workdir = tempfile.mkdtemp(prefix="protoprimer-tapes-") if args.keep else None
    for name in names:
        path = os.path.join(args.directory, name + TAPE_SUFFIX)
        started = time.time()
        tape, run = record_recipe(builtin_recipe(name), path, wheelhouse=wheelhouse, python=python,
                                  workdir=workdir, keep=args.keep)
        print("recorded %s: %d steps, %s, %.1f s" % (path, len(tape.steps), run.ended, time.time() - started))
    others = sorted(set(tape_name(p) for p in glob.glob(os.path.join(args.directory, "*" + TAPE_SUFFIX)))
                    - set(BUILTIN_RECIPES))
    if others:
        print("not built-in (left as they are): %s" % ", ".join(others))
    if workdir:
        print("temporary repos kept in %s" % workdir)
    return 0


def _replay(paths: List[str]) -> int:
    failed = 0
    for path in paths:
        try:
            run = replay_tape(path)
        except AssertionError as e:
            failed += 1
            print("FAIL %s\n%s" % (path, e))
            continue
        print("ok   %s: %d steps, %s, %.1f ms" % (path, run.steps, run.ended, run.seconds * 1000))
    return 1 if failed else 0


def _drift(paths: List[str], wheelhouse: Optional[str]) -> int:
    drifted = 0
    for path in paths:
        committed = load_tape(path)
        if committed.recipe is None:
            print("skip %s: no [recipe]" % path)
            continue
        fresh, _ = record_recipe(committed.recipe, None, wheelhouse=wheelhouse)
        report = drift_report(committed, fresh, tape_name(path))
        if report:
            drifted += 1
            print(report)
        else:
            print("ok   %s: no drift" % path)
    return 1 if drifted else 0

