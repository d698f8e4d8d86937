"""Fake tools of the simulated world, one module per family: `venv` (python -m venv), `pip`, `uv`,
`shells`. Each module holds handlers for the tool table of `protoprimer_harness.fake_tools`; the shared parts are the
package index and resolver (`index`), installed distributions in site-packages (`dists`) and the projects
pip/uv install editable (`projects`). See docs/harness.md for what each one models and what it does not.
"""
