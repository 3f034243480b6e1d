"""`refscope html` in a real browser: the page of every example (Python ones under argv[1],
native_leak built by tests/programs) opens in headless Chromium without a console error or
a network request; a screenshot is taken; the DOM holds what each EXPECT block promises (the
suspect type, its allocation site, the chain drawn by Graphviz with its edge labels, the
cycles drawn, the leaking native sites, the flame graph's frames and threads); and a program
whose names are HTML injection attempts shows them all as text, running no script of
theirs."""
import json
import sys
from harness import *
from browser import Browser, BrowserError

PY = sys.argv[1]
MAX_PAGE = 3 << 20  # bytes: the examples' pages stay well below


def js(s):
    return json.dumps(s)


def html_of(work, trace, name, *extra):
    out = work.file(name + ".html")
    analyzer(["html", trace, "-o", out, *extra])
    size = os.path.getsize(out)
    check(0 < size < MAX_PAGE, f"{out}: {size} bytes")
    data = open(out, "rb").read()
    # self-contained: nothing loaded from elsewhere (Graphviz's xmlns are names, not loads)
    for bad in (b"<link", b"src=\"http", b"src='http", b"@import", b"url(http"):
        check(bad not in data, f"{out} refers to something outside it ({bad!r})")
    return out


class Page:
    """One report opened in the browser, with DOM helpers."""

    def __init__(self, browser, work, path, name):
        self.b = browser
        self.name = name
        browser.open("file://" + path)
        png = browser.screenshot(work.file(name + ".png"))
        check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000,
              f"{name}: screenshot is a PNG with something in it ({len(png)} bytes)")
        check_eq(browser.problems(), [], f"{name}: console errors, exceptions or dialogs")
        check_eq(self.eval("performance.getEntriesByType('resource').length"), 0,
                 f"{name}: resources the page loaded")
        check_eq(self.eval("document.querySelectorAll('script:not([type])').length"), 1,
                 f"{name}: scripts in the page (only its own)")

    def eval(self, expr):
        return self.b.evaluate(expr)

    def rows(self, table):
        """[[cell text...]...] of a table's rows (detail rows left out)."""
        return self.eval(f"""Array.from(document.querySelectorAll({js(table + ' tr')}))
            .filter(r => !r.classList.contains('detail') && r.querySelector('td'))
            .map(r => Array.from(r.cells).map(c => c.textContent.trim()))""")

    def row_detail(self, table, needle):
        """The detail row opened by the first row of `table` whose text contains needle:
        {text, svgs: [svg text...], svg_texts: [<text> contents], hidden}."""
        return self.eval(f"""(function() {{
            var rows = Array.from(document.querySelectorAll({js(table + ' tr.expandable')}));
            var row = rows.find(r => r.textContent.indexOf({js(needle)}) >= 0);
            if (!row) return null;
            var d = document.getElementById(row.getAttribute('data-detail'));
            if (!d) return {{missing: true}};
            var svgs = Array.from(d.querySelectorAll('svg'));
            return {{text: d.textContent, hidden: d.hidden, svgs: svgs.length,
                     rendered: svgs.map(s => s.querySelectorAll('g.node').length),
                     svg_texts: svgs.length ? Array.from(svgs[0].querySelectorAll('text'))
                        .map(t => t.textContent) : [],
                     chain: (d.querySelector('.chain-text') || {{}}).textContent || ''}};
        }})()""")

    def open_detail(self, table, needle):
        """Clicks the row (as a reviewer would) and returns whether its detail is shown."""
        return self.eval(f"""(function() {{
            var rows = Array.from(document.querySelectorAll({js(table + ' tr.expandable')}));
            var row = rows.find(r => r.textContent.indexOf({js(needle)}) >= 0);
            var d = document.getElementById(row.getAttribute('data-detail'));
            if (!d.hidden) row.click();
            var closed = d.hidden;
            row.click();
            return closed && !d.hidden && d.getBoundingClientRect().height > 50;
        }})()""")

    def flame_frames(self):
        return self.eval("Array.from(document.querySelectorAll('#flame .fr'))"
                         ".map(d => d.textContent)")

    def flame_threads(self):
        return self.eval("Array.from(document.querySelectorAll('#flame-thread option'))"
                         ".map(o => o.textContent)")


def check_chain_drawn(detail, what, labels, types):
    check(detail is not None, f"{what}: a row to open")
    check(detail.get("svgs", 0) >= 1, f"{what}: a chain drawn as SVG ({detail})")
    check(detail["rendered"][0] >= len(types), f"{what}: the drawing has its objects as nodes")
    texts = detail["svg_texts"]
    for label in labels:
        check(label in texts, f"{what}: edge label {label!r} drawn (texts: {texts[:40]})")
    for t in types:
        check(any(t in x for x in texts), f"{what}: object {t!r} drawn (texts: {texts[:40]})")


