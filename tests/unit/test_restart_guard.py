"""The restart-loop guard: a restart that would repeat the stride this process runs at, with the interpreter
it runs, is refused (exit 4) naming both, instead of replacing the process forever. Scenarios cover the
situations users met (a venv whose pyvenv.cfg is gone, scenarios/start); these pin the guard itself for
every entry function, since the healthy paths never reach it."""
import pytest

from protoprimer import primer_kernel as kernel
from protoprimer_harness.errors import ProcessReplaced
from protoprimer_harness.world import World


def _world():
    return World().apply_layout("min").add_interpreter("python3", "3.11.7")


@pytest.mark.parametrize("entry_func", [kernel.EntryFunc.func_boot_env, kernel.EntryFunc.func_start_app,
                                        kernel.EntryFunc.func_run_main])
def test_a_restart_into_the_same_interpreter_at_the_same_stride_is_refused(entry_func):
    variables = {"PROTOPRIMER_PY_EXEC": "stride_py_venv", "PROTOPRIMER_PROTO_CODE": "/repo/proto_kernel.py"}
    with _world().activate() as session, session.open_process("python3", env=variables) as process:
        ctx = kernel.RunContext(process.host, entry_func)
        with pytest.raises(kernel.ChainError) as caught:
            kernel.replace_process(ctx, "/usr/bin/python3", "stride_py_venv", "/repo/proto_kernel.py")
        assert caught.value.exit_code == kernel.ExitCode.chain_error
        assert "restart loop: this process runs /usr/bin/python3 at stride_py_venv" in caught.value.message


@pytest.mark.parametrize("variables, target", [
    ({}, "stride_py_venv"),  # the first process: no stride yet
    ({"PROTOPRIMER_PY_EXEC": "stride_py_venv", "PROTOPRIMER_PROTO_CODE": "/repo/proto_kernel.py"}, "stride_deps_updated"),
])
def test_a_restart_to_the_next_stride_goes_ahead(variables, target):
    with _world().activate() as session, session.open_process("python3", env=variables) as process:
        ctx = kernel.RunContext(process.host, kernel.EntryFunc.func_boot_env)
        with pytest.raises(ProcessReplaced) as ended:
            kernel.replace_process(ctx, "/usr/bin/python3", target, "/repo/proto_kernel.py")
        assert ended.value.env["PROTOPRIMER_PY_EXEC"] == target
