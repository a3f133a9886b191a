#!/usr/bin/env python3
"""scripts/gen-man.py INCLUDE_DIR OUT_DIR VERSION - the reference manual,
generated from the public headers' comments (the headers are the
documentation; this only re-renders them).

OUT_DIR/man3/gochan.3            the overview: the modules and their pages
OUT_DIR/man3/gochan-<module>.3   one page per header (function family): the
                                 header's own introduction, then each
                                 documented function, macro and type with its
                                 declaration and comment, in header order
OUT_DIR/man3/<function>.3        `.so man3/gochan-<module>.3`, so that
                                 `man chan_send` opens the family's page
OUT_DIR/html/gochan-reference.html   the same, one HTML page with anchors

It fails (exit 1) if a function declared in a public header gets no
documented entry (a doc comment right before its declaration).  Comments are
shown as written (no-fill): they are laid out by hand in the headers.
"""
import html
import os
import re
import sys

# What check-symbols.py calls a public function (the same expression).
DECL = re.compile(
    r"^(?![ \t\n]|static|typedef|inline|template|constexpr|extern|\}|#)"
    r"([^;{}()]*?)\b([a-z][a-z0-9_]*)\s*\(([^;{}]*?)\)\s*"
    r"(?:__attribute__\s*\(\([^;]*?\)\)\s*)?;",
    re.M,
)


def comment_text(raw):
    """The body of a /* */ or /** */ comment, leading ' * ' removed."""
    body = re.sub(r"^/\*\*?", "", raw)
    body = re.sub(r"\*/$", "", body)
    lines = body.split("\n")
    out = []
    for line in lines:
        line = re.sub(r"^\s*\* ?", "", line) if re.match(r"^\s*\*", line) else line.strip()
        out.append(line.rstrip())
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def parse_header(path):
    """(intro, entries): the header's first comment, and [(names, decl, doc)]
    for every doc comment (/** ... */ or /* name - ... */) that is followed
    by declarations or #defines."""
    text = open(path).read()
    first = re.match(r"\s*(/\*.*?\*/)", text, flags=re.S)
    intro = comment_text(first.group(1)) if first else ""
    entries = []
    # Each comment followed by the code up to the next blank line or comment.
    for m in re.finditer(r"(/\*(?:(?!\*/)[\s\S])*\*/)[ \t]*\n((?:(?!/\*)(?![ \t]*\n).*\n)+)", text):
        if first and m.start(1) == first.start(1):
            continue
        raw, code = m.group(1), m.group(2)
        doc = comment_text(raw)
        if not (raw.startswith("/**") or re.match(r"\S+ - ", doc)):
            continue
        names = [d.group(2) for d in DECL.finditer(code)]
        names += re.findall(r"^#define\s+([A-Z][A-Z0-9_]*)", code, flags=re.M)
        names += re.findall(r"^typedef\b.*?\b([a-z_0-9]+_t);", code, flags=re.M | re.S)
        names += re.findall(r"^(?:enum|struct)\s+([a-z_0-9]+)\s*\{", code, flags=re.M)
        if names:
            entries.append((names, code.rstrip(), doc))
    return intro, entries


def roff(text):
    """Text for a no-fill block: backslashes escaped, control characters at
    line starts neutralised."""
    out = []
    for line in text.split("\n"):
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    include_dir, out_dir, version = sys.argv[1:]
    man3 = os.path.join(out_dir, "man3")
    html_dir = os.path.join(out_dir, "html")
    os.makedirs(man3, exist_ok=True)
    os.makedirs(html_dir, exist_ok=True)
    headers = sorted(f for f in os.listdir(os.path.join(include_dir, "gochan")) if f.endswith(".h"))
    date = "gochan " + version
    documented, declared = {}, set()
    pages = []
    body_html = []
    for h in headers:
        module = h[:-2]
        page = "gochan-" + module  # not gochan_<x>: gochan_version is a function
        path = os.path.join(include_dir, "gochan", h)
        stripped = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
        declared.update(d.group(2) for d in DECL.finditer(stripped))
        intro, entries = parse_header(path)
        summary, _, intro = intro.partition("\n")
        summary = re.sub(r"^gochan/\S+\s+-\s+", "", summary) or module
        intro = intro.strip("\n")
        pages.append((page, summary))
        lines = [
            f'.TH {page.upper()} 3 "" "{date}" "gochan reference"',
            ".SH NAME",
            f"{page} \\- {roff(summary)}",
            ".SH SYNOPSIS",
            f".B #include <gochan/{h}>",
            ".br",
            ".B #include <gochan.h>",
            ".SH DESCRIPTION",
            ".nf",
            roff(intro),
            ".fi",
        ]
        body_html.append(f'<h2 id="{page}">&lt;gochan/{h}&gt;: {html.escape(summary)}</h2>')
        body_html.append(f"<pre>{html.escape(intro)}</pre>")
        if entries:
            lines.append(".SH REFERENCE")
        for names, code, doc in entries:
            lines += [f".SS {roff(', '.join(names))}", ".nf", ".B", roff(code), "", roff(doc), ".fi"]
            anchors = "".join(f'<a id="{n}"></a>' for n in names)
            body_html.append(f"<h3>{anchors}{html.escape(', '.join(names))}</h3>")
            body_html.append(f"<pre><b>{html.escape(code)}</b>\n\n{html.escape(doc)}</pre>")
            for n in names:
                documented.setdefault(n, page)
        lines += [".SH SEE ALSO", ".BR gochan (3)"]
        with open(os.path.join(man3, page + ".3"), "w") as f:
            f.write("\n".join(lines) + "\n")
    missing = sorted(declared - documented.keys())
    if missing:
        print("gen-man: public functions without a doc comment right before their "
              "declaration: " + " ".join(missing), file=sys.stderr)
        sys.exit(1)
    for name, page in documented.items():
        if name in declared:  # functions: `man chan_send`
            with open(os.path.join(man3, name + ".3"), "w") as f:
                f.write(f".so man3/{page}.3\n")
    overview = [
        f'.TH GOCHAN 3 "" "{date}" "gochan reference"',
        ".SH NAME",
        "gochan \\- Go's channels, select, timers and context in C",
        ".SH SYNOPSIS",
        ".B #include <gochan.h>",
        ".PP",
        ".B cc app.c $(pkg-config --cflags --libs gochan)",
        ".SH DESCRIPTION",
        "Every function returns 0 or a positive errno value (chan_select: a case",
        "index or a negative errno); each is documented, with its blocking,",
        "errors, ownership and memory ordering, on the page of its module:",
        ".PP",
    ]
    for page, summary in pages:
        overview += [".TP", f".BR {page} (3)", roff(summary)]
    overview += [".SH SEE ALSO", "The porting guide, docs/porting-from-go.md, in the source tree."]
    with open(os.path.join(man3, "gochan.3"), "w") as f:
        f.write("\n".join(overview) + "\n")
    toc = "".join(f'<li><a href="#{p}">{p}</a>: {html.escape(s)}</li>' for p, s in pages)
    with open(os.path.join(html_dir, "gochan-reference.html"), "w") as f:
        f.write(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gochan {version} "
                f"reference</title></head><body><h1>gochan {version} reference</h1>"
                f"<p>Generated from the public headers' comments.</p><ul>{toc}</ul>\n"
                + "\n".join(body_html) + "\n</body></html>\n")
    print(f"gen-man: {len(pages) + 1} pages, {len(declared)} functions linked, "
          f"{len(documented)} documented names")


main()
