#!/usr/bin/python3
"""Runs the libFuzzer target fuzz_trace (built by tests/fuzz/CMakeLists.txt with clang).

    fuzz.py --fuzzer BIN --seeds MAKE_SEEDS --corpus DIR --regressions DIR MODE [options]

MODE:
  regressions   runs every input of the regressions directory once (and the seed corpus,
                which must run clean too); fails on any crash, leak, UB or timeout
  bounded       a bounded run from the seed corpus: REFSCOPE_FUZZ_RUNS executions
                (default 20000), or --runs
  run           a long run by hand: --time SECONDS (default 600), --jobs N; the corpus it
                grows is kept in --work (default ./fuzz-work); every crash found is copied
                into the regressions directory, to be committed with its fix

Findings (crash-*, leak-*, timeout-*, oom-*) land in the working directory's artifacts/
(slow-unit-* too: inputs that took over 10 s once, shown but not findings).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

COMMON = ["-timeout=20", "-rss_limit_mb=4096", "-max_len=65536"]


def seeds(args, into):
    os.makedirs(into, exist_ok=True)
    subprocess.run([args.seeds, into], check=True)
    for f in glob.glob(os.path.join(args.corpus, "*")):
        shutil.copy(f, into)
    return sorted(glob.glob(os.path.join(into, "*")))


def execs_of(output):
    m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", output)
    return sum(int(x) for x in m)


def regression_inputs(args):
    return sorted(f for f in glob.glob(os.path.join(args.regressions, "*"))
                  if not f.endswith(".md"))


def regressions(args):
    with tempfile.TemporaryDirectory(prefix="refscope-fuzz-") as tmp:
        inputs = regression_inputs(args)
        nreg = len(inputs)
        inputs += seeds(args, os.path.join(tmp, "seeds"))
        start = time.monotonic()
        p = subprocess.run([args.fuzzer, "-timeout=30", "-rss_limit_mb=4096", *inputs],
                           capture_output=True, text=True, errors="replace")
        took = time.monotonic() - start
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-8000:])
            print(f"fuzz regressions: FAILED (exit {p.returncode})")
            return 1
        print(f"fuzz regressions: {nreg} regression inputs and {len(inputs) - nreg} seeds "
              f"ran clean in {took:.1f} s")
        return 0


def bounded(args):
    runs = args.runs or int(os.environ.get("REFSCOPE_FUZZ_RUNS", "20000"))
    artifacts = os.path.abspath("artifacts") + "/"
    os.makedirs(artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="refscope-fuzz-") as tmp:
        corpus = os.path.join(tmp, "corpus")
        seeds(args, corpus)
        start = time.monotonic()
        p = subprocess.run([args.fuzzer, *COMMON, f"-runs={runs}", "-print_final_stats=1",
                            f"-artifact_prefix={artifacts}", "-seed=" + str(args.seed), corpus],
                           capture_output=True, text=True, errors="replace")
        took = time.monotonic() - start
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-8000:])
            print(f"fuzz bounded: FAILED (exit {p.returncode}); inputs in {artifacts}")
            return 1
        print(f"fuzz bounded: {execs_of(p.stderr)} executions in {took:.1f} s, no finding "
              f"(seed {args.seed})")
        return 0


def long_run(args):
    work = os.path.abspath(args.work)
    corpus = os.path.join(work, "corpus")
    artifacts = os.path.join(work, "artifacts") + "/"
    os.makedirs(artifacts, exist_ok=True)
    if not os.path.isdir(corpus) or not os.listdir(corpus):
        seeds(args, corpus)
    cmd = [args.fuzzer, *COMMON, f"-max_total_time={args.time}", "-print_final_stats=1",
           f"-artifact_prefix={artifacts}", corpus]
    if args.jobs > 1:
        cmd[1:1] = [f"-jobs={args.jobs}", f"-workers={args.jobs}"]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", cwd=work)
    took = time.monotonic() - start
    logs = p.stderr
    for log in glob.glob(os.path.join(work, "fuzz-*.log")):
        with open(log, errors="replace") as f:
            logs += f.read()
    # slow-unit-*: an input over 10 s once (a loaded machine, the leak check at exit): shown,
    # not a finding unless it also timed out
    found = sorted(f for f in glob.glob(artifacts + "*")
                   if not os.path.basename(f).startswith("slow-unit-"))
    slow = len(glob.glob(artifacts + "slow-unit-*"))
    print(f"fuzz run: {execs_of(logs)} executions in {took:.0f} s, exit {p.returncode}, "
          f"{len(found)} finding(s) in {artifacts}" + (f" ({slow} slow inputs)" if slow else ""))
    for f in found:
        dst = os.path.join(args.regressions, os.path.basename(f))
        if not os.path.exists(dst):
            shutil.copy(f, dst)
            print(f"  copied {os.path.basename(f)} to the regressions")
    return 0 if not found else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzzer", required=True)
    ap.add_argument("--seeds", required=True, help="the make_seeds program")
    ap.add_argument("--corpus", required=True, help="committed real traces")
    ap.add_argument("--regressions", required=True)
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time", type=int, default=600)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--work", default="fuzz-work")
    ap.add_argument("mode", choices=["regressions", "bounded", "run"])
    args = ap.parse_args()
    if not os.path.exists(args.fuzzer):
        print(f"fuzz: {args.fuzzer} not built", file=sys.stderr)
        return 1
    return {"regressions": regressions, "bounded": bounded, "run": long_run}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
