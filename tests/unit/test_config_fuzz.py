"""Config files fuzzed (issue 9, "Bad input"): any JSON value in any field of any config file, and any
JSON value as a whole file, either loads or fails with the documented message and code.

Each target (a file and a place in it) is its own test, so a kernel bug in one field does not hide
another; a few fixed values (EXAMPLES) are tried for every target, then random ones. Every value is
written into the file in one harness session per target and `./prime eval` runs on it, which must:

- exit 0 (the value loads: a field a file does not read only warns), or exit 3 with exactly one `ERROR`
  line, which names the file the value is in (docs/exit-codes.md: "names the file, field, variable");
  `required_python_version` may also end in exit 5 (no interpreter of that version), its one `ERROR`
  line naming the file too;
- never show a traceback, never exit 1 (an internal error is a protoprimer bug);
- write nothing (eval never writes).

The world has a `.python-version` (3.11) besides the global file's `required_python_version`, so that a
primer value moving the global config dir elsewhere still leaves a requirement; and no `dst/special_env`,
whose 3.12 requirement would turn a lucky `default_env_dir_rel_path` into a legitimate exit 5 about that
env's file.
"""

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from protoprimer import primer_kernel as kernel

PRIMER = "cmd/proto_code/proto_kernel.json"
GLOBAL = "gconf/proto_kernel.json"
LOCAL = "dst/default_env/proto_kernel.json"
ROOT = "/repo"

# The files as the max layout writes them (protoprimer_harness/_layouts.py), the value goes on top.
BASE = {
    PRIMER: {"ref_root_dir_rel_path": "../..", "global_conf_dir_rel_path": "gconf"},
    GLOBAL: {
        "local_conf_symlink_rel_path": "lconf",
        "default_env_dir_rel_path": "dst/default_env",
        "required_python_version": "3.11",
        "venv_driver": "venv_pip",
        "project_descriptors": [{"build_root_dir_rel_path": ".", "install_extras": []}],
    },
    LOCAL: {},
}

# Every field of docs/config.md; each goes into every file (a file that does not read it only warns).
FIELDS = tuple(kernel.FIELD_TYPES)  # every field the kernel knows (docs/config.md lists the same)


def put_field(field):
    def put(data, value):
        data[field] = value

    return put


def put_descriptor_field(key):
    def put(data, value):
        descriptor = {"build_root_dir_rel_path": "."}
        descriptor[key] = value
        data["project_descriptors"] = [descriptor]

    return put


def put_descriptor(data, value):
    data["project_descriptors"] = [value]


def put_install_spec(data, value):
    data["install_specs"] = [value]


def put_install_group_spec(data, value):
    data["install_specs"] = [{"main": value}]


def put_extra_command_args(data, value):
    data["install_specs"] = [{"main": {"extra_command_args": value}}]


# (name, file, how the value goes in, or None: the value is the whole file)
TARGETS = [("%s in %s" % (field, path), path, put_field(field)) for path in BASE for field in FIELDS]
TARGETS += [
    ("project_descriptors[0] in %s" % LOCAL, LOCAL, put_descriptor),
    ("project_descriptors[0].build_root_dir_rel_path in %s" % LOCAL, LOCAL, put_descriptor_field("build_root_dir_rel_path")),
    ("project_descriptors[0].install_extras in %s" % LOCAL, LOCAL, put_descriptor_field("install_extras")),
    ("project_descriptors[0].install_group in %s" % LOCAL, LOCAL, put_descriptor_field("install_group")),
    ("install_specs[0] in %s" % LOCAL, LOCAL, put_install_spec),
    ("install_specs[0].main in %s" % LOCAL, LOCAL, put_install_group_spec),
    ("install_specs[0].main.extra_command_args in %s" % LOCAL, LOCAL, put_extra_command_args),
]
TARGETS += [("the whole of %s" % path, path, None) for path in BASE]

# JSON values: the scalars json.dumps writes as standard JSON (no NaN or Infinity), nested in lists and
# objects.
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Tried for every target before the random ones: the values a person most often leaves in a field.
EXAMPLES = ("", "nowhere/at/all", "..", None, 0, [], {})
# Random values per target (52 targets, about 10 ms a value: the whole file runs in about 15 s).
MAX_EXAMPLES = 20


def file_text(path, put, value):
    """The text of the file at `path` with `value` put into it (or as the whole file)."""
    if put is None:
        return json.dumps(value) + "\n"
    data = json.loads(json.dumps(BASE[path]))
    put(data, value)
    return json.dumps(data, indent=4) + "\n"


def fuzz_world():
    from protoprimer_harness.world import World

    return (
        World(root=ROOT)
        .apply_layout("max")
        .remove("dst/special_env")
        .add_file(".python-version", "3.11\n")
        # a project wherever a fuzzed ref root may land (the kernel dir, its parent): eval checks projects too
        .add_file("cmd/proto_code/pyproject.toml", "[project]\nname = \"client\"\nversion = \"0\"\n")
        .add_file("cmd/pyproject.toml", "[project]\nname = \"client\"\nversion = \"0\"\n")
        .add_interpreter("python3", "3.11.7")
    )


@pytest.mark.parametrize("name, path, put", TARGETS, ids=[target[0] for target in TARGETS])
def test_any_json_value_loads_or_is_one_error_naming_the_file(name, path, put):
    allowed = (0, 3, 5) if name.startswith("required_python_version") else (0, 3)
    # one session per target, the file rewritten for each value: eval writes nothing, so the runs do not
    # interact (a write is a failure), and a new world per value would cost three times as much
    with fuzz_world().activate() as session:

        @settings(max_examples=MAX_EXAMPLES, deadline=None)
        @given(value=JSON_VALUES)
        def check(value):
            # given
            session.write_text(path, file_text(path, put, value))
            # when
            outcome = session.run("./prime eval")
            # then
            stderr = outcome.stderr
            errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
            summary = "%s = %s: exit %d\n--- stderr ---\n%s" % (
                name, json.dumps(value)[:200], outcome.exit_code, stderr[-2000:])
            assert "Traceback" not in stderr, summary
            assert outcome.written() == [], "eval wrote %s; %s" % (outcome.written(), summary)
            assert outcome.exit_code in allowed, summary
            if outcome.exit_code != 0:
                assert len(errors) == 1, summary
                assert "%s/%s" % (ROOT, path) in errors[0], "the ERROR line does not name %s/%s; %s" % (ROOT, path, summary)

        for value in EXAMPLES:
            check = example(value=value)(check)
        check()
