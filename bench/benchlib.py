"""What the benchmark scripts share: running and timing commands, an isolated git setup, a
repository of many files, and podman with a local busybox image.

Each script imports it from its own folder (bench/); nothing here is timed by itself.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

# podman in this sandbox: no ulimits it may not set, cgroupfs, runc (shared/ENVIRONMENT.md).
CONTAINERS_CONF = '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n'
# The image the container benchmarks run: busybox-static, imported (no registry can be pulled from).
IMAGE = "localhost/gm-bench-busybox:1"


def run(argv, cwd=None, env=None, check=True, capture=False, stdin=None):
    """Runs argv (never through a shell); exits the benchmark with its stderr when it fails and check is set."""
    result = subprocess.run(argv, cwd=cwd, env=env, input=stdin, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{result.stderr}")
    return result


def output(argv, cwd=None, env=None):
    """The stripped standard output of a command that must succeed."""
    return run(argv, cwd, env, capture=True).stdout.strip()


def timed(argv, cwd=None, env=None, stdin=None):
    """Seconds one successful run of argv took, start-up included."""
    start = time.perf_counter()
    run(argv, cwd, env, stdin=stdin)
    return time.perf_counter() - start


def median_ms(argv, cwd, env, runs, warm_up=True):
    """The median of runs timings in milliseconds, after one untimed run that warms caches when warm_up."""
    if warm_up:
        run(argv, cwd, env)
    return statistics.median(timed(argv, cwd, env) for _ in range(runs)) * 1000


def with_prefix(env, prefix):
    """env with prefix/bin first on PATH (when given); exits unless git-model is then on PATH."""
    env = dict(env)
    if prefix:
        env["PATH"] = os.path.join(os.path.abspath(prefix), "bin") + os.pathsep + env["PATH"]
    if not shutil.which("git-model", path=env["PATH"]):
        sys.exit(f"no git-model in {prefix}/bin" if prefix else "git-model is not on PATH (use --prefix)")
    return env


def isolated_env(home, prefix=None):
    """The caller's environment with git cut off from the machine's and the user's config (HOME is
    home), a fixed identity, no GIT_DIR, and git-model from prefix/bin or PATH."""
    env = dict(os.environ)
    env.update({"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@e",
                "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@e"})
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL"):
        env.pop(name, None)
    return with_prefix(env, prefix)


def git_model_path(env):
    """Which git-model the benchmark measures, for its header line."""
    return shutil.which("git-model", path=env["PATH"])


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_source_repo(path, files, env, extra=None):
    """A repository on main whose one commit holds files Python modules of 21 lines, 100 to a
    folder (src/pkgNNN/moduleNNNNN.py), plus extra {relative path: text}."""
    os.makedirs(path)
    run(["git", "init", "-q", "-b", "main"], path, env)
    for i in range(files):
        write_file(os.path.join(path, "src", f"pkg{i // 100:03d}", f"module{i:05d}.py"),
                   f"# module {i}\n" + "x = 1\n" * 20)
    for name, text in (extra or {}).items():
        write_file(os.path.join(path, name), text)
    run(["git", "add", "-A"], path, env)
    run(["git", "commit", "-q", "-m", "initial"], path, env)


def use_podman(scratch, env):
    """Points env's podman at a containers.conf in scratch that works in this sandbox."""
    conf = os.path.join(scratch, "containers.conf")
    write_file(conf, CONTAINERS_CONF)
    env["CONTAINERS_CONF"] = conf


def import_image(scratch, env, applets=("sh", "sleep")):
    """IMAGE in podman's store, made from busybox-static with these applets unless it is there already."""
    if run(["podman", "image", "exists", IMAGE], env=env, check=False).returncode == 0:
        return
    root = os.path.join(scratch, "image-root")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    for applet in applets:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    tar = os.path.join(scratch, "image-root.tar")
    run(["tar", "-C", root, "-cf", tar, "."])
    run(["podman", "import", "-q", tar, IMAGE], env=env)


def start_env_model(repo, modelenv, model, env):
    """A repository at repo whose .modelenv.yaml is modelenv, set up for container benchmarks (no
    GPUs, no hooks, a 1 s stop timeout), and `git model start model` in it; returns the worktree."""
    run(["git", "init", "-q", "-b", "main", repo], env=env)
    write_file(os.path.join(repo, ".modelenv.yaml"), modelenv)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "env"], repo, env)
    for key, value in (("model.gpus", "0"), ("model.installHooks", "never"), ("model.env.stopTimeout", "1s")):
        run(["git", "config", key, value], repo, env)
    run(["git", "model", "start", model], repo, env)
    return os.path.join(os.path.dirname(repo), "worktrees", "feature", f"model-{model}")
