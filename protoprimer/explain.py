"""Why a run did what it did (`protoprimer explain`, docs/meta-tools.md): which Python and from which input,
which env and why, whether the venv was reused or rebuilt and why, what was installed, how long each phase
took. From the file log of the last real run (every process of a run appends to one file in the log dir,
from its first decision on), or from a dry evaluation that decides without doing (`--dry`).
"""

import calendar
import os
import re
import time

from protoprimer import primer_kernel as kernel

# A file log line: `2026-12-07T21:22:27.027Z pid:27789 INFO py:stride_py_unknown <message>`.
_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z pid:(\d+) (\w+) py:(\w+) (.*)$")
_EXIT = re.compile(r"^(SUCCESS|FAILURE) \[(-?\d+)\]: (.*)$")

# What the kernel says when it decides (its INFO lines), by topic. The patterns are the kernel's own
# messages; tests/integration/test_meta_tools.py checks them against real runs.
DECISIONS = (
    ("python", re.compile(r"^required Python version (?P<version>\S+), from (?P<source>.+)$"), "required {version}, from {source}"),
    ("python", re.compile(r"^Python (?P<version>\d[\w.]*): (?P<path>\S+)(?: \(found as (?P<found>.+)\))?$"),
     "chosen: Python {version} at {path}{found_as}"),
    ("python", re.compile(r"^rejected (?P<what>.+)$"), "rejected: {what}"),
    ("env", re.compile(r"^env (?P<env>\S+), chosen by (?P<source>.+)$"), "{env}, chosen by {source}"),
    ("env", re.compile(r"^no env: (?P<why>.+)$"), "no env: {why}"),
    ("env", re.compile(r"^pointed (?P<link>\S+) at (?P<target>\S+) \((?P<source>.+)\)$"), "pointed {link} at {target} ({source})"),
    ("venv", re.compile(r"^venv (?P<dir>\S+): (?P<decision>.+)$"), "{dir}: {decision}"),
    ("venv", re.compile(r"^reinstalling into (?P<dir>\S+): (?P<why>.+)$"), "reinstalling into {dir}: {why}"),
    ("venv", re.compile(r"^venv (?P<dir>\S+) is up to date: nothing to install$"), "{dir} is up to date: nothing installed"),
    ("venv", re.compile(r"^(?P<what>(moved|removed) .+)$"), "{what}"),
    ("install", re.compile(r"^(?P<what>(creating|installing|listing|upgrading|seeding) .+)$"), "{what}"),
    ("install", re.compile(r"^(?P<what>(pinned|created the empty constraints file|reset: ).+)$"), "{what}"),
    ("install", re.compile(r"^(?P<what>.+: [+-~] .+)$"), "{what}"),
    ("chain", re.compile(r"^restarting as (?P<python>\S+) at (?P<stride>\w+)$"), "restarted as {python} at {stride}"),
    ("chain", re.compile(r"^refreshed the kernel copy (?P<copy>\S+) from (?P<source>\S+)$"), "refreshed the copy {copy} from {source}"),
)
TOPICS = ("python", "env", "venv", "install", "chain")
TOPIC_TITLES = {"python": "Python", "env": "env", "venv": "venv", "install": "installs", "chain": "chain"}


class LogLine(object):
    def __init__(self, when, pid, level, stride, message):
        self.when, self.pid, self.level, self.stride, self.message = when, pid, level, stride, message


class Explanation(object):
    """What a run decided: `decisions` [(topic, sentence)], `phases` [(what, seconds)], the `exit` line
    ((status, code, command) or None), the log file it came from (None for a dry evaluation)."""

    def __init__(self, source, decisions, phases=(), exit=None, total=None, errors=()):
        self.source = source
        self.decisions = list(decisions)
        self.phases = list(phases)
        self.exit = exit
        self.total = total
        self.errors = list(errors)

    def topic(self, name):
        return [sentence for topic, sentence in self.decisions if topic == name]


def parse_log(text):
    """The structured lines of a file log, and its exit line."""
    lines, exit_line = [], None
    for raw in text.splitlines():
        match = _LINE.match(raw)
        if match:
            stamp, millis, pid, level, stride, message = match.groups()
            when = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")) + int(millis) / 1000.0
            lines.append(LogLine(when, int(pid), level, stride, message))
            continue
        match = _EXIT.match(raw)
        if match:
            exit_line = (match.group(1), int(match.group(2)), match.group(3))
    return lines, exit_line


