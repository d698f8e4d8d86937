"""Fake tools of the simulated world.

Public: `base` (`ToolCall`, `ToolResult`, `ToolRefusal`: what a handler of your own answers with, for
`World.add_tool`) and `common` (`perform`, `unsupported` and the option parsing the handlers share).
The rest are the harness's own, one module per family: `_venv` (python -m venv), `_pip`, `_uv`, `_shells`,
`_python` (the probe, a broken interpreter); each holds handlers for the tool table of
`protoprimer_harness._fake_tools`. The shared parts are the package index and resolver (`_index`), installed
distributions in site-packages (`_dists`), what pip and uv install (`_install`) and the projects pip/uv
install editable (`_projects`). See docs/harness.md for what each one models and what it does not.
"""
