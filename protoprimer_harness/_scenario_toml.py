"""Reading TOML: the one place the harness imports a TOML parser.

Python 3.11 has `tomllib`; before it the harness extra installs `tomli`, the same parser under another
name. `toml_module` returns whichever is there, or raises `HarnessMissing` naming the install command.
Everything in the harness that reads TOML (scenario files, tapes, the projects the fake pip and uv
install) goes through it, so the fallback and its message live here once.

The module imports nothing of the harness: the plugin and the tape format import it without loading
the rest (the plugin itself must not import a TOML parser before a scenario or tape is used).
"""

from types import ModuleType

__all__ = ["HarnessMissing", "INSTALL_HINT", "toml_module"]

INSTALL_HINT = "pip install 'protoprimer[harness]'"


class HarnessMissing(ImportError):
    """A package the harness needs (pyfakefs, or tomli before Python 3.11) is not installed:
    install the extra with `pip install 'protoprimer[harness]'`."""


def toml_module(reading: str = "TOML files") -> ModuleType:
    """The TOML parser module (`tomllib`, or `tomli` before Python 3.11): use its `loads` and catch its
    `TOMLDecodeError` (a `ValueError`). `reading` names what needs it in the HarnessMissing message
    ("reading scenario files needs tomli before Python 3.11: pip install ...")."""
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise HarnessMissing(
                "reading %s needs tomli before Python 3.11: %s" % (reading, INSTALL_HINT)
            ) from None
    return tomllib
