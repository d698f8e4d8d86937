"""`protoprimer`: the meta tools, a console script in the venv (docs/meta-tools.md).

    protoprimer init [--layout instant|min|max] [--python X.Y] [--force] [DIR]   seed a repo
    protoprimer graph [--entry E] [--mode M] [--target T] [--states MOD:ATTR] [--format text|mermaid|dot]
    protoprimer explain [--dry | --log FILE]                                     why the last run did what it did
    protoprimer config [--json]                                                  the annotated effective config

Errors a user can cause end in one message and the kernel's exit codes (docs/exit-codes.md); -v shows
the traceback.
"""

import argparse
import importlib
import json
import sys

from protoprimer import primer_kernel as kernel


def _load_states(spec):
    """`module:attr` naming a protoprimer.meta.States (or a function returning one)."""
    from protoprimer.meta import States

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise kernel.UsageError("--states %s: expected MODULE:ATTR, for example my_repo.prime_env:states" % spec)
    try:
        value = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise kernel.UsageError("--states %s: %s" % (spec, error))
    if callable(value) and not isinstance(value, States):
        value = value()
    if not isinstance(value, States):
        raise kernel.UsageError("--states %s is a %s, not a protoprimer.meta.States" % (spec, type(value).__name__))
    return value


def cmd_init(args):
    from protoprimer import init_repo

    return init_repo.run(args)


def cmd_graph(args):
    from protoprimer import graph_view

    combinations = graph_view.coordinate_combinations() if args.all else [(args.entry, args.mode)]
    states = _load_states(args.states) if args.states else None
    render = graph_view.RENDERERS[args.format]
    for entry, mode in combinations:
        try:
            view = graph_view.build(entry, mode, target=args.target, states=states)
        except ValueError as error:
            raise kernel.UsageError(str(error))
        if args.all and args.format == "text":
            sys.stdout.write("\n" if entry != combinations[0][0] or mode != combinations[0][1] else "")
        sys.stdout.write(render(view))
        if view.problems:
            return kernel.ExitCode.config_error
    return 0


def cmd_explain(args):
    from protoprimer import explain

    if args.dry:
        explanation = explain.explain_dry()
    elif args.log:
        try:
            with open(args.log, encoding="utf-8") as handle:
                explanation = explain.explain_log(args.log, handle.read())
        except OSError as error:
            raise kernel.PrimerError("cannot read the log %s: %s" % (args.log, error.strerror or error), kernel.ExitCode.file_error)
    else:
        explanation = explain.explain_last_run()
    sys.stdout.write(explain.render_text(explanation))
    return 0


def cmd_config(args):
    from protoprimer import config_report

    report = config_report.build_report()
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    else:
        ref_root = kernel.get_config()["state_ref_root_dir_abs_path_inited"]
        sys.stdout.write(config_report.render_text(report, ref_root))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="protoprimer", description="protoprimer's meta tools (docs/meta-tools.md).")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of a failure")
    subs = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)

    init = subs.add_parser("init", help="seed a repo: kernel copy, ./prime, config, .python-version, .gitignore")
    init.add_argument("directory", nargs="?", default=".", help="the repo (default: the current dir)")
    init.add_argument("--layout", choices=("instant", "min", "max"), default="min", help="the config layout (default: min)")
    init.add_argument("--python", metavar="X.Y", help="the required Python (default: the one running this)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist with other content")
    init.set_defaults(run=cmd_init)

    graph = subs.add_parser("graph", help="the state graph a run reaches, client states included")
    graph.add_argument("--entry", default=kernel.EntryFunc.func_boot_env, choices=kernel.ENTRY_FUNCS)
    graph.add_argument("--mode", default=kernel.ExecMode.mode_prime, choices=kernel.EXEC_MODES)
    graph.add_argument("--all", action="store_true", help="every (entry, mode) combination a run can reach")
    graph.add_argument("--target", help="a target or state name (default: the whole run)")
    graph.add_argument("--states", metavar="MODULE:ATTR", help="a protoprimer.meta.States whose states to add")
    graph.add_argument("--format", choices=sorted(("text", "mermaid", "dot")), default="text")
    graph.set_defaults(run=cmd_graph)

    explain = subs.add_parser("explain", help="why the last run chose what it chose (or --dry: what one would)")
    explain.add_argument("--dry", action="store_true", help="decide without doing anything, instead of reading the last log")
    explain.add_argument("--log", metavar="FILE", help="explain the run of this file log instead of the last one")
    explain.set_defaults(run=cmd_explain)

    config = subs.add_parser("config", help="every config field: value, source, description; unused fields")
    config.add_argument("--json", action="store_true", help="one JSON document")
    config.set_defaults(run=cmd_config)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except kernel.PrimerError as error:
        if args.verbose:
            import traceback

            traceback.print_exc()
        sys.stderr.write("ERROR protoprimer %s: %s\n" % (args.tool, error.message))
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("ERROR protoprimer %s: interrupted\n" % args.tool)
        return kernel.ExitCode.interrupted


if __name__ == "__main__":
    sys.exit(main())
