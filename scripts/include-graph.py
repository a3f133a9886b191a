#!/usr/bin/env python3
"""The module graph of libgochan, from the #include lines.

A module is one of build.zig's lib_dirs (wait/, chan/, select/, ...).  An
edge A -> B means a file of A includes a header of B by its quoted path
("B/x.h").  The public headers (<gochan/*.h>) are the API every module may
use and are not edges; the rules below are about the internal headers.

Rules (--check fails, naming the file and line, if one is broken):
  1. No cycle among the modules.
  2. A module includes another module's header only if that header is
     declared for other modules: its name ends in _internal.h, it is one of
     wait/'s (the wait layer is an interface as a whole), or it is listed in
     DECLARED below with the reason.
  3. wait/ depends on nothing above it: it includes no other module's
     header, and of the public headers only <gochan/chan.h> (which declares
     chan_now, chan_deadline_in and CHAN_FOREVER, the wait layer's own).
  4. (--check) docs/design.md shows this graph, as --markdown prints it.

Usage: include-graph.py [--check] [--markdown]
  (no flag)   print the graph: each module, what it includes and through
              which headers, in layer order (a module after all it uses)
  --markdown  print the graph as the fenced block docs/design.md shows
  --check     print the graph, then exit 1 if a rule is broken
Run from the repository root (zig build layers-check does).
"""
import os
import re
import sys

# Headers of a module that other modules may include although they are not
# named *_internal.h, and why.
DECLARED = {
    "chan/flavor.h": "the channel flavors' one interface, select's handle (crossbeam's SelectHandle)",
    "chan/chaos.h": "the chaos-mode scheduling points, placed by select too",
    "service/threads.h": "the count of the library's own threads (service/ counts them; diag/ reads it)",
    "service/service.h": "the one service-thread mechanism every module that starts a thread uses",
    "context/ctx_hook.h": "the hook through which poll/ hangs up a context",
}

WAIT_PUBLIC_OK = {"gochan/chan.h"}

DESIGN = "docs/design.md"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def lib_dirs():
    with open("build.zig") as f:
        for line in f:
            m = re.match(r"\s*const lib_dirs = \[_\]\[\]const u8\{(.*)\};", line)
            if m:
                return re.findall(r'"([^"]+)"', m.group(1))
    sys.exit("include-graph: lib_dirs not found in build.zig")


def sources(mods):
    for mod in mods:
        for name in sorted(os.listdir(mod)):
            if name.endswith((".c", ".h")) and not name.startswith("."):
                yield mod, os.path.join(mod, name)


def resolve(path, target):
    """The repository path of a quoted include, or None (system header)."""
    if os.path.isfile(target):
        return os.path.normpath(target)
    local = os.path.join(os.path.dirname(path), target)
    if os.path.isfile(local):
        return os.path.normpath(local)
    return None


def declared(header):
    return header.endswith("_internal.h") or header.startswith("wait/") or header in DECLARED


def main(argv):
    check = "--check" in argv
    markdown = "--markdown" in argv
    mods = lib_dirs()
    edges = {m: {} for m in mods}  # mod -> {dep mod: set of headers}
    errors = []
    for mod, path in sources(mods):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                where = f"{path}:{lineno}"
                if kind == "<":
                    if mod == "wait" and target.startswith("gochan/") and target not in WAIT_PUBLIC_OK:
                        errors.append(f"{where}: wait/ includes the public <{target}> (rule 3)")
                    continue
                header = resolve(path, target)
                if header is None:
                    errors.append(f"{where}: \"{target}\" not found")
                    continue
                dep = header.split(os.sep)[0]
                if dep == mod:
                    continue
                if dep not in edges:
                    errors.append(f"{where}: includes {header}, outside the library's modules")
                    continue
                if mod == "wait":
                    errors.append(f"{where}: wait/ includes {header} (rule 3: nothing above it)")
                if not declared(header):
                    errors.append(f"{where}: includes {header}, private to {dep}/ (rule 2)")
                edges[mod].setdefault(dep, set()).add(header)

    # Layer order (a module after everything it includes), or the cycle.
    order, state = [], {}

    def visit(m, stack):
        if state.get(m) == "done":
            return
        if state.get(m) == "open":
            cyc = stack[stack.index(m):] + [m]
            errors.append("cycle: " + " -> ".join(cyc) + " (rule 1)")
            return
        state[m] = "open"
        for d in sorted(edges[m]):
            visit(d, stack + [m])
        state[m] = "done"
        order.append(m)

    for m in mods:
        visit(m, [])

    lines = []
    for m in order:
        deps = edges[m]
        if not deps:
            lines.append(f"{m + '/':10} (nothing: system and liburcu headers only)")
            continue
        parts = [f"{d}/ ({', '.join(sorted(os.path.basename(h) for h in deps[d]))})"
                 for d in sorted(deps, key=order.index)]
        lines.append(f"{m + '/':10} -> " + ", ".join(parts))
    graph = "\n".join(lines) + "\n"
    print("```\n" + graph + "```" if markdown else graph, end="" if not markdown else "\n")
    # Rule 4: the graph docs/design.md shows is this one (it is the map).
    if check and os.path.isfile(DESIGN):
        with open(DESIGN) as f:
            doc = f.read()
        start = doc.find("```\n" + lines[0] + "\n")
        shown = doc[start + 4:doc.find("```", start + 4)] if start >= 0 else None
        if shown != graph:
            errors.append(f"{DESIGN}: its module graph is not the one the includes give (rule 4): "
                          "paste `python3 scripts/include-graph.py --markdown` there")
    if errors:
        for e in errors:
            print("include-graph: " + e, file=sys.stderr)
        if check:
            return 1
    elif check:
        print(f"include-graph: {len(mods)} modules, no cycle, no private header crossed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
