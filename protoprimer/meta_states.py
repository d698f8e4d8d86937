"""Built-in meta states a repo typically needs, to add to a `protoprimer.meta.States` as they are or with
options (docs/meta-tools.md, "Built-in meta states"):

    from protoprimer.meta import States
    from protoprimer import meta_states

    states = States()
    meta_states.pre_commit(states)            # state `pre_commit_installed`, target `pre_commit`
    meta_states.command(states, "web_deps", ["npm", "ci"], inputs=["package-lock.json"])

    def main(host=None):
        return states.run("pre_commit", host=host)

Each works through the run's ports (`ctx.host`), so it runs the same in the harness's simulated worlds.
"""

import json
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


def command(states, name, argv, inputs=(), target=None, cwd="."):
    """Add the state `name` (and the target `target`, default `name`): after the bootstrap, run `argv` in the
    venv's environment (its bin first on PATH, VIRTUAL_ENV set, no PROTOPRIMER_* variable) from `cwd`
    (relative to the ref root), its output going to the terminal. With `inputs` (paths relative to the ref
    root), it runs only when their content (or `argv`) changed since its last successful run, as a build
    step that is up to date is skipped; without, every time. A failure fails the state (exit 11)."""

    @states.state(name, parents=["state_boot_completed", "state_ref_root_dir_abs_path_inited",
                                 "state_local_venv_dir_abs_path_inited", "state_local_tmp_dir_abs_path_inited"])
    def run_command(ctx, p):
        from protoprimer import primer_kernel as kernel

        fs, root = ctx.host.fs, p["state_ref_root_dir_abs_path_inited"]
        record = os.path.join(p["state_local_tmp_dir_abs_path_inited"], "meta.%s.json" % name)
        seen = dict((path, kernel._read_or_empty(fs, os.path.join(root, path))) for path in inputs)
        state = json.dumps({"argv": list(argv), "inputs": dict((k, kernel._digest(v)) for k, v in seen.items())}, sort_keys=True)
        if inputs and kernel._read_or_empty(fs, record) == state:
            ctx.log.info("%s: up to date (%s unchanged)" % (name, ", ".join(inputs)))
            return 0
        venv = p["state_local_venv_dir_abs_path_inited"]
        env = kernel.clean_env(ctx.host.env.variables())
        env["VIRTUAL_ENV"], env["PATH"] = venv, os.path.join(venv, "bin") + os.pathsep + env.get("PATH", "")
        found = ctx.host.proc.which(argv[0], env["PATH"]) if os.sep not in argv[0] else argv[0]
        if found is None:
            raise MetaError("%s: %s is not on the venv's PATH (%s)" % (name, argv[0], env["PATH"]), EXIT_CLIENT_STATE_FAILED)
        result = ctx.host.proc.run([found] + list(argv[1:]), env=env, cwd=os.path.join(root, cwd), stream=True)
        if result.returncode != 0:
            raise MetaError("%s: %s failed (exit %d)" % (name, " ".join(argv), result.returncode), EXIT_CLIENT_STATE_FAILED)
        if inputs:
            fs.write_text(record, state)
        return 0

    states.target(target or name, name)
    return states
