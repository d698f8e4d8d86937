"""The reference's (protoprimer 0.13) public names, as client code uses them: enum-style lookups on the
kernel's name tables, the names served from protoprimer.reference_api on first lookup, and the version
strings the reference accepted. The compatibility tier (tests/compat) runs the reference's own artefacts;
these pin the rules in milliseconds."""
import copy
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protoprimer import primer_kernel as kernel

# What metaprimer 0.2.0 imports from protoprimer.primer_kernel (all of its modules), and what the
# reference's documented examples add (proto_main, run_process, ContextBuilder, TargetState, StateStride).
REFERENCE_CLIENT_NAMES = [
    "AbstractCachingStateNode", "ConfConstClient", "ConfConstEnv", "ConfConstGeneral", "ConfConstInput",
    "ConfField", "ConfLeap", "ContextBuilder", "DefaultFileLogFormatter", "DefaultStderrLogFormatter",
    "EntryFunc", "EnvContext", "EnvState", "ExecOperation", "ParsedArg", "PathName", "SelectorFunc",
    "StateStride", "SyntaxArg", "TargetState", "TermColor", "ValueType", "VenvDriverType", "_get_shell_driver",
    "get_config", "get_default_start_id", "missing_conf_file_message", "proto_main", "read_json_file",
    "run_process", "trivial_factory", "warn_once_at_state_stride",
]


@pytest.mark.parametrize("name", REFERENCE_CLIENT_NAMES)
def test_every_name_reference_clients_import_resolves(name):
    assert getattr(kernel, name) is not None


def test_conf_leap_is_looked_up_by_member_name_like_an_enum():
    assert kernel.ConfLeap["leap_derived"] is kernel.ConfLeap.leap_derived
    assert kernel.ConfLeap.leap_env.name == "leap_env"
    assert [leap.name for leap in kernel.ConfLeap] == list(kernel.CONF_LEAPS)
    assert "leap_primer" in kernel.ConfLeap and "leap_nowhere" not in kernel.ConfLeap
    with pytest.raises(KeyError):
        kernel.ConfLeap["leap_nowhere"]
    with pytest.raises(KeyError):
        kernel.ConfLeap["_members"]


def test_entry_func_members_keep_the_reference_name_and_value():
    member = kernel.EntryFunc["func_boot_env"]
    assert (member.name, member.value, member) == ("func_boot_env", "boot_env", "boot_env")


def test_name_table_members_are_plain_strings_across_copies_and_pickles():
    member = kernel.ConfLeap.leap_client
    for twin in (copy.copy(member), copy.deepcopy(member), pickle.loads(pickle.dumps(member))):
        assert twin == "leap_client" and twin.name == "leap_client"
    assert {member: 1}["leap_client"] == 1


def test_env_state_names_are_the_keys_of_the_derived_config():
    for key in kernel.DERIVED_KEYS:
        assert kernel.EnvState[key].name == key


def test_target_states_name_the_states_they_stand_for():
    assert kernel.TargetState.target_proto_bootstrap_completed.value.name == "state_command_executed"


def test_conf_field_values_are_the_json_field_names():
    fields = set(kernel.FIELD_TYPES) | set(kernel.DESCRIPTOR_FIELDS)
    assert fields <= {field.value for field in kernel.ConfField}


def test_unknown_and_private_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        kernel.NoSuchName
    assert not hasattr(kernel, "_proto_kernel_abs_path")


def test_the_default_start_id_is_the_utc_time_and_the_pid():
    assert re.fullmatch(r"\d{8}T\d{6}Z\.%d" % __import__("os").getpid(), kernel.get_default_start_id())


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("3.11", ((3, 11), "")),
        ("3.11.7", ((3, 11, 7), "")),
        ("3.13.0rc2", ((3, 13, 0), "rc2")),
        ("3.12.0a1", ((3, 12, 0), "a1")),
        ("3.10b5", ((3, 10), "b5")),
        ("3.10.1-beta.2", ((3, 10, 1), "-beta.2")),
        (" 3.12\n", ((3, 12), "")),
        ("3.11.", None),
        ("3..1", None),
        ("3.11 rc1", None),
        ("3.11.7.1", None),
        ("latest", None),
        ("", None),
    ],
)
def test_required_versions_as_users_write_them(text, parsed):
    assert kernel.parse_required_version(text) == parsed


@given(
    st.lists(st.integers(0, 99), min_size=1, max_size=3),
    st.sampled_from(["", "a1", "b5", "rc2", "-beta.2", ".dev0", "-alpha", "rc"]),
)
def test_a_pre_release_suffix_never_changes_the_numeric_prefix(parts, suffix):
    text = ".".join(str(part) for part in parts) + suffix
    assert kernel.parse_required_version(text) == (tuple(parts), suffix)


@given(st.text(max_size=20))
def test_parsing_any_text_gives_a_version_or_none(text):
    parsed = kernel.parse_required_version(text)
    assert parsed is None or (1 <= len(parsed[0]) <= 3 and all(isinstance(part, int) for part in parsed[0]))
