"""stderr logging: levels from PROTOPRIMER_STDERR_LOG_LEVEL (name or number) combined with -v/-q, and
colour only on a terminal without NO_COLOR. Run through the harness: the kernel's own output port."""
import pytest

from protoprimer_harness.world import World

ESC = "\033["


@pytest.fixture
def session():
    world = World().apply_layout("instant").add_interpreter("python3", "3.11.7")
    with world.activate() as active:
        yield active


def test_warnings_are_coloured_on_a_terminal(session):
    outcome = session.run("./proto_kernel.py eval", tty=True)
    assert ESC + "33mWARNING" + ESC + "0m no config file" in outcome.stderr


def test_no_colour_when_no_color_is_set_even_on_a_terminal(session):
    outcome = session.run("./proto_kernel.py eval", tty=True, env={"NO_COLOR": "1"})
    assert "WARNING no config file" in outcome.stderr
    assert ESC not in outcome.stderr


def test_no_colour_when_stderr_is_not_a_terminal(session):
    outcome = session.run("./proto_kernel.py eval")
    assert "WARNING no config file" in outcome.stderr
    assert ESC not in outcome.stderr


@pytest.mark.parametrize("value", ["10", "debug", "DEBUG"])
def test_level_by_number_or_name(session, value):
    outcome = session.run("./proto_kernel.py eval", env={"PROTOPRIMER_STDERR_LOG_LEVEL": value})
    outcome.assert_exit(0)
    assert "SUCCESS [0]" in outcome.stderr


def test_each_v_and_q_steps_by_ten_from_the_variable(session):
    # ERROR (40) with -v is WARNING (30): the warning shows; with -v -q it is ERROR again: hidden
    shown = session.run("./proto_kernel.py -v eval", env={"PROTOPRIMER_STDERR_LOG_LEVEL": "ERROR"})
    hidden = session.run("./proto_kernel.py -v eval -q", env={"PROTOPRIMER_STDERR_LOG_LEVEL": "ERROR"})
    assert "WARNING no config file" in shown.stderr
    assert "SUCCESS" not in shown.stderr
    assert hidden.stderr == ""


def test_qqq_silences_even_the_failure_line_but_keeps_the_exit_code(session):
    session.write_text(".python-version", "system\n")
    loud = session.run("./proto_kernel.py eval")
    quiet = session.run("./proto_kernel.py -qqq eval")
    assert (loud.exit_code, quiet.exit_code) == (3, 3)
    assert "FAILURE [3]" in loud.stderr
    assert quiet.stderr == ""
