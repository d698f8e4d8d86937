"""protoprimer: bootstrap a git repo from whatever python is on PATH.

The product is one stand-alone file, `protoprimer.primer_kernel`, that repos commit a copy of.
"""
from protoprimer.primer_kernel import __version__

__all__ = ["__version__"]
