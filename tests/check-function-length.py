#!/usr/bin/env python3
"""No function in lib/ or the executables' folders runs over 150 lines (ARCHITECTURE.md, "Size").

A function longer than a screen or two hides its steps; the limit keeps each one readable. This is a
brace counter, not a C++ parser: it skips comments, string, character and raw-string literals, and
counts a body from the line of its opening brace to the line of its closing one. A brace opened by
`namespace`, `class`, `struct`, `union`, `enum` or `extern "C"` holds functions rather than being
one; every other outermost brace inside those is a function body (lambdas and blocks count towards
the function they sit in).

usage: check-function-length.py [--max N] [ROOT]     (ROOT defaults to GM_SOURCE_DIR or the checkout)
       check-function-length.py --self-test          (a planted long function must be caught)
Exit status: 0 all within the limit, 1 some function is longer (each is named), 2 usage.
"""
import os
import re
import sys
import tempfile

FOLDERS = ("lib", "git-model", "git-model-env", "git-model-bench")
SUFFIXES = (".cpp", ".hpp", ".cu", ".cuh", ".h")
CONTAINER = re.compile(r'(^|[\s;}])(namespace|class|struct|union|enum)\b|extern\s*"C"')


def strip_literals(text):
    """The text with comments and literals blanked (newlines kept, so line numbers stay right)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            k = text.find("(", i + 2)
            delim = text[i + 2:k]
            end = text.find(")" + delim + '"', k)
            end = n if end < 0 else end + len(delim) + 2
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path, limit):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_literals(f.read())
    found = []
    stack = []  # one entry per open brace: "container", "function" (start line) or "inner"
    line = 1
    statement = ""  # the text since the last ; { or }, to tell a container's brace from a function's
    for c in text:
        if c == "\n":
            line += 1
            statement += " "
        elif c == "{":
            if stack and stack[-1] != "container":
                stack.append("inner")
            elif CONTAINER.search(statement) and "(" not in statement.split("=")[0][-200:].replace("extern", ""):
                stack.append("container")
            else:
                stack.append(("function", line, " ".join(statement.split())[-70:]))
            statement = ""
        elif c == "}":
            top = stack.pop() if stack else None
            if isinstance(top, tuple) and line - top[1] + 1 > limit:
                found.append((line - top[1] + 1, top[1], top[2]))
            statement = ""
        elif c == ";":
            statement = ""
        else:
            statement += c
    return found


def check(root, limit):
    bad = []
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if name.endswith(SUFFIXES):
                    path = os.path.join(dirpath, name)
                    for length, start, what in long_functions(path, limit):
                        bad.append(f"{os.path.relpath(path, root)}:{start}: {length} lines (limit {limit}): {what}")
    for entry in bad:
        print(entry)
    if bad:
        print(f"{len(bad)} function(s) over {limit} lines: split them into named steps", file=sys.stderr)
    return 1 if bad else 0


def self_test():
    body = "\n".join(f'    total += {i}; // {{ not a brace "}}"' for i in range(151))
    planted = ("namespace gm {\nstruct S { int f() { return 1; } };\n"
               f"int long_one(int total) {{\n{body}\n    return total;\n}}\n"
               'const char* s = R"(}}}})";\n}\n')
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "lib"))
        with open(os.path.join(root, "lib", "planted.cpp"), "w") as f:
            f.write(planted)
        found = long_functions(os.path.join(root, "lib", "planted.cpp"), 150)
        if [(n, s) for n, s, _ in found] != [(154, 3)]:
            print(f"FAIL: the planted 154-line function was not found as such: {found}", file=sys.stderr)
            return 1
        if check(root, 160) != 0:
            print("FAIL: a 154-line function failed a 160-line limit", file=sys.stderr)
            return 1
    print("ok: a planted 154-line function is caught, comments and literals are skipped")
    return 0


def main(argv):
    limit, root = 150, os.environ.get("GM_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = list(argv)
    if args == ["--self-test"]:
        return self_test()
    if args[:1] == ["--max"]:
        if len(args) < 2 or not args[1].isdigit():
            print("usage: check-function-length.py [--max N] [ROOT]", file=sys.stderr)
            return 2
        limit, args = int(args[1]), args[2:]
    if len(args) > 1:
        print("usage: check-function-length.py [--max N] [ROOT]", file=sys.stderr)
        return 2
    if args:
        root = args[0]
    return check(root, limit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
