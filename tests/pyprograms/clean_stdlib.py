"""A clean program: a round of common standard-library work (sqlite3, ElementTree, email,
decimal, csv, zipfile, argparse, dataclasses, enum, unittest.mock...), nothing kept between
rounds. decimal's thread context holds its flags and traps from C fields its collector
cannot see (before 3.13): not a leak."""
import argparse
import collections
import csv
import dataclasses
import datetime
import decimal
import difflib
import email.message
import email.parser
import enum
import fractions
import hashlib
import io
import sqlite3
import statistics
import string
import textwrap
import unittest.mock as mock
import uuid
import xml.etree.ElementTree as ET
import zipfile
from clean_common import rounds


@dataclasses.dataclass
class Row:
    a: int
    b: str


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def one(i):
    db = sqlite3.connect(":memory:")
    db.execute("create table t(a, b)")
    db.executemany("insert into t values (?, ?)", [(k, str(k)) for k in range(50)])
    rows = [Row(a, b) for a, b in db.execute("select a, b from t where a > ?", (i % 10,))]
    db.close()
    root = ET.fromstring("<r>" + "".join(f"<c n='{k}'>{k}</c>" for k in range(30)) + "</r>")
    total = sum(int(c.get("n")) for c in root)
    m = email.message.EmailMessage()
    m["Subject"] = f"s{i}"
    m.set_content("body " * 20)
    email.parser.Parser().parsestr(m.as_string())
    decimal.getcontext().prec = 30
    d = sum(decimal.Decimal(k) / 7 for k in range(20))
    buf = io.StringIO()
    csv.writer(buf).writerows([[k, k * 2] for k in range(30)])
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.txt", "x" * 1000)
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int)
    p.parse_args(["--n", str(i)])
    datetime.datetime.now().isoformat()
    textwrap.fill("word " * 50, 30)
    list(difflib.unified_diff(["a", "b"], ["a", "c"]))
    fractions.Fraction(i, 7) + 1
    statistics.mean(range(1, 20))
    mk = mock.Mock()
    mk.f(1)
    mk.f.assert_called_once_with(1)
    collections.Counter("abracadabra" * 3).most_common(3)
    hashlib.sha256(str(i).encode()).hexdigest()
    uuid.uuid4()
    string.Template("$a").substitute(a=i)
    Color(1 + i % 2)
    return total + len(rows) + int(d)


def work(r):
    return sum(one(i) for i in range(40))


rounds(work)
