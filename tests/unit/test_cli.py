"""protoprimer's CLI: compatible with the reference (sub-commands, common options before or after the
sub-command, `boot` by default), one message naming the bad part on a usage error."""
import pytest

from protoprimer import primer_kernel as kernel
from protoprimer.primer_kernel import UsageError


class CapturingEnv:
    argv = ["./prime"]
    kernel_path = "/repo/proto_kernel.py"

    def __init__(self):
        self.stdout = ""
        self.stderr = ""

    def write_stdout(self, text):
        self.stdout += text

    def write_stderr(self, text):
        self.stderr += text


def parse(*argv):
    return kernel.parse_cli(list(argv), CapturingEnv())


def test_no_arguments_means_boot():
    args = parse()
    assert (args.sub_command, args.run_command, args.selected_env_dir) == ("boot", None, None)


def test_boot_options_without_the_word_boot():
    assert parse("-c", "make test").run_command == "make test"
    assert parse("-e", "dst/prod", "-c", "ls").selected_env_dir == "dst/prod"


@pytest.mark.parametrize(
    "argv",
    [["-vv", "eval"], ["eval", "-vv"], ["-v", "eval", "-v"], ["eval", "--verbose", "-v"]],
)
def test_verbosity_counts_add_up_before_and_after_the_sub_command(argv):
    args = parse(*argv)
    assert (args.sub_command, args.stderr_log_level_verbose, args.stderr_log_level_quiet) == ("eval", 2, 0)


def test_quiet_and_verbose_are_counted_separately():
    args = parse("-q", "boot", "-qv")
    assert (args.stderr_log_level_quiet, args.stderr_log_level_verbose) == (2, 1)


def test_env_after_the_sub_command_wins_over_env_before_it():
    assert parse("-e", "dst/a", "eval", "-e", "dst/b").selected_env_dir == "dst/b"
    assert parse("-e", "dst/a", "eval").selected_env_dir == "dst/a"
    assert parse("eval", "--env", "dst/b").selected_env_dir == "dst/b"


def test_reboot_is_an_alias_of_reset():
    assert parse("reboot").sub_command == "reset"
    assert parse("reset").sub_command == "reset"


def test_eval_json_flag():
    assert parse("eval").print_json is False
    assert parse("eval", "--json").print_json is True


def test_start_takes_module_func():
    assert parse("start", "pkg.app:main").main_func == "pkg.app:main"


def test_wrap_takes_entry_func_script_and_main():
    args = parse("wrap", "start_app", "-s", "cmd/app", "-m", "pkg.app:main", "--force")
    assert (args.wrap_entry_func, args.script_path, args.main_func, args.force) == ("start_app", "cmd/app", "pkg.app:main", True)


def test_shell_takes_a_command():
    assert parse("shell", "-c", "echo hi").run_command == "echo hi"
    assert parse("shell").run_command is None


def test_every_namespace_has_every_field():
    for argv in ([], ["eval"], ["reset"], ["shell"], ["start", "a:b"], ["wrap", "boot_env", "-s", "x"]):
        args = parse(*argv)
        for name in ("sub_command", "selected_env_dir", "stderr_log_level_verbose", "stderr_log_level_quiet",
                     "run_command", "final_state", "print_json", "main_func", "wrap_entry_func", "script_path", "force"):
            assert hasattr(args, name), (argv, name)


def test_a_run_without_arguments_gets_what_argparse_would_give_without_argparse():
    """A warm ./prime has no arguments: the kernel skips argparse then (its import and its parsers cost
    about 6 ms a process), so DefaultArgs must be exactly what parsing no arguments gives."""
    parsed = vars(parse())
    default = kernel.DefaultArgs()
    assert {name: getattr(default, name) for name in parsed} == parsed
    assert sorted(name for name in dir(default) if not name.startswith("_")) == sorted(parsed)


@pytest.mark.parametrize(
    "argv, names",
    [
        (["foo"], ["invalid choice: 'foo'", "boot", "reset", "eval"]),
        (["eval", "--jsn"], ["unrecognized arguments: --jsn"]),
        (["boot", "extra"], ["unrecognized arguments: extra"]),
        (["wrap", "boot_env"], ["-s/--script"]),
        (["wrap", "run_main", "-s", "x"], ["invalid choice: 'run_main'"]),
        (["start"], ["MODULE:FUNC"]),
        (["-e"], ["-e/--env", "expected one argument"]),
    ],
)
def test_a_usage_error_is_one_message_naming_the_bad_part(argv, names):
    with pytest.raises(UsageError) as caught:
        parse(*argv)
    message = caught.value.message
    assert caught.value.exit_code == 2
    assert "\n" not in message
    for name in names:
        assert name in message
    assert "see `prime -h`" in message


def test_help_prints_to_stdout_and_exits_0():
    env = CapturingEnv()
    with pytest.raises(kernel._ParserExit) as caught:
        kernel.parse_cli(["-h"], env)
    assert caught.value.status == 0
    assert "usage: prime" in env.stdout
    for word in ("boot", "reset", "eval", "shell", "start", "wrap", "--env"):
        assert word in env.stdout


def test_sub_command_help():
    env = CapturingEnv()
    with pytest.raises(kernel._ParserExit):
        kernel.parse_cli(["eval", "-h"], env)
    assert "--json" in env.stdout


def test_public_parse_args_turns_a_usage_error_into_exit_2(capsys):
    class Host:
        env = CapturingEnv()

    with pytest.raises(SystemExit) as caught:
        kernel.parse_args(["nonsense"], host=Host())
    assert caught.value.code == 2
    assert Host.env.stderr.startswith("ERROR prime: argument SUB_COMMAND: invalid choice: 'nonsense'")


def test_public_parse_args_reads_argv_of_the_host():
    class Env(CapturingEnv):
        argv = ["./prime", "eval", "-v"]

    class Host:
        env = Env()

    args = kernel.parse_args(host=Host())
    assert (args.sub_command, args.stderr_log_level_verbose) == ("eval", 1)


def test_shell_quote_matches_a_posix_shell():
    assert kernel.shell_quote("./prime") == "./prime"
    assert kernel.shell_quote("a b") == "'a b'"
    assert kernel.shell_quote("it's") == "'it'\"'\"'s'"
    assert kernel.shell_quote("") == "''"
