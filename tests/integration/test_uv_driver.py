"""The venv_uv driver for real: uv installed into the tool venv from the wheelhouse, the venv made from an
interpreter already on the machine, with every network access of uv refused (offline, dead proxies), so
a Python download would fail the run."""

import os

import pytest

from client_repos import download_uv, version_text

pytestmark = pytest.mark.integration

DEAD_PROXY = "http://127.0.0.1:9"


def test_venv_uv_builds_from_an_existing_interpreter_without_network(make_repo, real_machine, tmp_path):
    problem = download_uv(real_machine.wheelhouse)
    if problem:
        pytest.fail("cannot add uv to the wheelhouse (the package index must be reachable): %s" % problem, pytrace=False)
    version = real_machine.other_version() or real_machine.primary  # uv needs 3.8+: both are
    uv_pythons = tmp_path / "uv-managed-pythons"
    uv_pythons.mkdir()
    env = real_machine.env(
        UV_OFFLINE="1",
        UV_NO_CONFIG="1",
        UV_FIND_LINKS=real_machine.wheelhouse,
        UV_CACHE_DIR=os.path.join(real_machine.home, "uv-cache"),
        UV_PYTHON_INSTALL_DIR=str(uv_pythons),
        HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY, http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY,
        ALL_PROXY=DEAD_PROXY, NO_PROXY="",
    )
    repo = make_repo(python_version=version_text(version), files={"proto_kernel.json": {"venv_driver": "venv_uv"}})
    venv = repo.venv()
    tool_venv = repo.path("cache", "venv", "uv.venv")

    run = repo.prime(env=env).assert_ok()
    assert run.log_lines("creating the uv tool venv %s" % tool_venv), run.describe()
    assert run.log_lines("installing uv into %s" % tool_venv), run.describe()
    stamp = venv.stamp()
    python = stamp["python"]  # the interpreter found on PATH (by that path, or its real one)
    assert os.path.samefile(python, real_machine.python(version)), stamp
    assert run.log_lines("creating the venv %s with uv and %s" % (venv.dir, python)), run.describe()
    assert os.access(os.path.join(tool_venv, "bin", "uv"), os.X_OK)
    cfg = venv.cfg()
    assert "uv" in cfg, cfg  # uv made it
    assert cfg["version_info"].startswith(version_text(version) + "."), cfg
    assert os.listdir(str(uv_pythons)) == [], "uv installed a Python"
    assert stamp["driver"] == "venv_uv"
    report = run.report
    assert report["prefix"] == os.path.realpath(venv.dir)
    assert tuple(report["version"][:2]) == version
    assert report["installed_protoprimer"] is not None
    assert report["config"]["state_venv_driver_inited"] == "venv_uv"
    assert "protoprimer==" in repo.read("constraints.txt")
    assert run.log_lines("refreshed the kernel copy"), run.describe()

    # warm: neither uv nor the projects are installed again
    before = venv.installed()
    warm = repo.prime(env=env).assert_ok()
    assert warm.log_lines("is up to date: nothing to install"), warm.describe()
    assert not warm.log_lines("installing") and not warm.log_lines("creating"), warm.describe()
    assert venv.installed() == before
