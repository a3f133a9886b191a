#!/usr/bin/env python3
"""scripts/check-symbols.py LIB.so INCLUDE_DIR MAP - `zig build symbols-check`.

libgochan.so must export exactly the public API: the functions declared in
the public headers (INCLUDE_DIR/gochan.h, INCLUDE_DIR/gochan/*.h), each one
listed in the version script MAP (version/libgochan.map) and exported under
the symbol version GOCHAN_0, and nothing else (no chan__*, no gotime__ data,
no test hooks).  Prints what differs and exits 1, or one line and exits 0.
"""
import glob
import re
import subprocess
import sys


def header_functions(include_dir):
    """Every function declared at file scope in the public headers (inline
    helpers, typedefs and macros excluded)."""
    names = set()
    headers = sorted(glob.glob(include_dir + "/gochan/*.h")) + [include_dir + "/gochan.h"]
    for path in headers:
        text = open(path).read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        text = re.sub(r"^\s*#.*?(?<!\\)$", "", text, flags=re.M | re.S)
        decl = re.compile(
            r"^(?![ \t\n]|static|typedef|inline|template|constexpr|extern|\}|#)"
            r"([^;{}()]*?)\b([a-z][a-z0-9_]*)\s*\(([^;{}]*?)\)\s*"
            r"(?:__attribute__\s*\(\([^;]*?\)\)\s*)?;",
            re.M,
        )
        names.update(m.group(2) for m in decl.finditer(text))
    return names


def map_symbols(path):
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    m = re.search(r"GOCHAN_0\s*\{\s*global:(.*?)local:", text, flags=re.S)
    if not m:
        sys.exit(f"{path}: no GOCHAN_0 {{ global: ... local: }} node")
    return {s.strip() for s in m.group(1).split(";") if s.strip()}


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms, unversioned = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == "A" and name == "GOCHAN_0":
            continue  # the version node itself
        base, _, ver = name.partition("@@")
        if ver != "GOCHAN_0":
            unversioned.add(name)
        syms.add(base)
    return syms, unversioned


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    lib, include_dir, map_path = sys.argv[1:]
    api = header_functions(include_dir)
    listed = map_symbols(map_path)
    syms, unversioned = exported(lib)
    problems = []
    for what, names in (
        ("exported but not declared in a public header", syms - api),
        ("declared in a public header but not exported", api - syms),
        ("declared in a public header but not in " + map_path, api - listed),
        ("in " + map_path + " but not declared in a public header", listed - api),
        ("exported without the symbol version GOCHAN_0", unversioned),
    ):
        if names:
            problems.append(f"{what} ({len(names)}): " + " ".join(sorted(names)))
    if problems:
        print("symbols-check: libgochan.so does not export exactly the public API", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        sys.exit(1)
    print(f"symbols-check: {len(syms)} symbols exported, all GOCHAN_0, "
          f"exactly the {len(api)} functions of the public headers")


main()
