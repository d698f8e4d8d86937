"""Venvs moved aside (a Python change, a reset, changed dependencies) are whole venvs: after a good build
only the newest two stay in the tmp dir, whatever happened before, so tmp/ does not fill up."""
import os

from protoprimer_harness.world import World


def test_three_python_changes_leave_the_two_newest_venvs_aside():
    world = (World().apply_layout("min").add_interpreter("python3", "3.11.7").add_interpreter("python3.12", "3.12.4")
             .add_interpreter("python3.13", "3.13.1").add_main("client.main:main", "report"))
    with world.activate() as session:
        aside = []
        for version in ("3.11", "3.12", "3.13", "3.11"):
            with open(session.path(".python-version"), "w") as f:
                f.write(version + "\n")
            session.run("./prime").assert_exit(0)
            tmp = session.path("tmp")
            aside.append(sorted(name for name in os.listdir(tmp) if name.startswith("venv.")) if os.path.isdir(tmp) else [])
    moved = [[name for name in names if not name.endswith(".lock")] for names in aside]
    assert [len(names) for names in moved] == [0, 1, 2, 2], moved
    assert moved[3][0] == moved[2][1], "the newest two are kept: %s after %s" % (moved[3], moved[2])


def test_failing_rebuilds_do_not_pile_venvs_up_either():
    world = (World().apply_layout("min").add_interpreter("python3", "3.11.7").add_interpreter("python3.12", "3.12.4")
             .add_main("client.main:main", "report").add_fault("pip install", exit=1))
    with world.activate() as session:
        for version in ("3.11", "3.12", "3.11", "3.12", "3.11"):
            with open(session.path(".python-version"), "w") as f:
                f.write(version + "\n")
            session.run("./prime").assert_exit(6)
        moved = [name for name in os.listdir(session.path("tmp")) if name.startswith("venv.") and not name.endswith(".lock")]
    assert len(moved) == 2, moved
