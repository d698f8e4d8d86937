"""Static facts about the kernel file, read from its source (the file is never imported for these)."""
import ast
import pathlib
import sys

KERNEL_PATH = pathlib.Path(__file__).resolve().parents[2] / "protoprimer" / "primer_kernel.py"

# Modules whose use is an effect on the world (or reads it); allowed only inside the adapter region.
EFFECT_MODULES = {"os", "sys", "subprocess", "shutil", "importlib", "io", "tempfile", "time", "signal", "fcntl"}
# Pure functions of those modules that compute on their arguments only.
PURE_ATTRIBUTES = {
    "os.path.join", "os.path.normpath", "os.path.dirname", "os.path.basename", "os.path.isabs",
    "os.path.splitext", "os.path.relpath", "os.path.split", "os.sep", "os.path.sep", "os.path",
    "time.strftime", "time.gmtime",
}
# String constants of effect modules: they and their (string) methods are pure.
PURE_CONSTANTS = ("os.pathsep", "os.sep", "os.linesep", "os.curdir", "os.pardir")
EFFECT_BUILTINS = {"open", "__import__", "exec", "eval", "compile", "input", "print", "exit", "quit"}
ALLOWED_REGIONS = ("adapters", "version gate")


def region_lines(source, names=ALLOWED_REGIONS):
    """Line numbers inside `# region: NAME` ... `# endregion: NAME` blocks for the given names."""
    allowed = set()
    start = {}
    for number, line in enumerate(source.splitlines(), 1):
        text = line.strip()
        for name in names:
            if text == "# region: %s" % name:
                start[name] = number
            elif text == "# endregion: %s" % name and name in start:
                allowed.update(range(start.pop(name), number + 1))
    return allowed


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def annotate_parents(tree):
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child._parent = node
    return tree


def effect_violations(source):
    tree = annotate_parents(ast.parse(source))
    allowed = region_lines(source)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or line in allowed:
            continue
        if isinstance(node, ast.Attribute):
            if isinstance(node._parent, ast.Attribute):
                continue  # judged at the outermost attribute of the chain
            dotted = _dotted(node)
            constant = any(dotted == c or dotted.startswith(c + ".") for c in PURE_CONSTANTS) if dotted else False
            if dotted and dotted.split(".")[0] in EFFECT_MODULES and dotted not in PURE_ATTRIBUTES and not constant:
                found.append("line %d: %s" % (line, dotted))
        elif isinstance(node, ast.Name):
            if node.id in EFFECT_MODULES and not isinstance(node._parent, ast.Attribute):
                found.append("line %d: bare use of module %s" % (line, node.id))
            elif node.id in EFFECT_BUILTINS and isinstance(node._parent, ast.Call) and node._parent.func is node:
                found.append("line %d: %s()" % (line, node.id))
            elif node.id == "__file__":
                found.append("line %d: __file__" % line)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if node.col_offset == 0:
                continue  # module-level imports are declarations, checked by imported_modules()
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in EFFECT_MODULES - {"time"}:
                    found.append("line %d: import %s" % (line, name))
    return found


def imported_modules(source):
    """Top-level names of every module the source imports (anywhere in the file)."""
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def non_stdlib_imports(source):
    return sorted(m for m in imported_modules(source) if m not in sys.stdlib_module_names and m != "__future__")


def global_statements(source):
    return ["line %d: global %s" % (n.lineno, ", ".join(n.names)) for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Global)]
