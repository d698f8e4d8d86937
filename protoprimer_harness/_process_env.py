"""What an environment port answers from data about one process, shared by the simulated process's port
(`_fake_environment.FakeEnvironment`) and a recording's (`_tape_record.ProcessEnvironment`).

`ProcessEnv` holds the process's variables (a private copy: `unset` touches nothing else), its argv and
cwd, its interpreter's facts and the file of the kernel it runs, and sends output to a pair of streams.
The subclasses add where the rest comes from: the clock, the pid, sleeping, the memory of `remember`.
"""

from typing import Any, Dict, List, Optional, Tuple


class ProcessEnv:
    """The data-backed members of the kernel's environment port (see RealEnvironment)."""

    def __init__(self, variables: Dict[str, str], argv: List[str], cwd: str, executable: str, prefix: str,
                 base_prefix: str, version: Tuple[int, int, int], kernel_path: Optional[str], isolated: bool,
                 streams: Any):
        self._variables = dict(variables)
        self._argv = list(argv)
        self._cwd = cwd
        self._facts = (executable, prefix, base_prefix, tuple(version), kernel_path, bool(isolated))
        self._streams = streams

    def get(self, name, default=None):
        return self._variables.get(name, default)

    def variables(self):
        """A copy of the environment variables."""
        return dict(self._variables)

    @property
    def argv(self):
        return list(self._argv)

    def set_argv(self, argv):
        """What the real process port does to sys.argv before calling client code with arguments."""
        self._argv = list(argv)

    def cwd(self):
        return self._cwd

    @property
    def executable(self):
        return self._facts[0]

    @property
    def prefix(self):
        return self._facts[1]

    @property
    def base_prefix(self):
        return self._facts[2]

    @property
    def version(self):
        return self._facts[3]

    @property
    def kernel_path(self):
        """The file of the kernel that is running: a repo's copy, or the installed module."""
        return self._facts[4]

    @property
    def isolated(self):
        """Whether the interpreter was launched with -I (sys.flags.isolated)."""
        return self._facts[5]

    def write_stdout(self, text):
        self._streams.stdout.append(text)

    def write_stderr(self, text):
        self._streams.stderr.append(text)

    def unset(self, name):
        """Remove a variable from this process's environment (client code called later sees it gone)."""
        self._variables.pop(name, None)
