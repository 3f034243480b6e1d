"""Strings from the traced program are escaped in every output. A Python program whose
file name, class name, str objects, dict keys, thread name and snapshot label hold quotes,
newlines, carriage returns, tabs, escape sequences (colours, window titles), other control
characters, a right-to-left override, `<script>` markup and an HTML entity, and whose
command line also holds a byte that is not UTF-8, is traced; then:
  - terminal output (report, types, backrefs, cycles, graph's DOT on stdout, verify) holds
    no control character but the newlines of its own layout, no bidirectional override and
    no invalid UTF-8, and shows the strings escaped (\\n, \\x1B, \\xFF...);
  - JSON output (report, types, backrefs, cycles, verify) parses, and gives back the exact
    strings (the class name, the snapshot label, the thread name, the file name);
  - DOT files (graph, backrefs -o) are accepted by Graphviz's dot, the SVG it makes is
    well-formed XML with no element made by the program's strings, and the labels are there;
  - the HTML page (refscope html, when this build has it) has no markup of the program's:
    the same elements as the page of a harmless program, the strings escaped."""
import html.parser
import xml.etree.ElementTree as ET
from rel import *

EVIL = ("q\"uote'\n<script>alert(1)</script>&amp;\x1b[31mRED\x1b]0;title\x07\r\t\x01\x7f"
        "\u202eRTL\u0085 \u00e9 \\")
PROGRAM = f"""
import sys, threading
EVIL = {EVIL!r}
Evil = type(EVIL, (), {{}})
objs = [Evil() for _ in range(3)]
keep = {{}}
for i, o in enumerate(objs):
    keep[EVIL + str(i)] = o
    o.attr = EVIL * 2
    o.peer = objs[(i + 1) % 3]
started = threading.Event()
release = threading.Event()
def work():
    started.set()
    release.wait()
t = threading.Thread(target=work, name=EVIL)
t.start()
started.wait()
import refscope
refscope.snapshot(EVIL)
release.set()
t.join()
"""
# the file name: valid UTF-8 (so Python can name its frames), hostile all the same
FILE_NAME = "evil\"\n<script>\x1b[2J\t.py"
BAD_ARG = b"arg-\xff\xfe-not-utf8"
TYPE = "__main__." + EVIL
BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")


def check_terminal(out, what):
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TestFailure(f"{what}: output is not valid UTF-8 ({e})")
    for i, ch in enumerate(text):
        cp = ord(ch)
        if (cp < 0x20 and ch != "\n") or cp == 0x7f or 0x80 <= cp <= 0x9f or ch in BIDI:
            raise TestFailure(f"{what}: raw control character U+{cp:04X} at {i}: "
                              f"{text[max(0, i - 60):i + 20]!r}")
    return text


def check_json(out, what):
    try:
        return json.loads(out)  # bytes: strict UTF-8
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TestFailure(f"{what}: not JSON ({e}): {out[:300]!r}")


