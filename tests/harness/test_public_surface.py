"""The harness's public surface is what its documentation tells users to import, no more, no less.

`protoprimer_harness.__all__` holds every name that an import line of the docs (README.md, docs/*.md,
examples/, the package's own docstring) imports from the package or one of its modules, and nothing the
docs do not mention in code; every such name is importable where the docs say; every dotted reference
`protoprimer_harness.module.name` in the docs resolves; importing the package loads none of its modules.

Modules are public by name: a module whose name does not start with `_` is one of `PUBLIC_MODULES` (the
package docstring names each), and the docs and `__all__` import only from those; every other module is
`_name`, the harness's own workings.
"""

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import protoprimer_harness

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS_DIR = REPO_ROOT / "protoprimer_harness"

# The modules users may import from (besides the package itself). Any other module's name starts with `_`.
PUBLIC_MODULES = (
    "protoprimer_harness.world",
    "protoprimer_harness.session",
    "protoprimer_harness.outcome",
    "protoprimer_harness.scenario",
    "protoprimer_harness.tape",
    "protoprimer_harness.tape_recipes",
    "protoprimer_harness.guards",
    "protoprimer_harness.errors",
    "protoprimer_harness.plugin",  # the pytest11 entry point (pyproject.toml): its name is fixed
    "protoprimer_harness.tools",
    "protoprimer_harness.tools.base",
    "protoprimer_harness.tools.common",
)


def _doc_files():
    files = [REPO_ROOT / "README.md"] + sorted((REPO_ROOT / "docs").glob("*.md"))
    for pattern in ("*.md", "*.py"):
        files += sorted(path for path in (REPO_ROOT / "examples").rglob(pattern) if "proto_kernel" not in path.name)
    return files


def _doc_texts():
    """(where, text) of every documentation file, and of the package's docstring."""
    texts = [(str(path.relative_to(REPO_ROOT)), path.read_text(encoding="utf-8")) for path in _doc_files()]
    texts.append(("protoprimer_harness/__init__.py docstring", protoprimer_harness.__doc__))
    return texts


IMPORT_LINE = re.compile(r"^\s*from\s+(protoprimer_harness(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n#`]+)", re.M)
DOTTED_REFERENCE = re.compile(r"\bprotoprimer_harness(?:\.\w+)+")
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)


def doc_imports():
    """(where, module, name) for every name a documentation import line imports."""
    found = []
    for where, text in _doc_texts():
        for module, names in IMPORT_LINE.findall(text):
            for name in names.strip("()").replace("\n", " ").split(","):
                name = name.split(" as ")[0].strip()
                if name and name != "*":
                    found.append((where, module, name))
    return found


def doc_dotted_references():
    """(where, dotted name) for every `protoprimer_harness.x.y` the docs mention in code."""
    return sorted({(where, reference) for where, text in _doc_texts() for code in CODE.findall(text)
                   for reference in DOTTED_REFERENCE.findall(code)})


def documented_identifiers():
    """Every identifier that appears in code (inline spans and fenced blocks) of the documentation files."""
    identifiers = set()
    for path in _doc_files():
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            identifiers.update(re.findall(r"[A-Za-z_]\w*", code))
    return identifiers


def test_the_docs_import_something_from_the_harness():
    # a guard against the parser finding nothing (then every other test here would pass vacuously)
    names = {name for _, _, name in doc_imports()}

    assert {"World", "load_scenario", "run_scenario", "check_expectations"} <= names


@pytest.mark.parametrize("where, module, name", doc_imports(), ids=lambda value: str(value))
def test_every_name_a_doc_imports_is_public_and_importable_there(where, module, name):
    # when
    imported = getattr(importlib.import_module(module), name, None)
    # then
    assert name in protoprimer_harness.__all__, "%s imports %s from %s: not in protoprimer_harness.__all__" % (
        where, name, module)
    assert imported is not None, "%s imports %s from %s, which has no such name" % (where, name, module)
    assert getattr(protoprimer_harness, name) is imported


@pytest.mark.parametrize("where, reference", doc_dotted_references(), ids=lambda value: str(value))
def test_every_dotted_reference_of_the_docs_resolves(where, reference):
    parts = reference.split(".")
    # the longest importable module prefix, then attributes
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        break
    for attribute in parts[cut:]:
        assert hasattr(target, attribute), "%s names %s: %r has no %s" % (where, reference, target, attribute)
        target = getattr(target, attribute)


