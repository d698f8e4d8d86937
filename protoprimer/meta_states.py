"""Built-in meta states a repo typically needs, to add to a `protoprimer.meta.States` as they are or with
options (docs/meta-runtime.md, "Built-in states"):

    from protoprimer.meta import States
    from protoprimer import meta_states

    states = States()
    meta_states.pre_commit(states)            # state `pre_commit_installed`, target `pre_commit`

    def main(host=None):
        return states.run("pre_commit", host=host)

Each works through the run's ports (`ctx.host`), so it runs the same in the harness's simulated worlds.
"""

import os

from protoprimer.meta import MetaError, EXIT_CLIENT_STATE_FAILED

# Where pre-commit's config is looked for, in order, relative to the ref root: pre-commit's own default,
# then the reference's convention (metaprimer reads `<global conf dir>/pre_commit.yaml`).
PRE_COMMIT_CONFIGS = (".pre-commit-config.yaml", "{gconf}/pre_commit.yaml")


def pre_commit(states, name="pre_commit_installed", target="pre_commit", config=None, hook_types=("pre-commit",)):
    """Add the state `name` (and the target `target`): after the bootstrap, `pre-commit install` from the
    venv with the repo's config, for each of `hook_types`. `config` (relative to the ref root) overrides
    the search (PRE_COMMIT_CONFIGS). Outside a git work tree, or with no config, it does nothing and says
    why (at INFO; -v shows it). pre-commit missing from the venv, or failing, fails the state (exit 11)."""

    @states.state(name, parents=["state_boot_completed", "state_ref_root_dir_abs_path_inited",
                                 "state_global_conf_dir_abs_path_inited", "state_local_venv_dir_abs_path_inited"])
    def install_hooks(ctx, p):
        fs, log = ctx.host.fs, ctx.log
        root = p["state_ref_root_dir_abs_path_inited"]
        if not fs.exists(os.path.join(root, ".git")):
            log.info("%s: %s is not a git work tree: no hooks to install" % (name, root))
            return 0
        gconf = os.path.relpath(p["state_global_conf_dir_abs_path_inited"], root)
        candidates = [config] if config else [pattern.format(gconf=gconf) for pattern in PRE_COMMIT_CONFIGS]
        found = [os.path.join(root, path) for path in candidates if fs.is_file(os.path.join(root, path))]
        if not found:
            log.info("%s: no pre-commit config (%s): no hooks to install" % (name, " or ".join(candidates)))
            return 0
        executable = os.path.join(p["state_local_venv_dir_abs_path_inited"], "bin", "pre-commit")
        if not fs.exists(executable):
            raise MetaError("%s: %s does not exist: add pre-commit to the dependencies of a project the venv "
                            "installs" % (name, executable), EXIT_CLIENT_STATE_FAILED)
        for hook_type in hook_types:
            argv = [executable, "install", "--hook-type", hook_type, "--config", found[0]]
            result = ctx.host.proc.run(argv, cwd=root)
            if result.returncode != 0:
                output = (result.stderr or result.stdout or "").strip().splitlines()[-5:]
                raise MetaError("%s: %s failed (exit %d)%s" % (name, " ".join(argv), result.returncode,
                                                                 "".join("\n  " + line for line in output)),
                                EXIT_CLIENT_STATE_FAILED)
            log.info("%s: installed the %s hook with %s" % (name, hook_type, found[0]))
        return 0

    if target:
        states.target(target, name)
    return states
