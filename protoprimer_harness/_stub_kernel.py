"""A stand-in for the kernel module, for testing the harness itself without the real kernel's behaviour.

It has the real kernel's ports and shared names (`Host`, `RealFileSystem`, `RunResult`,
`PYTHON_PROBE_CODE`, `render_entry_script`) and entry points the caller writes as plain functions of the
host. Pass it as `world.activate(kernel=stub_kernel(main=...))`.
"""

from types import SimpleNamespace
from typing import Any, Callable, Optional


def stub_kernel(
    main: Optional[Callable[[Any], Any]] = None,
    boot_env: Optional[Callable[[str, Any], Any]] = None,
    start_app: Optional[Callable[[str, Any], Any]] = None,
) -> SimpleNamespace:
    """A kernel stand-in: `main(host)`, `boot_env(main_func, host)`, `start_app(main_func, host)`.

    An entry point not given raises AssertionError when called (so the process crashes visibly).
    """
    from protoprimer import primer_kernel

    def missing(name: str) -> Callable[..., Any]:
        def entry(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("this stub kernel has no %s" % name)

        return entry

    def entry_with_main(fn: Optional[Callable[[str, Any], Any]], name: str) -> Callable[..., Any]:
        if fn is None:
            return missing(name)
        return lambda main_func, host=None: fn(main_func, host)

    optional = {name: getattr(primer_kernel, name) for name in ("ClientCodeMissing", "__version__")
                if hasattr(primer_kernel, name)}
    return SimpleNamespace(
        **optional,
        Host=primer_kernel.Host,
        RealFileSystem=primer_kernel.RealFileSystem,
        RunResult=primer_kernel.RunResult,
        PYTHON_PROBE_CODE=primer_kernel.PYTHON_PROBE_CODE,
        render_entry_script=primer_kernel.render_entry_script,
        main=(lambda host=None: main(host)) if main else missing("main"),
        boot_env=entry_with_main(boot_env, "boot_env"),
        start_app=entry_with_main(start_app, "start_app"),
    )