def test_all_holds_only_names_the_docs_mention_in_code():
    undocumented = sorted(set(protoprimer_harness.__all__) - documented_identifiers())

    assert undocumented == [], "in protoprimer_harness.__all__ but in no doc: %s" % undocumented


def test_every_public_name_is_importable_from_the_package():
    # when
    namespace = {}
    exec("from protoprimer_harness import *", namespace)
    # then
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(protoprimer_harness.__all__)
    assert set(protoprimer_harness.__all__) <= set(dir(protoprimer_harness))


def test_a_public_name_is_looked_up_in_sys_modules_at_every_access():
    # a module a test runner replaced in sys.modules (pytester's in-process runs restore it) must not be
    # used through a stale reference: pyfakefs patches only the modules it finds there
    protoprimer_harness.World  # noqa: B018

    assert "World" not in vars(protoprimer_harness)


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        protoprimer_harness.NoSuchName  # noqa: B018


def test_importing_the_package_loads_none_of_its_modules_nor_pytest_nor_pyfakefs():
    code = (
        "import sys, protoprimer_harness; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('protoprimer_harness', 'pytest', 'pyfakefs')))"
    )

    printed = subprocess.run([sys.executable, "-c", code], cwd=str(REPO_ROOT), stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout

    assert ast.literal_eval(printed.strip()) == ["protoprimer_harness"]


def test_the_package_docstring_names_the_limitations_page():
    assert (REPO_ROOT / "docs" / "limitations.md").is_file()
    assert "docs/limitations.md" in protoprimer_harness.__doc__
    assert "`docs/limitations.md`" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


# region: public modules by name


def harness_modules():
    """The dotted name of every module and package of protoprimer_harness, from its files."""
    names = []
    for path in sorted(HARNESS_DIR.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_a_module_not_named_private_is_on_the_public_list():
    # given
    modules = harness_modules()
    # when
    unlisted = [name for name in modules if name != "protoprimer_harness"
                and not name.rpartition(".")[2].startswith("_") and name not in PUBLIC_MODULES]
    # then
    assert "protoprimer_harness._runner" in modules and "protoprimer_harness.tools._pip" in modules
    assert unlisted == [], (
        "modules neither private by name (`_name.py`) nor on PUBLIC_MODULES: %s; make them `_name.py` unless "
        "the docs tell users to import from them" % unlisted)
    assert sorted(set(PUBLIC_MODULES) - set(modules)) == [], "PUBLIC_MODULES names modules that do not exist"


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_imports_and_its_documented_names_resolve_there(module):
    # when
    imported = importlib.import_module(module)
    documented = sorted({name for _, source, name in doc_imports() if source == module})
    # then
    assert [name for name in documented if not hasattr(imported, name)] == []


def test_the_docs_and_all_import_only_from_public_modules():
    public = set(PUBLIC_MODULES) | {"protoprimer_harness"}
    from_private = sorted({(where, module) for where, module, _ in doc_imports() if module not in public})
    exports_private = sorted({module for module in protoprimer_harness._EXPORTS.values()
                              if "protoprimer_harness." + module not in public})

    assert from_private == [], "the docs import from private modules: %s" % from_private
    assert exports_private == [], "__all__ names come from private modules: %s" % exports_private


def test_each_public_name_comes_from_the_public_module_that_defines_it_or_re_exports_it():
    for name, module in protoprimer_harness._EXPORTS.items():
        obj = getattr(protoprimer_harness, name)
        defined_in = obj.__module__
        assert defined_in == "protoprimer_harness." + module or defined_in.rpartition(".")[2].startswith("_"), (
            "%s is exported from %s but defined in the public %s: point _EXPORTS there" % (name, module, defined_in))


def test_the_package_docstring_names_every_public_module():
    listed = protoprimer_harness.__doc__.split("The public modules are", 1)[1].split(".\n\n", 1)[0]

    named = set(re.findall(r"`([\w.]+)`", listed))

    assert named >= {name.split(".", 1)[1] for name in PUBLIC_MODULES}
    assert {name for name in named if not name.rpartition(".")[2].startswith("_")} == {
        name.split(".", 1)[1] for name in PUBLIC_MODULES}


# endregion: public modules by name
