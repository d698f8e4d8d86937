"""Render the report as markdown (readable on a terminal, pasted as is into docs/performance.md)."""


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |")
    return "\n".join(lines)


def render(report, header_lines):
    out = list(header_lines)
    out.append("")
    out.append("Figures (medians; `runs` is the number of timed runs of each contender, measured side by side):")
    out.append("")
    out.append(_table(
        ["figure", "this project", "reference 0.13.0", "baseline", "baseline is", "runs", "notes"],
        [[r.figure, r.ours or "-", r.ref or "-", r.base or "-", r.base_is, r.runs, r.note] for r in report.rows],
    ))
    out.append("")
    out.append("Targets (ratios of the medians above, from the same run):")
    out.append("")
    out.append(_table(["target", "measured", "target", "verdict"], [[t.label, t.measured, t.limit, t.verdict] for t in report.targets]))
    if report.starts:
        out.append("")
        out.append("Python starts per command (every interpreter the command starts; chain: the restarts of the process the user started):")
        out.append("")
        out.append(_table(["command", "this project", "reference 0.13.0", "baseline", "baseline is"],
                          [[s.command, s.ours, s.ref, s.base, s.base_is] for s in report.starts]))
    if report.notes:
        out.append("")
        out.append("Notes:")
        out.append("")
        for note in report.notes:
            out.append("- " + note.replace("\n", "\n  "))
    return "\n".join(out) + "\n"
