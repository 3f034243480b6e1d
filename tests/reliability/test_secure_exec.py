"""Secure execution (setuid, setgid, file capabilities): the shim stays inert and ignores
every REFSCOPE_* variable, because the environment is the caller's, not to be trusted to
choose where a privileged process writes.

How the test gets the shim into a setuid program: ld.so, for a secure process, loads an
LD_PRELOAD library only by a name without a slash, only from its trusted directories and
only when the library file is itself set-user-ID. So (as root; skipped otherwise, exit 77)
the test installs a set-user-ID copy of librefscope.so in the multiarch library directory
under a unique name for its own duration (removed at the end, whatever happens), and makes a
setuid-root copy of secure_probe. Run as nobody (setpriv) with REFSCOPE_OUTPUT naming a file
in a directory only root may write to:
  - control: the same probe without its setuid bit (not secure): the library is loaded, the
    shim is active and writes its trace where nobody may write (proves the setup works);
  - secure: AT_SECURE is 1, the library is loaded, and no trace is written anywhere (not at
    REFSCOPE_OUTPUT, not in the current directory); the program behaves as without it."""
import shutil
import stat
import sysconfig
from rel import *

SKIP = 77


def run_as_nobody(cmd, env, cwd):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                           "env", "-i", *[f"{k}={v}" for k, v in env.items()], *cmd],
                          capture_output=True, timeout=60, cwd=cwd)


def test(work):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("SKIPPED: needs root and setpriv")
        sys.exit(SKIP)
    libdir = "/usr/lib/" + (sysconfig.get_config_var("MULTIARCH") or "")
    check(os.path.isdir(libdir), f"trusted library directory {libdir}")
    name = f"librefscope-sectest-{os.getpid()}.so"
    installed = os.path.join(libdir, name)
    os.chmod(work.path, 0o755)
    root_only = work.file("root-only")
    os.mkdir(root_only, 0o700)
    open_dir = work.file("open")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o1777)
    probe_plain = work.file("probe-plain")
    probe_setuid = work.file("probe-setuid")
    shutil.copy(program("secure_probe"), probe_plain)
    shutil.copy(program("secure_probe"), probe_setuid)
    os.chmod(probe_plain, 0o755)
    os.chmod(probe_setuid, 0o4755)
    try:
        shutil.copy(LIB, installed)
        os.chmod(installed, 0o4755)
        base_env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": name}

        # control: not secure, the shim is active
        env = dict(base_env, REFSCOPE_OUTPUT=os.path.join(open_dir, "control.rsc"))
        p = run_as_nobody([probe_plain], env, open_dir)
        out = p.stdout.decode()
        check_eq(p.returncode, 0, f"control run: {out} {p.stderr.decode()}")
        check("AT_SECURE=0" in out, f"control run is not secure: {out}")
        check(f"mapped: {name}" in out, f"control run loads the library: {out}")
        check(os.path.exists(os.path.join(open_dir, "control.rsc")),
              "control run: the active shim wrote its trace")

        # secure: setuid root, run by nobody
        target = os.path.join(root_only, "pwned.rsc")
        env = dict(base_env, REFSCOPE_OUTPUT=target, REFSCOPE_VERBOSE="1")
        before = set(os.listdir(open_dir))
        p = run_as_nobody([probe_setuid], env, open_dir)
        out = p.stdout.decode()
        if "AT_SECURE=1" not in out:
            print(f"SKIPPED: the setuid copy does not run securely here (nosuid mount?): {out}")
            sys.exit(SKIP)
        check_eq(p.returncode, 0, f"secure run status: {out} {p.stderr.decode()}")
        check("euid=0" in out, f"secure run is setuid root: {out}")
        check(f"mapped: {name}" in out, f"secure run loads the library: {out}")
        check(not os.path.exists(target), "secure run: no trace at REFSCOPE_OUTPUT")
        check_eq(os.listdir(root_only), [], "secure run: nothing in the root-only directory")
        check_eq(set(os.listdir(open_dir)), before, "secure run: no trace in the current directory")
        check_eq(p.stderr, b"", "secure run: nothing on stderr (REFSCOPE_VERBOSE ignored)")
        plain = run_as_nobody([probe_setuid], {"PATH": "/usr/bin:/bin"}, open_dir)
        check_eq(out.replace(f"mapped: {name}", "mapped: none"), plain.stdout.decode(),
                 "secure run: the same output as without the library")
        print(f"secure run: AT_SECURE=1, {name} loaded, inert (no file written)")
    finally:
        if os.path.exists(installed):
            os.unlink(installed)


main(test)
