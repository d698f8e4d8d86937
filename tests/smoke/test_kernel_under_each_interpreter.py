"""The kernel file's proto runtime runs `eval` under every real interpreter from 3.7 to 3.13 found here."""
import json
import os
import shutil
import subprocess

import pytest

from protoprimer_harness._real_interpreters import find_real_interpreters
from protoprimer import primer_kernel as kernel

FOUND = find_real_interpreters()
SUPPORTED = [v for v in sorted(FOUND) if (3, 7) <= v <= (3, 13)]


@pytest.mark.parametrize("version", SUPPORTED or [None], ids=lambda v: "python%d.%d" % v if v else "none")
def test_eval_runs_under_each_supported_interpreter(tmp_path, version):
    if version is None:
        pytest.skip("no Python 3.7-3.13 interpreter found on this machine")
    python = FOUND[version]
    shutil.copy(kernel.__file__, tmp_path / "proto_kernel.py")
    (tmp_path / ".python-version").write_text("%d.%d\n" % version)
    (tmp_path / "proto_kernel.json").write_text('{"venv_driver": "venv_uv"}')
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "client"\nversion = "0"\n')  # eval checks it
    env = {"PATH": os.path.dirname(python), "HOME": str(tmp_path)}
    result = subprocess.run(
        [python, "proto_kernel.py", "eval", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    derived = json.loads(result.stdout)["leap_derived"]
    assert derived["state_required_python_version_inited"] == "%d.%d" % version
    assert derived["state_venv_driver_inited"] == ("venv_pip" if version < (3, 8) else "venv_uv")
    assert derived["state_selected_python_file_abs_path_inited"] is not None
