"""How this suite loads the protoprimer pytest plugin: through its pytest11 entry point when the package is
installed (pip install -e .), else by name; loading it both ways would register it twice. tests/conftest.py
and the pytester tests (which start pytest runs of their own) share this one answer."""

import os


def plugin_is_installed():
    """Whether protoprimer_harness.plugin comes through the pytest11 entry point in this process."""
    from importlib.metadata import entry_points

    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    try:
        found = entry_points(group="pytest11")
    except TypeError:  # Python < 3.10
        found = entry_points().get("pytest11", [])
    return any(ep.value == "protoprimer_harness.plugin" for ep in found)


# The arguments a nested pytest run needs to get the plugin.
PLUGIN_ARGS = () if plugin_is_installed() else ("-p", "protoprimer_harness.plugin")
