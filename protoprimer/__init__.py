"""protoprimer: bootstrap a git repo from whatever python is on PATH.

The product is one stand-alone file, `protoprimer.primer_kernel`, that repos commit a copy of. This
package module imports nothing at load time, so locating the installed kernel (importlib's find_spec)
does not run it.
"""

__all__ = ["__version__"]


def __getattr__(name):
    if name == "__version__":
        from protoprimer.primer_kernel import __version__

        return __version__
    raise AttributeError("module 'protoprimer' has no attribute %r" % name)
