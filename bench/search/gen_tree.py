#!/usr/bin/env python3
"""gen_tree.py DIR - write the search benchmark's tree, deterministically.

The same seed and the same python3 give the same tree byte for byte
(random.Random(seed); nothing depends on time, locale or the file system).
Made once and reused: bench/search/run.sh calls this only when DIR/.complete
does not hold this generator's VERSION.

Layout (about 60k files, about 370 MB):
  src/pkgNN/modNN/NAME.EXT  60,000 text files, 1..~600 lines (mean ~3 KB),
                            extensions .c .h .go .py .txt .log .md .json
  big/big_NN.log            40 text files of 2..6 MB
  huge/huge_N.log           3 files of 10 MB: over the 8 MiB size limit
                            (every tool is run with that limit)
  bin/blob_NNN.bin          60 binary files (a NUL in the first bytes)
  odd/                      names with spaces, UTF-8 and non-UTF-8 bytes
  links/                    symlinks (out of the tree, a loop): never followed
Planted needles, so the searches have a few hundred matches, not millions:
  the literal ZEBRAFISH in ~0.5% of the text files (once each, anywhere in
  the file, near the end in half of the big files); lines matching
  (connect|read|write)_timeout=[0-9]{4,}ms in ~0.5%; near misses of that
  regex (two digits) in ~5%, so the regex engine has work to do.
"""
import os
import random
import sys

VERSION = "gochan-search-bench-tree v1"
SEED = 20261201


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_tree.py DIR")
    top = sys.argv[1]
    rng = random.Random(SEED)
    syll = ["ka", "lo", "mi", "ne", "tu", "ra", "si", "po", "de", "fa", "gu", "he",
            "ji", "ko", "lu", "ma", "no", "pi", "qu", "re", "sa", "te", "vo", "wi", "xa", "yo", "ze"]
    vocab = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    vocab += ["timeout", "error", "return", "struct", "static", "const", "int", "char", "void",
              "if", "else", "for", "while", "func", "def", "import", "package", "null", "true", "false"]
    punct = [" ", " ", " ", " ", ", ", "(", ") ", "; ", " = ", ".", " -> ", ": ", " {", "} "]
    pool = []
    for _ in range(60000):
        n = rng.randint(2, 12)
        parts = [" " * rng.choice([0, 0, 4, 8, 12])]
        for _ in range(n):
            parts.append(rng.choice(vocab))
            parts.append(rng.choice(punct))
        if rng.random() < 0.2:
            parts.append(str(rng.randint(0, 99999)))
        pool.append("".join(parts).rstrip())
    exts = [".c", ".h", ".go", ".py", ".txt", ".log", ".md", ".json"]
    keys = ["connect", "read", "write"]

    def text(nlines, needle_at_end=False):
        lines = rng.choices(pool, k=nlines)
        r = rng.random()
        if r < 0.005 or needle_at_end:
            at = len(lines) - 1 - rng.randint(0, 3) if needle_at_end else rng.randrange(len(lines))
            lines[max(at, 0)] += " ZEBRAFISH"
        r = rng.random()
        if r < 0.005:
            lines[rng.randrange(len(lines))] += " %s_timeout=%dms" % (rng.choice(keys), rng.randint(1000, 99999))
        elif r < 0.055:
            lines[rng.randrange(len(lines))] += " %s_timeout=%dms" % (rng.choice(keys), rng.randint(10, 99))
        return ("\n".join(lines) + "\n").encode()

    def write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    n = 0
    for p in range(20):
        for m in range(25):
            d = os.path.join(top, "src", "pkg%02d" % p, "mod%02d" % m)
            for i in range(120):
                name = "%s_%d%s" % (rng.choice(vocab), i, rng.choice(exts))
                nlines = min(int(rng.expovariate(1 / 55.0)) + 1, 600)
                write(os.path.join(d, name), text(nlines))
                n += 1
    for i in range(40):
        target = rng.randint(2, 6) << 20
        write(os.path.join(top, "big", "big_%02d.log" % i), text(target // 48, needle_at_end=(i % 2 == 0)))
    for i in range(3):
        write(os.path.join(top, "huge", "huge_%d.log" % i), text((10 << 20) // 48, needle_at_end=True))
    for i in range(60):
        body = bytes([0x7f, 0x45, 0x4c, 0x46, 0]) + rng.randbytes(64 << 10)
        write(os.path.join(top, "bin", "blob_%03d.bin" % i), body + b" ZEBRAFISH\n")
    odd = os.path.join(top, "odd")
    os.makedirs(odd, exist_ok=True)
    for raw in [b"with space.txt", "k\u00e4se.txt".encode(), b"latin1-caf\xe9.txt", b"bad-\xff\xfe.log",
                b"cut-\xe2\x9c.log"]:
        with open(os.path.join(odd.encode(), raw), "wb") as f:
            f.write(text(20, needle_at_end=True))
    links = os.path.join(top, "links")
    os.makedirs(links, exist_ok=True)
    for name, target in [("etc", "/etc"), ("loop", "."), ("src", "../src")]:
        os.symlink(target, os.path.join(links, name))
    with open(os.path.join(top, ".complete"), "w") as f:
        f.write(VERSION + "\n")
    print("gen_tree: %d small text files + 40 big + 3 huge + 60 binary in %s" % (n, top))


if __name__ == "__main__":
    main()
