"""Benchmark workload: ast.parse + compile of every .py file of the interpreter's own
stdlib (argv[1] = take every Nth file, 1 = all)."""
import ast
import os
import sys
import sysconfig

step = int(sys.argv[1]) if len(sys.argv) > 1 else 1
root = sysconfig.get_paths()["stdlib"]
files = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if d not in ("site-packages", "dist-packages", "test", "tests", "idlelib")]
    files += [os.path.join(dirpath, f) for f in filenames if f.endswith(".py")]
files.sort()
count = 0
for path in files[::step]:
    try:
        with open(path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, path)
        compile(tree, path, "exec")
        count += 1
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError):
        pass
print(count)