def _decision(message):
    for topic, pattern, template in DECISIONS:
        match = pattern.match(message)
        if match:
            values = dict((k, v or "") for k, v in match.groupdict().items())
            values["found_as"] = " (found as %s)" % values["found"] if values.get("found") else ""
            return topic, template.format(**values)
    return None


def explain_log(path, text):
    lines, exit_line = parse_log(text)
    decisions, phases, errors = [], [], []
    for index, line in enumerate(lines):
        if line.level == "ERROR":
            errors.append(line.message)
            continue
        decision = _decision(line.message)
        if decision is not None and decision not in decisions:
            decisions.append(decision)
        if decision is not None and decision[0] == "install" and index + 1 < len(lines):
            phases.append((line.message, max(lines[index + 1].when - line.when, 0.0)))
    total = lines[-1].when - lines[0].when if lines else None
    return Explanation(path, decisions, phases, exit_line, total, errors)


def last_log(log_dir):
    """The newest run's file log in `log_dir` (`<script>.<start id>.log`, ordered by start id), or None."""
    names = [name for name in (os.listdir(log_dir) if os.path.isdir(log_dir) else ()) if name.endswith(".log")]
    if not names:
        return None

    def start_id(name):
        parts = name[:-len(".log")].rsplit(".", 2)
        return parts[-2] + "." + parts[-1] if len(parts) == 3 else name

    return os.path.join(log_dir, max(names, key=lambda name: (kernel._start_id_order(start_id(name)), name)))


def explain_last_run(host=None):
    """The explanation of the last run of the repo this process belongs to (its log dir from the config)."""
    derived = kernel.get_config(host=host)
    log_dir = derived["state_local_log_dir_abs_path_inited"]
    path = last_log(log_dir)
    if path is None:
        raise kernel.PrimerError("no run has logged to %s yet: run ./prime, or use --dry" % log_dir, kernel.ExitCode.config_error)
    with open(path, encoding="utf-8") as handle:
        return explain_log(path, handle.read())


def explain_dry(host=None):
    """Decide as a `./prime` from here would, without doing anything: the config in read mode, the Python
    it would choose, the env, and the venv's verdict."""
    ctx = kernel.RunContext(host or kernel.real_host(), kernel.EntryFunc.func_call_lib)
    ctx.coordinates = kernel.Coordinates(ctx.entry_func, ctx.eval_state("state_exec_mode_inited"))
    requirement = ctx.eval_state("state_python_requirement_inited")
    candidate = ctx.eval_state("state_python_candidate_found")
    selection = ctx.eval_state("state_env_selection_inited")
    decisions = [("python", "required %s, from %s" % (requirement.text, requirement.source))]
    decisions.extend(("python", "rejected: %s" % line) for line in candidate.tried)
    if candidate.path is not None:
        found = "" if candidate.found in (None, candidate.path) else " (found as %s)" % candidate.found
        decisions.append(("python", "chosen: Python %s at %s%s" % (kernel._version_text(candidate.version), candidate.path, found)))
    if selection.env_abs is None:
        decisions.append(("env", "no env" if selection.source == "no env" else "no env (%s)" % selection.source))
    else:
        decisions.append(("env", "%s, chosen by %s" % (selection.env_abs, selection.source)))
    try:
        check = ctx.eval_state("state_venv_checked")
        paths = ctx.eval_state("state_venv_paths_inited")
        verdict = {"good": "would be reused: up to date", "stale": "would be reused, reinstalling: %s",
                   "missing": "would be built: %s", "rebuild": "would be rebuilt: %s"}[check.status]
        decisions.append(("venv", "%s: %s" % (paths.dir, verdict.replace("%s", check.reason or ""))))
    except kernel.PrimerError as error:
        decisions.append(("venv", "cannot tell: %s" % error.message))
    return Explanation(None, decisions)


def render_text(explanation):
    lines = ["explained from %s" % (explanation.source or "a dry evaluation (nothing was done)")]
    if explanation.exit is not None:
        status, code, command = explanation.exit
        lines.append("run: %s [%d]: %s%s" % (status, code, command,
                                             "" if explanation.total is None else " (%.2f s)" % explanation.total))
    for topic in TOPICS:
        sentences = explanation.topic(topic)
        if sentences:
            lines.append("%s:" % TOPIC_TITLES[topic])
            lines.extend("  " + sentence for sentence in sentences)
    if explanation.phases:
        lines.append("phases:")
        lines.extend("  %6.2f s  %s" % (seconds, what) for what, seconds in explanation.phases)
    if explanation.errors:
        lines.append("errors:")
        lines.extend("  " + error for error in explanation.errors)
    return "\n".join(lines) + "\n"
