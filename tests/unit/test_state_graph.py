"""The state-graph engine: lazy evaluation of declared parents only, caching, and errors that name the
states involved; and the coordinate walk that proves every reachable graph complete and acyclic."""
import pytest

from protoprimer import primer_kernel as kernel
from protoprimer_harness._graph_check import check_state_graphs, walk_graph
from protoprimer.primer_kernel import Coordinates, GraphError, StateImpl, one_impl


class SilentEnv:
    """Just enough environment for a context whose states compute without effects."""

    argv = ["prog"]
    pid = 1
    kernel_path = "/repo/proto_kernel.py"

    def get(self, name, default=None):
        return default

    def stderr_is_tty(self):
        return False

    def write_stderr(self, text):
        raise AssertionError("unexpected log output: %s" % text)


def make_context():
    return kernel.RunContext(kernel.Host(None, None, SilentEnv()), kernel.EntryFunc.func_call_lib)


def test_every_reachable_graph_is_complete_and_acyclic():
    assert check_state_graphs() == []


def test_the_coordinate_walk_covers_every_entry_function_and_its_modes():
    walked = []
    for entry_func in kernel.ENTRY_FUNCS:
        for mode in kernel.ENTRY_FUNC_MODES[entry_func]:
            edges, problems = walk_graph(dict(kernel.builtin_states()), Coordinates(entry_func, mode), kernel.FINAL_TARGETS[mode])
            assert problems == []
            walked.append((entry_func, mode, len(edges)))
    assert {(e, m) for e, m, _ in walked} >= {
        ("boot_env", "mode_read"), ("boot_env", "mode_prime"), ("start_app", "mode_start"), ("call_lib", "mode_read"),
    }
    assert all(count > 0 for _, _, count in walked)


def test_the_check_reports_an_unregistered_parent_by_name():
    broken = [("state_derived_conf_data_loaded", one_impl(("state_nowhere_inited",), lambda ctx, p: {}))]
    problems = check_state_graphs(extra_states=broken)
    assert any("state_nowhere_inited is not registered (required by state_derived_conf_data_loaded" in p for p in problems)


def test_the_check_reports_a_cycle_with_its_path():
    cyclic = [("state_ref_root_dir_abs_path_inited", one_impl(("state_global_conf_dir_abs_path_inited",), lambda ctx, p: "/"))]
    problems = check_state_graphs(extra_states=cyclic)
    assert any(
        "state_ref_root_dir_abs_path_inited -> state_global_conf_dir_abs_path_inited -> state_ref_root_dir_abs_path_inited" in p
        for p in problems
    )


def test_the_check_reports_a_state_missing_an_implementation_for_some_coordinates():
    partial = [("state_install_specs_inited", kernel.impl_by_mode({kernel.ExecMode.mode_prime: StateImpl((), lambda c, p: [])}))]
    problems = check_state_graphs(extra_states=partial)
    assert any("state_install_specs_inited has no implementation at (boot_env, mode_read)" in p for p in problems)


def test_a_state_evaluates_only_the_parents_it_asks_for():
    ctx = make_context()
    evaluated = []
    ctx.register_state("state_a", one_impl((), lambda c, p: evaluated.append("a") or 1))
    ctx.register_state("state_b", one_impl((), lambda c, p: evaluated.append("b") or 2))
    ctx.register_state("state_c", one_impl(("state_a", "state_b"), lambda c, p: p["state_a"] + 10))
    assert ctx.eval_state("state_c") == 11
    assert evaluated == ["a"]


def test_values_are_computed_once_per_context():
    ctx = make_context()
    counter = []
    ctx.register_state("state_a", one_impl((), lambda c, p: counter.append(1) or len(counter)))
    assert ctx.eval_state("state_a") == ctx.eval_state("state_a") == 1
    assert make_context_with(counter).eval_state("state_a") == 2


def make_context_with(counter):
    ctx = make_context()
    ctx.register_state("state_a", one_impl((), lambda c, p: counter.append(1) or len(counter)))
    return ctx


def test_reading_an_undeclared_parent_names_both_states():
    ctx = make_context()
    ctx.register_state("state_a", one_impl((), lambda c, p: 1))
    ctx.register_state("state_b", one_impl(("state_c",), lambda c, p: p["state_a"]))
    ctx.register_state("state_c", one_impl((), lambda c, p: 3))
    with pytest.raises(GraphError, match=r"state_b read state_a, which it does not declare as a parent \(declared: state_c\)"):
        ctx.eval_state("state_b")


def test_evaluating_an_unregistered_state_names_it():
    with pytest.raises(GraphError, match="state_nowhere is not registered"):
        make_context().eval_state("state_nowhere")


def test_a_cycle_at_evaluation_names_the_states_in_it():
    ctx = make_context()
    ctx.register_state("state_a", one_impl(("state_b",), lambda c, p: p["state_b"]))
    ctx.register_state("state_b", one_impl(("state_a",), lambda c, p: p["state_a"]))
    with pytest.raises(GraphError, match="cycle in the state graph: state_a -> state_b -> state_a"):
        ctx.eval_state("state_a")


def test_a_factory_without_an_implementation_for_the_coordinates_is_an_error_naming_them():
    ctx = make_context()
    ctx.register_state("state_a", kernel.impl_by_mode({kernel.ExecMode.mode_prime: StateImpl((), lambda c, p: 1)}))
    with pytest.raises(GraphError, match=r"state_a has no implementation for coordinates \(call_lib, None\)"):
        ctx.eval_state("state_a")


def test_names_are_append_only_and_replacing_returns_the_previous_factory():
    ctx = make_context()
    with pytest.raises(GraphError, match="already registered"):
        ctx.register_state("state_ref_root_dir_abs_path_inited", one_impl((), lambda c, p: "/"))
    with pytest.raises(GraphError, match="is not registered, so it cannot be replaced"):
        ctx.register_state("state_new", one_impl((), lambda c, p: 1), replace=True)
    previous = ctx.register_state("state_ref_root_dir_abs_path_inited", one_impl((), lambda c, p: "/x"), replace=True)
    assert previous(Coordinates("call_lib", "mode_read")).compute is kernel._compute_ref_root
    assert ctx.eval_state("state_ref_root_dir_abs_path_inited") == "/x"


def test_the_exec_mode_follows_the_sub_command():
    assert kernel.SUB_COMMAND_MODES == {
        "boot": "mode_prime", "reset": "mode_prime", "shell": "mode_prime",
        "eval": "mode_read", "start": "mode_start", "wrap": "mode_tool",
    }
