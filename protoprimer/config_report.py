"""The annotated effective config (`protoprimer config`, docs/meta-tools.md): every field with its value,
where the value came from (file and leap, or the default), a one-line description, and the fields a file
sets that no state reads from it, flagged as unused.

The kernel is evaluated in-process as `get_config()` is (read mode: no restarts, nothing written), so the
report is of the config a `./prime` from the same place would use.
"""

import json
import os

from protoprimer import primer_kernel as kernel

# One line per field (docs/config.md has the full table).
FIELD_DESCRIPTIONS = {
    "ref_root_dir_rel_path": "the ref root (the repo), relative to the kernel copy's dir",
    "global_conf_dir_rel_path": "the global config dir, relative to the ref root",
    "local_conf_symlink_rel_path": "the link naming the selected env dir, relative to the ref root",
    "default_env_dir_rel_path": "the env used when no --env is given and the link does not exist yet",
    "required_python_version": "the Python the venv is built with: 3, 3.11 or 3.11.7 (else .python-version)",
    "python_selector_file_rel_path": "a Python file whose select_python_file_abs_path() may pick the interpreter",
    "local_venv_dir_rel_path": "the venv dir",
    "local_log_dir_rel_path": "the log dir (one file per run)",
    "local_tmp_dir_rel_path": "the tmp dir (locks, staging)",
    "local_cache_dir_rel_path": "the cache dir (the drivers' tool venvs), dropped by reset",
    "venv_driver": "how the venv is made: venv_pip or venv_uv (PROTOPRIMER_VENV_DRIVER overrides it)",
    "version_constraints_file_basename": "the pins file (the lock file), kept in the env dir",
    "project_descriptors": "the projects installed editable, with their extras and install groups",
    "install_specs": "the order of install groups and extra installer arguments per group",
}

_LEAP_FILE_STATES = (
    (kernel.ConfLeap.leap_primer, "state_primer_conf_file_data_loaded", "primer"),
    (kernel.ConfLeap.leap_client, "state_client_conf_file_data_loaded", "global"),
    (kernel.ConfLeap.leap_env, "state_env_conf_file_data_loaded", "local"),
)


def derived_key(field):
    """The derived config's key of a field: `local_venv_dir_rel_path` -> `state_local_venv_dir_abs_path_inited`."""
    if field == "default_env_dir_rel_path":
        return "state_selected_env_dir_rel_path_inited"
    return "state_%s_inited" % field.replace("_rel_path", "_abs_path")


class FieldReport(object):
    """One field: its effective value, where it came from (`source`: (config title, file path), or None for
    the default), the files that set it but lost to the source (`overridden`: [(title, path)]), and its
    description."""

    def __init__(self, field, value, source, overridden, description):
        self.field, self.value, self.source = field, value, source
        self.overridden, self.description = overridden, description

    def as_dict(self):
        def where(entry):
            return {"config": entry[0], "path": entry[1]}

        return {"field": self.field, "value": self.value, "source": where(self.source) if self.source else "default",
                "overridden": [where(entry) for entry in self.overridden], "description": self.description}


class ConfigReport(object):
    def __init__(self, files, fields, unused):
        self.files = files  # [(leap title, path, present)]
        self.fields = fields  # [FieldReport]
        self.unused = unused  # [(path, field, why)]

    def as_dict(self):
        return {
            "files": [{"leap": leap, "path": path, "present": present} for leap, path, present in self.files],
            "fields": [field.as_dict() for field in self.fields],
            "unused": [{"path": path, "field": field, "why": why} for path, field, why in self.unused],
        }


def build_report(host=None):
    """Evaluate the config in-process and annotate it. Raises the kernel's PrimerError when it is broken."""
    ctx = kernel.RunContext(host or kernel.real_host(), kernel.EntryFunc.func_call_lib)
    ctx.coordinates = kernel.Coordinates(ctx.entry_func, ctx.eval_state("state_exec_mode_inited"))
    confs = [(leap, title, ctx.eval_state(state)) for leap, state, title in _LEAP_FILE_STATES]
    derived = ctx.eval_state("state_derived_conf_data_loaded")
    files, unused, reads = [], [], {}
    for leap, title, conf in confs:
        files.append((title, conf.path, bool(conf.present)))
        if not conf.present:
            continue
        readers = reads.setdefault(conf.path, set())
        readers.update(kernel.ROLE_FIELDS[leap])
    for leap, title, conf in confs:
        if not conf.present:
            continue
        for field in conf.data:
            if field.startswith("_") or field in reads[conf.path]:
                continue
            if field in kernel.FIELD_TYPES:
                belongs = [t for l, _, t in _LEAP_FILE_STATES if field in kernel.ROLE_FIELDS[l]]
                why = "not read from this file: it belongs in the %s config" % " or ".join(belongs)
            else:
                why = "unknown field: no state reads it (docs/config.md lists the fields)"
            if (conf.path, field, why) not in unused:
                unused.append((conf.path, field, why))
    fields = []
    for field in kernel.PRIMER_FIELDS + kernel.CLIENT_FIELDS + kernel.COMMON_FIELDS:
        setters = [(title, conf.path) for leap, title, conf in reversed(confs)
                   if conf.present and field in conf.data and field in kernel.ROLE_FIELDS[leap]]
        source = setters[0] if setters else None
        overridden = [entry for entry in setters[1:] if entry[1] != setters[0][1]]
        fields.append(FieldReport(field, derived.get(derived_key(field)), source, overridden, FIELD_DESCRIPTIONS[field]))
    return ConfigReport(files, fields, unused)


def render_text(report, ref_root=None):
    def short(path):
        return os.path.relpath(path, ref_root) if ref_root and path and os.path.isabs(path) else path

    lines = ["config files:"]
    for leap, path, present in report.files:
        lines.append("  %-7s %s%s" % (leap, short(path), "" if present else "  (absent: defaults apply)"))
    lines.append("")
    for field in report.fields:
        value = json.dumps(field.value) if not isinstance(field.value, str) else field.value
        lines.append("%s = %s" % (field.field, value))
        def where(entry):
            return "%s (%s config)" % (short(entry[1]), entry[0])

        lines.append("    from %s%s" % (where(field.source) if field.source else "the default",
                                        "; overrides " + ", ".join(where(o) for o in field.overridden) if field.overridden else ""))
        lines.append("    %s" % field.description)
    if report.unused:
        lines.append("")
        lines.append("unused fields (no state reads them):")
        lines.extend("  %s: %s: %s" % (short(path), field, why) for path, field, why in report.unused)
    return "\n".join(lines) + "\n"