def cache_leak(work, browser):
    src = example("cache_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    trace, _ = traced(work, [PY, src], name="cache.rsc")
    page = Page(browser, work, html_of(work, trace, "cache_leak"), "cache_leak")
    check_eq(page.eval("document.title"), "refscope: cache_leak.py", "page title")
    rows = [r for r in page.rows("#suspects-table") if r[1] == "__main__.Connection"]
    check(rows, f"suspects table lists __main__.Connection: {page.rows('#suspects-table')}")
    r = rows[0]
    check_eq(r[3], "900", "Connections alive at exit")
    check(f"cache_leak.py:{alloc} handle" in r[6], f"Connection's site is the ALLOC line: {r[6]!r}")
    check("grows steadily" in r[2], f"reason: {r[2]!r}")
    check(r[7].startswith("0 → 300 → 600 → 900"), f"counts per snapshot: {r[7]!r}")
    d = page.row_detail("#suspects-table", "__main__.Connection")
    check(not d["hidden"], "the first suspect's chain is open")
    check("--[_cache]-->" in d["chain"], f"chain text names _cache: {d['chain']!r}")
    check_chain_drawn(d, "Connection chain", ["__dict__", "_cache"],
                      ["__main__", "dict", "list", "__main__.Connection"])
    # growth over the snapshots: a line per growing type, Connection +900
    growth = [g for g in page.rows("#growth-table") if g[1].startswith("__main__.Connection")]
    check(growth and growth[0][4] == "+900", f"growth table: {growth}")
    check_eq(page.eval("document.querySelectorAll('#growth-chart path').length") >= 1, True,
             "growth chart has a line")
    # memory over time: the lines, 5 snapshot marks and the program-end mark
    check(page.eval("document.getElementById('mem-total').getAttribute('d').split('L').length")
          > 100, "memory chart has its points")
    check_eq(page.eval("document.querySelectorAll('#memory-chart g.snapshot').length"), 5,
             "snapshot marks")
    check_eq(page.eval("document.querySelectorAll('#memory-chart g.program-end').length"), 1,
             "program-end mark")
    check(page.eval("document.getElementById('mem-python') !== null"), "Python-domain line")
    # flame graph: the allocation line is a frame; search highlights it
    check(f"handle (cache_leak.py:{alloc})" in page.flame_frames(), "flame graph frame handle()")
    hits = page.eval("""(function() {
        var s = document.getElementById('flame-search');
        s.value = 'Connection.__init__'; s.dispatchEvent(new Event('input'));
        var n = document.querySelectorAll('#flame .fr.hit').length;
        var info = document.getElementById('flame-info').textContent;
        s.value = ''; s.dispatchEvent(new Event('input'));
        return [n, info];
    })()""")
    check(hits[0] >= 1 and "matching" in hits[1], f"flame search: {hits}")
    zoom = page.eval("""(function() {
        var f = Array.from(document.querySelectorAll('#flame .fr'))
            .find(d => d.textContent.indexOf('handle (cache_leak.py') === 0);
        f.click();
        var ok = document.getElementById('flame-info').textContent.indexOf('zoomed') >= 0;
        document.getElementById('flame-reset').click();
        return ok;
    })()""")
    check(zoom, "clicking a frame zooms in")
    # the Python site of the Connections opens its chain too
    check(page.open_detail("#sites-table", f"handle (cache_leak.py:{alloc})"),
          "the ALLOC site row opens its chain")
    check_eq(browser.problems(), [], "cache_leak: errors after interacting")


def cycle_gc_disabled(work, browser):
    src = example("cycle_gc_disabled.py")
    allocs = lines_of(src, "# ALLOC")
    trace, _ = traced(work, [PY, src], name="cycle.rsc")
    page = Page(browser, work, html_of(work, trace, "cycle_gc_disabled"), "cycle_gc_disabled")
    rows = [r for r in page.rows("#cycles-table") if "__main__.Node" in r[5]]
    check_eq(len(rows), 1, f"one kind of Node cycle: {page.rows('#cycles-table')}")
    r = rows[0]
    check(r[1].startswith("garbage"), f"class: {r[1]!r}")
    check_eq(r[2], "1,000", "Node cycles")
    check("2,000×__main__.Node" in r[5], f"types: {r[5]!r}")
    for line in allocs:
        check(f"cycle_gc_disabled.py:{line} pair" in r[6], f"site line {line} in {r[6]!r}")
    d = page.row_detail("#cycles-table", "__main__.Node")
    check(not d["hidden"], "the cycle is drawn open")
    check_chain_drawn(d, "Node cycle", ["peer"], ["__main__.Node"])
    check_eq(d["svg_texts"].count("peer"), 2, "both references of the 2-cycle labelled peer")


def saveall_garbage(work, browser):
    src = example("saveall_garbage.py")
    [alloc] = lines_of(src, "# ALLOC")
    trace, _ = traced(work, [PY, src], name="saveall.rsc")
    page = Page(browser, work, html_of(work, trace, "saveall_garbage"), "saveall_garbage")
    rows = [r for r in page.rows("#cycles-table") if "__main__.Resource" in r[5]]
    check_eq(len(rows), 1, "one kind of Resource cycle")
    r = rows[0]
    check(r[1].startswith("uncollectable") and "__del__" in r[1], f"class: {r[1]!r}")
    check_eq((r[2], r[3]), ("50", "3"), "50 cycles of 3")
    check(f"saveall_garbage.py:{alloc}" in r[6], f"site: {r[6]!r}")
    d = page.row_detail("#cycles-table", "__main__.Resource")
    check_chain_drawn(d, "Resource cycle", ["next"], ["__main__.Resource"])
    check_eq(d["svg_texts"].count("next"), 3, "the 3 references of the cycle labelled next")
    check(any(f"saveall_garbage.py:{alloc}" in t for t in d["svg_texts"]),
          "the drawing shows the allocation site")
    summary = {r[0]: r[1] for r in page.rows("#cycle-summary")}
    check_eq(summary.get("uncollectable (held by gc.garbage)"), "50", "summary: uncollectable")


def thread_leak(work, browser):
    src = example("thread_leak.py")
    [alloc] = lines_of(src, "# ALLOC")
    hoard = line_of(src, "hoard = [")
    trace, _ = traced(work, [PY, src], name="thread.rsc")
    page = Page(browser, work, html_of(work, trace, "thread_leak"), "thread_leak")
    site = f"worker.<locals>.<listcomp> (thread_leak.py:{alloc})"
    rows = [r for r in page.rows("#sites-table") if site in r[0]]
    check(rows, f"sites table lists {site}: {[r[0] for r in page.rows('#sites-table')]}")
    check(page.open_detail("#sites-table", site), "the worker site opens its chain")
    d = page.row_detail("#sites-table", site)
    check("--[global_data]-->" in d["chain"], f"chain: {d['chain']!r}")
    check_chain_drawn(d, "worker lists' chain", ["global_data"], ["__main__", "list"])
    d = page.row_detail("#sites-table", f"(thread_leak.py:{hoard})")
    check("root: a frame of a running thread" in d["text"], f"hoard's root: {d['chain']!r}")
    check_chain_drawn(d, "hoard chain", ["hoard"], ["frame"])
    threads = page.flame_threads()
    for name in ("all threads", "holder", "worker_0", "worker_3"):
        check(any(t.startswith(name) for t in threads), f"flame graph thread {name}: {threads}")
    names = [r[1] for r in page.rows("#threads-table")]
    check("holder" in names and "worker_1" in names, f"threads table: {names}")


def native_leak(work, browser):
    src = example("native_leak.c")
    a, b = line_of(src, "/* ALLOC A */"), line_of(src, "/* ALLOC B */")
    trace, _ = traced(work, [program("native_leak")], name="native.rsc")
    page = Page(browser, work, html_of(work, trace, "native_leak"), "native_leak")
    check_eq(page.eval("document.title"), "refscope: native_leak", "page title")
    rows = {r[0]: r for r in page.rows("#sites-table")}
    ra = rows.get(f"native leak_here (native_leak.c:{a})")
    check(ra is not None, f"site leak_here: {list(rows)}")
    check_eq((ra[2], ra[3]), ("100.0 kB", "100"), "leak_here's bytes and blocks")
    rb = rows.get(f"native leak_in_thread (native_leak.c:{b})")
    check(rb is not None and rb[3] == "4", f"site leak_in_thread: {rb}")
    check(page.eval("document.getElementById('suspects') === null"),
          "no suspects section without snapshots")
    frames = page.flame_frames()
    check(f"leak_here (native_leak.c:{a})" in frames, f"flame graph frame leak_here: {frames[:30]}")
    check(page.eval("document.querySelectorAll('#flame .fr.k1').length") > 3, "native frames")
    check(page.eval("document.getElementById('mem-total') !== null"), "memory chart")


def injection(work, browser):
    src = os.path.join(SOURCE, "tests", "pyprograms", "html_injection.py")
    [alloc] = lines_of(src, "# ALLOC")
    [label_line] = lines_of(src, "# LABEL")
    trace, _ = traced(work, [PY, src], name="inject.rsc")
    # the verdicts of a real `refscope check --json` run: its reason, finding keys, sites and
    # chain carry the program's markup
    check_json = work.file("check.json")
    analyzer(["check", trace, "--no-config", "-q", "--json", check_json], status=1)
    with open(check_json, encoding="utf-8") as f:
        result = json.load(f)
    growth = [r for r in result["rules"] if r["rule"] == "growth"][0]
    path = html_of(work, trace, "injection", "--check-json", check_json)
    page = Page(browser, work, path, "injection")
    check_eq(page.eval("document.querySelectorAll('script').length"), 2,
             "scripts: the page's own and its flame-graph data, none injected")
    check_eq(page.eval("document.querySelectorAll('img, iframe, object, embed, "
                       "[onerror], [onload], [onclick]').length"), 0, "no injected element")
    check_eq(page.eval("document.querySelectorAll('svg svg, b, i img').length"), 0,
             "no injected svg")
    check_eq(page.eval("typeof window.alert"), "function", "alert untouched")
    evil = "__main__.X<script>alert(1)</script>"
    rows = [r for r in page.rows("#suspects-table") if r[1] == evil]
    check(rows, f"the type name shown as text: {[r[1] for r in page.rows('#suspects-table')]}")
    check(f"html_injection.py:{alloc} <img src=x onerror=alert(6)>" in rows[0][6],
          f"the site shown as text: {rows[0][6]!r}")
    d = page.row_detail("#suspects-table", evil)
    check(any(t.startswith("<img src=x onerror=alert(") for t in d["svg_texts"]),
          f"the dict key drawn as an edge label, as text: {d['svg_texts']}")
    check(any(t == evil for t in d["svg_texts"]), "the type drawn as text")
    check("--[<img src=x onerror=alert(" in d["chain"], f"chain text: {d['chain']!r}")
    d = page.row_detail("#sites-table", f"(html_injection.py:{label_line})")
    check(d is not None and "str (<img src=x onerror=alert(4)></script><sc" in d["chain"],
          f"the str label shown as text: {d and d['chain']!r}")
    check(any(t.startswith("<img src=x onerror=alert(4)></script>") for t in d["svg_texts"]),
          f"the str label drawn as text: {d['svg_texts']}")
    check(f"<img src=x onerror=alert(6)> (html_injection.py:{alloc})" in page.flame_frames(),
          "the function name in the flame graph, as text")
    check(any(t.startswith("<svg onload=alert(5)>") for t in page.flame_threads()),
          f"the thread name in the thread selector: {page.flame_threads()}")
    check("<svg onload=alert(5)>" in [r[1] for r in page.rows("#threads-table")],
          "the thread name in the threads table")
    marks = page.eval("Array.from(document.querySelectorAll('#memory-chart g.snapshot title'))"
                      ".map(t => t.textContent)")
    check(any('"round 0 <script>alert(3)</script>"' in m for m in marks),
          f"snapshot labels as text: {marks}")
    verdicts = page.rows("table.check")
    check_eq([(r[0], r[1]) for r in verdicts], [(r["rule"], r["verdict"]) for r in result["rules"]],
             "a row per rule of the check's JSON, with its verdict")
    check_eq([r[1] for r in verdicts], ["pass", "fail", "pass", "pass", "pass"],
             "growth fails, the other rules pass")
    g = verdicts[1]
    check_eq(len(g), 5, f"columns rule, verdict, limit, measured, details: {g!r}")
    check_eq((g[2], g[3]), ("100 objects", "600 (largest)"),
             "growth's limit and what was measured (the strs of the dict's keys and the list)")
    check(g[4].startswith(growth["reason"]) and evil in g[4],
          f"the rule's reason, with the type name as text: {g[4]!r}")
    check(f"type:{evil}" in g[4] and "held by module __main__ -> dict[hold] -> dict[<img src=x "
          "onerror=alert(" in g[4], f"the findings, with their chain, as text: {g[4]!r}")
    check_eq(page.eval("document.querySelector('#check + p .badge').textContent"), "fail",
             "overall verdict")
    # interacting runs no injected code either
    page.eval("document.querySelectorAll('tr.expandable').forEach(r => r.click())")
    page.eval("""(function() { var s = document.getElementById('flame-search');
        s.value = '<img'; s.dispatchEvent(new Event('input')); })()""")
    check_eq(page.eval("document.querySelectorAll('img, [onerror], [onload]').length"), 0,
             "no injected element after interacting")
    check_eq(browser.problems(), [], "injection: errors or dialogs")


def test(work):
    try:
        browser = Browser()
    except BrowserError as e:
        raise TestFailure(str(e))
    try:
        for t in (cache_leak, cycle_gc_disabled, saveall_garbage, thread_leak, native_leak,
                  injection):
            t(work, browser)
    except BrowserError as e:
        raise TestFailure(f"browser: {e}")
    finally:
        browser.close()


main(test)