def strings_in(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from strings_in(v)
    elif isinstance(x, list):
        for v in x:
            yield from strings_in(v)


def check_dot(path, what):
    svg = run(["dot", "-Tsvg", path], check_status=0).stdout
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as e:
        raise TestFailure(f"{what}: dot made SVG that is not XML ({e})")
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    check(not tags & {"script", "foreignObject", "iframe"}, f"{what}: elements {tags}")
    texts = "".join(el.text or "" for el in root.iter() if el.tag.endswith("text"))
    return texts


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1


def page_tags(path):
    with open(path, encoding="utf-8") as f:
        page = f.read()
    p = Tags()
    p.feed(page)
    return p.tags, page


def test(work):
    script = os.path.join(work.path, FILE_NAME)
    with open(script, "w") as f:
        f.write(PROGRAM)
    trace, _ = traced(work, [b"/usr/bin/python3", script.encode(), BAD_ARG], name="evil.rsc")
    a = lambda *args: analyzer([*args]).stdout  # noqa: E731

    # terminal output
    outputs = {
        "report": a("report", trace, "--top", "0"),
        "report --native": a("report", trace, "--native", "--top", "5"),
        "types": a("types", trace, "--top", "0", "--snapshot", "1"),
        "backrefs": a("backrefs", trace, "--snapshot", "1", "--type", TYPE),
        "cycles": a("cycles", trace, "--snapshot", "1", "--all", "--top", "0"),
        "graph (DOT on stdout)": a("graph", trace, "--snapshot", "1", "--refs", "--type", TYPE),
        "verify": a("verify", trace),
    }
    texts = {k: check_terminal(v, k) for k, v in outputs.items()}
    check("evil\"\\n<script>\\x1B[2J\\t.py" in texts["report"], "report: the file name, escaped")
    check("arg-\\xFF\\xFE-not-utf8" in texts["report"], "report: the argument, escaped")
    shown = 'q"uote\'\\n<script>alert(1)</script>&amp;\\x1B[31mRED\\x1B]0;title\\x07\\r\\t\\x01\\x7F\\u202ERTL\\u0085'
    check(shown in texts["types"], "types: the class name, escaped")
    check(shown in texts["backrefs"], "backrefs: the class name, escaped")

    # JSON
    r = check_json(a("report", trace, "--json", "--top", "0"), "report --json")
    strs = set(strings_in(r))
    check(any(FILE_NAME in s for s in strs), "report --json: the file name, exact")
    check(any("arg-\ufffd\ufffd-not-utf8" in s for s in strs),
          "report --json: the invalid UTF-8 argument, as U+FFFD")
    check(any(t.get("python_name") == EVIL for t in r["threads"]),
          f"report --json: the thread's name, exact ({[t.get('python_name') for t in r['threads']]})")
    t = check_json(a("types", trace, "--json", "--snapshot", "1", "--top", "0"), "types --json")
    check(TYPE in {x["name"] for x in t["types"]}, "types --json: the class name, exact")
    check(EVIL in set(strings_in(t)), "types --json: the snapshot label, exact")
    b = check_json(a("backrefs", trace, "--json", "--snapshot", "1", "--type", TYPE), "backrefs --json")
    check(any(EVIL in s for s in strings_in(b) if s != EVIL), "backrefs --json: the dict key, exact")
    check_json(a("cycles", trace, "--json", "--snapshot", "1", "--all"), "cycles --json")
    check_json(a("verify", trace, "--json"), "verify --json")

    # DOT
    g = work.file("g.dot")
    analyzer(["graph", trace, "--snapshot", "1", "--refs", "--type", TYPE, "-o", g])
    svg_text = check_dot(g, "graph -o")
    check("<script>alert(1)</script>" in svg_text and "\\x1B[31mRED" in svg_text,
          f"graph: the class name is in the drawing, as text: {svg_text[:300]!r}")
    c = work.file("chain.dot")
    analyzer(["backrefs", trace, "--snapshot", "1", "--type", TYPE, "-o", c])
    check_dot(c, "backrefs -o")

    # HTML
    if run([ANALYZER, "html", "--help"]).returncode == 0:
        page = work.file("evil.html")
        analyzer(["html", trace, "-o", page])
        tags, text = page_tags(page)
        check("<script>alert(1)" not in text, "html: the program's markup is not in the page")
        plain_py = work.file("plain.py")
        with open(plain_py, "w") as f:
            f.write(PROGRAM.replace("EVIL = ", "EVIL = 'Plain' or "))
        plain_trace, _ = traced(work, ["/usr/bin/python3", plain_py], name="plain.rsc")
        plain_page = work.file("plain.html")
        analyzer(["html", plain_trace, "-o", plain_page])
        plain_tags, _ = page_tags(plain_page)
        check_eq(tags.get("script", 0), plain_tags.get("script", 0), "html: <script> elements")
        for tag in set(tags) | set(plain_tags):
            if tag in ("script", "iframe", "object", "embed", "img", "a", "form", "input"):
                check_eq(tags.get(tag, 0) <= plain_tags.get(tag, 0) or tag in ("a",), True,
                         f"html: <{tag}> elements ({tags.get(tag)} vs {plain_tags.get(tag)})")
        print("html: escaped")
    print(f"escaping: {len(outputs)} terminal outputs, 5 JSON outputs, 2 DOT files checked")


main(test)
