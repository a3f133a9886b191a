#!/usr/bin/env python3
"""search/tests/browser.py BINARY [SCREENSHOT.png] - the page in a real browser.

Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium
(python3-selenium) against the real gochan-search:
  1. opens /, types a content pattern, clicks Search, sees results stream in
     (and the files-scanned count move) while the scan is still running;
     saves a screenshot of that moment (docs/search-page.png when asked);
  2. closes the tab: the server must log the search "canceled" (the hangup
     context saw the browser's connection close) and /debug/vars go back to
     zero;
  3. in another tab, starts a search and clicks Stop: the same;
  4. a query in the address fills the form and runs; the first match of
     each row is highlighted; past 2,000 rows the page says how many more;
  5. a file PCRE2 gave up on shows as an error row, the errors count moves
     and the state reads "incomplete".
Waiting on the browser uses Selenium's bounded WebDriverWait; waiting on
the server uses its log line (written after the scan's workers are joined).
Prints `N passed, N failed` last.
"""
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
try:
    import selenium  # noqa: F401
except ImportError:  # a python3 other than Debian's (pyenv, venv): use Debian's package
    sys.path.append("/usr/lib/python3/dist-packages")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import corpus  # noqa: E402
from harness import Server, check, expect, finish  # noqa: E402

PATTERN = r"\b(\w+)\b.*\b\1\b"  # a word seen twice on a line: slow (back-reference)
def make_tree(root):
    """~50 MB of the demo corpus's kind of text: a doubled-word scan by one
    worker takes seconds, and its results come from the first files on."""
    rng = random.Random(3)
    pool = corpus.make_pool(rng, 20000)
    for a in range(4):
        for b in range(8):
            d = os.path.join(root, "src%02d" % a, "mod%02d" % b)
            os.makedirs(d)
            for f in range(20):
                with open(os.path.join(d, "file%02d.txt" % f), "w") as fh:
                    fh.write("\n".join(rng.choices(pool, k=1500)) + "\n")


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,860", "--hide-scrollbars"):
        opts.add_argument(a)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                            options=opts)


def last_id(srv):
    return srv.searches  # the page's /search requests, counted by start_search and bad_input


def start_search(drv, srv):
    drv.get("http://127.0.0.1:%d/" % srv.port)
    q = drv.find_element(By.ID, "q")
    q.clear()
    q.send_keys(PATTERN)
    m = drv.find_element(By.ID, "max")
    m.clear()
    m.send_keys("1000000")
    drv.find_element(By.ID, "go").click()
    srv.searches += 1
    # results arrive and the files-scanned count moves while the scan runs
    WebDriverWait(drv, 30, 0.05).until(
        lambda d: int(d.find_element(By.ID, "matches").text.replace(",", "") or 0) >= 10
        and int(d.find_element(By.ID, "files").text.replace(",", "") or 0) > 0)
    expect(drv.find_element(By.ID, "state").text == "running",
           "the scan ended before the test could cancel it: %s" % drv.find_element(By.ID, "state").text)
    rows = drv.find_elements(By.CSS_SELECTOR, "#results .r")
    expect(len(rows) >= 10, "only %d result rows" % len(rows))


