"""Ints made at run time (not constants, not the cached small ints), each on a line of its
own and held by a module global: a snapshot labels each int node with its value."""
import refscope

HOLD = {}
HOLD["one digit"] = int("1000")  # INT 1000
HOLD["negative"] = int("-987654")  # INT -987654
HOLD["two digits"] = int("12345678901")  # INT 12345678901
HOLD["two digits, negative"] = -int(str(2 ** 45 + 3))  # INT -35184372088835
HOLD["largest of two digits"] = int(str(2 ** 60 - 1))  # INT 1152921504606846975
HOLD["three digits"] = int(str(2 ** 70 + 5))  # INT 1180591620717411303429
HOLD["beyond 64 bits"] = -int(str(2 ** 64 + 1))  # INT -18446744073709551617
refscope.snapshot("ints")
