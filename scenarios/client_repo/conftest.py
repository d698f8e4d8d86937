"""The scenarios here test examples/full as its own CI does, from this repo's pytest: its client code (the
"import" mains) is imported from its source tree, as its pytest.ini's `pythonpath = src` does there."""
import os
import sys

EXAMPLE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "examples", "full", "src")

if os.path.normpath(EXAMPLE_SOURCE) not in [os.path.normpath(p) for p in sys.path]:
    sys.path.insert(0, os.path.normpath(EXAMPLE_SOURCE))
