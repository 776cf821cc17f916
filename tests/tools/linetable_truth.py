"""Prints, as JSON, every code object of many stdlib modules with its raw
line table and the line CPython itself reports for each instruction.

Ground truth per version: dis.findlinestarts (3.8, 3.9), co_lines() (3.10),
co_positions() (3.11+). Runs on 3.8+; output: {"format", "codes": [...]}.
"""
import dis
import glob
import json
import os
import sys
import sysconfig

MAX_FILES = int(sys.argv[1]) if len(sys.argv) > 1 else 120


def code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from code_objects(const)


def lines_per_instruction(code):
    count = len(code.co_code) // 2
    if sys.version_info >= (3, 11):
        return [position[0] for position in code.co_positions()]
    if sys.version_info >= (3, 10):
        lines = [None] * count
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                lines[offset // 2] = line
        return lines
    starts = sorted(dis.findlinestarts(code))
    lines, line, index = [], code.co_firstlineno, 0
    for offset in range(0, 2 * count, 2):
        while index < len(starts) and starts[index][0] <= offset:
            line = starts[index][1]
            index += 1
        lines.append(line)
    return lines


def main():
    if sys.version_info >= (3, 11):
        fmt, table_of = "locations", lambda c: c.co_linetable
    elif sys.version_info >= (3, 10):
        fmt, table_of = "linetable310", lambda c: c.co_linetable
    else:
        fmt, table_of = "lnotab", lambda c: c.co_lnotab
    stdlib = sysconfig.get_paths()["stdlib"]
    files = sorted(glob.glob(os.path.join(stdlib, "*.py")))[:MAX_FILES]
    files += sorted(glob.glob(os.path.join(stdlib, "asyncio", "*.py")))
    codes = []
    for path in files:
        try:
            with open(path, "rb") as source:
                top = compile(source.read(), path, "exec")
        except (SyntaxError, ValueError, OSError):
            continue
        for code in code_objects(top):
            codes.append({"name": code.co_name, "first_line": code.co_firstlineno,
                          "table": table_of(code).hex(),
                          "lines": lines_per_instruction(code)})
    json.dump({"format": fmt, "version": sys.version.split()[0], "codes": codes}, sys.stdout)


if __name__ == "__main__":
    main()
