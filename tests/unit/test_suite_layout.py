"""The test suite's own layout: pytest imports test modules by their basename (rootdir-relative "prepend"
import mode, no __init__.py), so two test files with one basename in different folders make the whole run
fail to collect. A new file gets a name of its own."""

import collections
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_ROOTS = ("tests", "scenarios", "examples")


def test_every_test_module_has_a_basename_of_its_own():
    seen = collections.defaultdict(list)
    for root in TEST_ROOTS:
        for dir_path, dir_names, file_names in os.walk(os.path.join(REPO, root)):
            dir_names[:] = [name for name in dir_names if name not in ("__pycache__", "venv") and not name.startswith(".")]
            for name in file_names:
                if name.startswith("test_") and name.endswith(".py"):
                    seen[name].append(os.path.relpath(os.path.join(dir_path, name), REPO))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
