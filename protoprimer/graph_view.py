"""The state graph as the engine builds it, for people: which states a run at given coordinates reaches,
with their parents, as text, Mermaid or Graphviz dot (`protoprimer graph`, docs/meta-tools.md).

Nothing is computed: the graph is walked the way the engine builds it, from the target backwards, asking
each state's factory for its implementation at the coordinates and following its declared parents. Client
states (a `protoprimer.meta.States`) are added to the kernel's as the meta runtime adds them.
"""

import types

from protoprimer import primer_kernel as kernel


class StateGraphView(object):
    """The reachable graph: `states` in dependency order (parents first), `edges` as (parent, child),
    `problems` (unregistered parents, states without an implementation, cycles), `client` the names a
    client added or replaced."""

    def __init__(self, coords, targets, states, edges, problems, client):
        self.coords = coords
        self.targets = targets
        self.states = states
        self.edges = edges
        self.problems = problems
        self.client = client

    def parents_of(self, name):
        return [parent for parent, child in self.edges if child == name]


def coordinate_combinations():
    """Every (entry function, exec mode) a run can reach, in the kernel's order."""
    return [(entry, mode) for entry in kernel.ENTRY_FUNCS for mode in kernel.ENTRY_FUNC_MODES[entry]]


def default_targets(entry_func, exec_mode):
    """What a run at these coordinates evaluates: phase 1 (to the exec mode), then the mode's end."""
    if entry_func == kernel.EntryFunc.func_call_lib:
        return ["state_exec_mode_inited"] + sorted(set(kernel._LEAP_STATES.values()))
    return ["state_exec_mode_inited", "state_final_target_inited", kernel.FINAL_TARGETS[exec_mode]]


def graph_with(states=None):
    """A registry of the kernel's states plus (replacing where they say so) those of a client's States; and
    the client's target names. Raises protoprimer.meta.MetaError on a clash, as the meta runtime would."""
    graph = kernel.StateGraph(kernel.builtin_states())
    holder = types.SimpleNamespace(graph=graph)
    if states is not None:
        from protoprimer import meta

        meta.ensure_client_args_state(holder)
        states.add_to(holder)
    return graph, getattr(holder, "meta_targets", {})


def resolve(name, client_targets):
    """A target name (the kernel's or the client's) or a state name -> the state name."""
    if name in client_targets:
        return client_targets[name][0]
    return kernel.TARGETS.get(name, name)


def build(entry_func=kernel.EntryFunc.func_boot_env, exec_mode=kernel.ExecMode.mode_prime, target=None, states=None):
    """The graph a run at (entry_func, exec_mode) builds to `target` (a target or state name; default: the
    whole run, see default_targets)."""
    if exec_mode not in kernel.ENTRY_FUNC_MODES.get(entry_func, ()):
        raise ValueError("%s runs never reach %s (its modes: %s)" % (
            entry_func, exec_mode, ", ".join(kernel.ENTRY_FUNC_MODES.get(entry_func, ()))))
    graph, client_targets = graph_with(states)
    client = set(graph.names()) - set(name for name, _ in kernel.builtin_states())
    if states is not None:
        client.update(name for name, _, _, replace in states._states if replace)
    targets = [resolve(target, client_targets)] if target else default_targets(entry_func, exec_mode)
    coords = kernel.Coordinates(entry_func, exec_mode)
    order, edges, problems = [], [], []
    path = []

    def visit(name, phase_coords):
        if name in path:
            problems.append("cycle: %s" % " -> ".join(path[path.index(name):] + [name]))
            return
        if name in order:
            return
        try:
            impl = graph.impl(name, phase_coords)
        except kernel.GraphError:
            impl = None
        if impl is None:
            why = "has no implementation at %r" % (phase_coords,) if graph.is_registered(name) else "is not registered"
            problems.append("%s %s (required by %s)" % (name, why, path[-1] if path else "the target"))
            order.append(name)
            return
        path.append(name)
        for parent in impl.parents:
            if (parent, name) not in edges:
                edges.append((parent, name))
            visit(parent, phase_coords)
        path.pop()
        order.append(name)

    for name in targets:
        # phase 1 runs before the exec mode is known: its states are built at (entry function, None)
        phase = kernel.Coordinates(entry_func) if name == "state_exec_mode_inited" else coords
        visit(name, phase)
    return StateGraphView(coords, targets, order, edges, problems, sorted(client & set(order)))


def render_text(view):
    lines = ["graph of %s to %s: %d states, %d edges" % (
        view.coords, ", ".join(view.targets), len(view.states), len(view.edges))]
    for name in view.states:
        parents = view.parents_of(name)
        mark = " (client)" if name in view.client else ""
        lines.append("%s%s%s" % (name, mark, " <- " + ", ".join(parents) if parents else ""))
    lines.extend("problem: " + problem for problem in view.problems)
    return "\n".join(lines) + "\n"


def render_mermaid(view):
    lines = ["flowchart TD"]
    lines.extend("    %s" % name for name in view.states if not view.parents_of(name) and not _children(view, name))
    lines.extend("    %s --> %s" % edge for edge in view.edges)
    if view.client:
        lines.append("    classDef client fill:#fde68a,stroke:#b45309")
        lines.append("    class %s client" % ",".join(view.client))
    return "\n".join(lines) + "\n"


def render_dot(view):
    lines = ["digraph protoprimer {", "    rankdir=LR;", "    node [shape=box, fontname=monospace];"]
    lines.extend('    "%s" [style=filled, fillcolor="#fde68a"];' % name for name in view.client)
    lines.extend('    "%s";' % name for name in view.states if not view.parents_of(name) and not _children(view, name))
    lines.extend('    "%s" -> "%s";' % edge for edge in view.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _children(view, name):
    return [child for parent, child in view.edges if parent == name]


RENDERERS = {"text": render_text, "mermaid": render_mermaid, "dot": render_dot}