def wait_canceled(srv, rid):
    rec = srv.wait_log(lambda r: r["id"] == rid, timeout=30)
    expect(rec is not None, "no log line for search %d: the scan did not stop" % rid)
    expect(rec["end"] == "canceled", "search %d ended %r" % (rid, rec["end"]))
    v = srv.vars()
    for k in ("scans_in_progress", "workers_alive", "fds_held", "contexts_alive"):
        expect(v[k] == 0, "/debug/vars %s = %d after the cancel" % (k, v[k]))
    expect(v["scans_canceled"] >= 1, v)
    return rec


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: browser.py PATH/TO/gochan-search [SCREENSHOT.png]")
    binary = os.path.abspath(sys.argv[1])
    shot = sys.argv[2] if len(sys.argv) == 3 else None
    tmp = tempfile.mkdtemp(prefix="gochan-search-browser-")
    srv = drv = None
    try:
        root = os.path.join(tmp, "tree")
        make_tree(root)
        os.makedirs(os.path.join(root, "limit"))
        with open(os.path.join(root, "limit", "x.txt"), "w") as fh:  # PCRE2's match limit on line 2
            fh.write("aaaa\n" + "a" * 40 + "b\naaaa\n")
        # Context lines, a hidden file and an ignored one (walk_switches).
        for rel, text in (("ctx/a.txt", "one\nneedle2\nthree\n"), ("ctx/.h.txt", "needle2\n"),
                          ("ctx/ign/i.txt", "needle2\n"), ("ctx/.ignore", "ign/\n")):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as fh:
                fh.write(text)
        srv = Server(binary, root, "--workers", "1", "--max-results", "1000000")
        drv = browser()
        keep = drv.current_window_handle

        def close_tab():
            drv.switch_to.new_window("tab")
            rid = last_id(srv) + 1
            start_search(drv, srv)
            if shot:
                drv.save_screenshot(shot)
                print("     screenshot: %s" % shot)
            t0 = time.time_ns()
            drv.close()  # the tab, not the browser
            drv.switch_to.window(keep)
            rec = wait_canceled(srv, rid)
            print("     tab closed -> last worker joined: %.2f ms (incl. the browser closing its socket)"
                  % ((rec["joined_unix_ns"] - t0) / 1e6))

        def stop_button():
            rid = last_id(srv) + 1
            start_search(drv, srv)
            drv.find_element(By.ID, "stop").click()
            wait_canceled(srv, rid)
            WebDriverWait(drv, 10, 0.05).until(lambda d: d.find_element(By.ID, "state").text == "canceled")

        def bad_input():
            drv.get("http://127.0.0.1:%d/" % srv.port)
            drv.find_element(By.ID, "q").send_keys("(")
            drv.find_element(By.ID, "go").click()
            srv.searches += 1
            WebDriverWait(drv, 10, 0.05).until(lambda d: "missing closing parenthesis" in d.find_element(By.ID, "err").text)

        def url_query():
            # Opened from a shared address: the form is filled, the search
            # runs, the first match of each row is highlighted.
            drv.get("http://127.0.0.1:%d/?q=THE&case=insensitive&max=5" % srv.port)
            srv.searches += 1
            WebDriverWait(drv, 30, 0.05).until(lambda d: d.find_element(By.ID, "state").text == "limit")
            expect(drv.find_element(By.ID, "q").get_attribute("value") == "THE", "q not filled from the URL")
            expect(drv.find_element(By.ID, "case").get_attribute("value") == "insensitive", "case not filled")
            marks = [m.text for m in drv.find_elements(By.CSS_SELECTOR, "#results .r mark")]
            expect(len(marks) == 5 and all(m.lower() == "the" for m in marks), "highlights %r" % marks)
            drv.find_element(By.ID, "q").clear()
            drv.find_element(By.ID, "q").send_keys("e")
            drv.find_element(By.ID, "max").clear()
            drv.find_element(By.ID, "max").send_keys("3000")
            drv.find_element(By.ID, "go").click()
            srv.searches += 1
            WebDriverWait(drv, 30, 0.05).until(lambda d: d.find_element(By.ID, "state").text == "limit")
            expect("q=e" in drv.current_url and "max=3000" in drv.current_url, drv.current_url)
            WebDriverWait(drv, 10, 0.05).until(
                lambda d: "first 2,000 of 3,000" in d.find_element(By.ID, "more").text)

        def file_error():
            # A file PCRE2 gives up on: the row says so, errors counts it, and
            # the state is "incomplete", not a green "complete".
            drv.get("http://127.0.0.1:%d/?q=%%28a%%2B%%29%%2B%%24&root=limit" % srv.port)
            srv.searches += 1
            WebDriverWait(drv, 30, 0.05).until(lambda d: d.find_element(By.ID, "state").text == "incomplete")
            rows = [r.text for r in drv.find_elements(By.CSS_SELECTOR, "#results .r.fe")]
            expect(len(rows) == 1 and "match limit" in rows[0] and "limit/x.txt" in rows[0], rows)
            expect(drv.find_element(By.ID, "errors").text == "1", drv.find_element(By.ID, "errors").text)

        def walk_switches():
            # context=1: the lines around the match, dimmed (class cx), not
            # counted; the hidden and obey-.gitignore boxes follow the URL.
            def run(query, want_state="complete"):
                drv.get("http://127.0.0.1:%d/?%s" % (srv.port, query))
                srv.searches += 1
                WebDriverWait(drv, 30, 0.05).until(lambda d: d.find_element(By.ID, "state").text == want_state)
                return [r for r in drv.find_elements(By.CSS_SELECTOR, "#results .r")]
            rows = run("q=needle2&root=ctx&context=1")
            cx = [r.text for r in rows if "cx" in r.get_attribute("class").split()]
            expect(len(rows) == 3 and len(cx) == 2 and "one" in cx[0] and "three" in cx[1], [r.text for r in rows])
            expect(drv.find_element(By.ID, "matches").text == "1", drv.find_element(By.ID, "matches").text)
            expect(drv.find_element(By.ID, "context").get_attribute("value") == "1", "context not filled")
            expect(not drv.find_element(By.ID, "hidden").is_selected(), "hidden checked by default")
            expect(drv.find_element(By.ID, "ignore").is_selected(), "obey .gitignore not checked by default")
            rows = run("q=needle2&root=ctx&hidden=1&ignore=0")
            expect(len(rows) == 3, [r.text for r in rows])
            expect(drv.find_element(By.ID, "hidden").is_selected(), "hidden not checked from the URL")
            expect(not drv.find_element(By.ID, "ignore").is_selected(), "ignore=0 did not uncheck the box")
            # The boxes drive the request: checked again, the ignored file goes.
            drv.find_element(By.ID, "ignore").click()
            drv.find_element(By.ID, "go").click()
            srv.searches += 1
            WebDriverWait(drv, 30, 0.05).until(
                lambda d: d.find_element(By.ID, "state").text == "complete" and "ignore=0" not in d.current_url)
            rows = drv.find_elements(By.CSS_SELECTOR, "#results .r")
            expect(len(rows) == 2 and "hidden=1" in drv.current_url, (drv.current_url, [r.text for r in rows]))

        check("results stream in; closing the tab cancels the scan", close_tab)
        check("the Stop button cancels the scan", stop_button)
        check("a bad pattern shows PCRE2's message", bad_input)
        check("the query is in the URL; matches highlighted; the row limit is said", url_query)
        check("a file_error row, the errors count, state incomplete", file_error)
        check("context lines dimmed; hidden and obey-.gitignore boxes", walk_switches)
    finally:
        if drv:
            drv.quit()
        rc = srv.stop() if srv else -1
        shutil.rmtree(tmp, ignore_errors=True)
    check("server exits 0 after SIGTERM", lambda: expect(rc == 0, "exit %d" % rc))
    finish()


if __name__ == "__main__":
    main()
