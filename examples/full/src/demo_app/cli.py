"""The start_app main of cmd/hello: an app that runs in the venv (its argv passes through unparsed)."""
from protoprimer.meta import States

states = States()


@states.state(parents=["state_selected_env_dir_rel_path_inited"])
def hello_said(ctx, p):
    args = ctx.host.env.argv[1:]
    ctx.host.env.write_stdout("hello from %s (%s)\n" % (p["state_selected_env_dir_rel_path_inited"],
                                                        " ".join(args) or "no arguments"))
    return 0


def main(host=None):
    """`host` is for the tests (a simulated world); the real run passes nothing."""
    return states.run("hello_said", host=host)
