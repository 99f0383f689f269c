#!/usr/bin/env python3
"""Structure limits that keep the transfer readable (issue 9).

Checks, over production code (each file's `#[cfg(test)] mod ... { }` blocks are left out):
  * no function in src/transfer longer than MAX_FN lines (from `fn` to its closing brace);
  * no file in src/transfer longer than MAX_FILE lines;
  * no cycle between modules of src/ (an edge is a `crate::a::b` path naming another module).
With --report it prints the longest functions and files instead of failing.
"""
import os
import re
import sys

MAX_FN = 120
MAX_FILE = 800
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def strip_strings_and_comments(text):
    """Blank out comments, strings and char literals so braces inside them are not counted."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(code, open_at):
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def production(code):
    """The code with `#[cfg(test)]` items blanked out."""
    out = code
    for m in re.finditer(r"#\[cfg\(test\)\]", code):
        brace = code.find("{", m.end())
        semi = code.find(";", m.end())
        if brace < 0 or (0 <= semi < brace):
            continue
        end = matching_brace(code, brace)
        out = out[:m.start()] + re.sub(r"[^\n]", " ", out[m.start():end + 1]) + out[end + 1:]
    return out


def functions(code):
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        # the body starts at the first `{` after the signature (skip `;` for trait declarations)
        j = m.end()
        depth = 0
        while j < len(code):
            ch = code[j]
            if ch in "(<[":
                depth += 1
            elif ch in ")>]":
                depth -= 1
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        end = matching_brace(code, j)
        start_line = code.count("\n", 0, m.start()) + 1
        end_line = code.count("\n", 0, end) + 1
        yield m.group(1), start_line, end_line - start_line + 1


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def main():
    report = "--report" in sys.argv
    files = []
    for dirpath, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                files.append(os.path.join(dirpath, name))
    files.sort()
    modules = {module_of(f) for f in files}
    problems, fns, sizes, edges = [], [], [], {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        code = production(strip_strings_and_comments(text))
        rel = os.path.relpath(path, os.path.join(ROOT, ".."))
        lines = len([l for l, orig in zip(code.split("\n"), text.split("\n")) if l.strip() or not orig.strip()])
        in_transfer = rel.startswith("src/transfer/")
        if in_transfer:
            sizes.append((lines, rel))
            if lines > MAX_FILE:
                problems.append(f"{rel}: {lines} production lines (limit {MAX_FILE})")
            for name, line, length in functions(code):
                fns.append((length, f"{rel}:{line} {name}"))
                if length > MAX_FN:
                    problems.append(f"{rel}:{line}: fn `{name}` is {length} lines (limit {MAX_FN})")
        me = module_of(path)
        for m in re.finditer(r"\b(crate|super(?:::super)*)((?:::[a-z_][a-z0-9_]*)+)", code):
            parts = tuple(m.group(2).strip(":").split("::"))
            if m.group(1) != "crate":
                # `super` is the parent of this file's module (a mod.rs is its own module)
                base = me if path.endswith("mod.rs") else me
                up = m.group(1).count("super")
                parts = base[: len(base) - up] + parts
            # the longest prefix that is a module
            target = None
            for k in range(len(parts), 0, -1):
                if parts[:k] in modules:
                    target = parts[:k]
                    break
            if target and target != me and not (me[: len(target)] == target):
                edges.setdefault(me, set()).add(target)
    # cycles between modules: collapse each module's edges to its siblings' level
    cycles = find_cycles(edges)
    for cycle in cycles:
        problems.append("module cycle: " + " -> ".join("::".join(m) or "crate" for m in cycle))
    if report:
        print("longest functions in src/transfer:")
        for length, where in sorted(fns, reverse=True)[:15]:
            print(f"  {length:5} {where}")
        print("largest files in src/transfer (production lines):")
        for lines, rel in sorted(sizes, reverse=True)[:10]:
            print(f"  {lines:5} {rel}")
        print(f"module cycles: {len(cycles)}")
        for cycle in cycles:
            print("  " + " -> ".join("::".join(m) for m in cycle))
        return 0
    for p in problems:
        print(f"structure: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"structure: ok (functions <= {MAX_FN} lines, files <= {MAX_FILE} lines in src/transfer, no module cycle)")
    return 0


def find_cycles(edges):
    """Cycles between sibling modules: an edge a::x -> b::y counts as an edge between the
    children of their common parent (a module may use its own parent's items freely)."""
    sib = {}
    for src, targets in edges.items():
        for dst in targets:
            k = 0
            while k < min(len(src), len(dst)) and src[k] == dst[k]:
                k += 1
            if k >= len(src) or k >= len(dst):
                continue  # one contains the other
            a, b = src[: k + 1], dst[: k + 1]
            sib.setdefault(a, set()).add(b)
    cycles, seen = [], set()
    for start in sorted(sib):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(sib.get(node, ())):
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen:
                        seen.add(key)
                        cycles.append(path + [start])
                elif nxt not in path and len(path) < 6:
                    stack.append((nxt, path + [nxt]))
    return cycles


if __name__ == "__main__":
    sys.exit(main())
