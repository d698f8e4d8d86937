"""The static proof of the kernel's state graphs: for every entry function and every exec mode it can
reach, the graph of every target is built (never computed) and checked complete and acyclic. It lives here,
not in the kernel, because only the test suite needs it: the kernel stays cheap to load."""

from protoprimer import primer_kernel as kernel
from protoprimer.primer_kernel import Coordinates, ENTRY_FUNC_MODES, ENTRY_FUNCS, EntryFunc, FINAL_TARGETS


def walk_graph(factories, coords, target):
    """Build the graph reachable from `target` at `coords` without computing anything.

    Returns (edges, problems): edges as (parent, child) pairs; problems as sentences naming the states
    involved (unregistered parents, missing implementations, cycles).
    """
    edges = []
    problems = []
    done = set()
    path = []

    def visit(name):
        if name in path:
            cycle = path[path.index(name):] + [name]
            problems.append("cycle at %r: %s" % (coords, " -> ".join(cycle)))
            return
        if name in done:
            return
        factory = factories.get(name)
        if factory is None:
            problems.append(
                "%s is not registered (required by %s at %r)" % (name, path[-1] if path else "the target", coords)
            )
            done.add(name)
            return
        impl = factory(coords)
        if impl is None:
            problems.append(
                "%s has no implementation at %r (required by %s)" % (name, coords, path[-1] if path else "the target")
            )
            done.add(name)
            return
        path.append(name)
        for parent in impl.parents:
            edges.append((parent, name))
            visit(parent)
        path.pop()
        done.add(name)

    visit(target)
    return edges, problems


def check_state_graphs(extra_states=()):
    """Walk every reachable coordinate combination and report every defect of the graphs they build:
    unregistered parents, states without an implementation, cycles. An empty list means all is well."""
    factories = dict(kernel.builtin_states())
    factories.update(dict(extra_states))
    problems = []
    for entry_func in ENTRY_FUNCS:
        problems.extend(walk_graph(factories, Coordinates(entry_func), "state_exec_mode_inited")[1])
        for mode in ENTRY_FUNC_MODES[entry_func]:
            coords = Coordinates(entry_func, mode)
            targets = ["state_final_target_inited", FINAL_TARGETS[mode]]
            if entry_func == EntryFunc.func_call_lib:
                targets = list(kernel._LEAP_STATES.values()) + ["state_proto_code_file_abs_path_inited"]
            for target in targets:
                problems.extend(walk_graph(factories, coords, target)[1])
    return kernel._unique(problems)
