"""A target whose names try to drive the terminal: a thread name, a
function name, a code object's file name, a local's name and value, and the
command line carry ESC sequences, BEL, CR/LF and a C1 CSI. Writes
READY_FILE (JSON: the truth as the interpreter holds it) once the thread
waits.

Usage: hostile_names.py READY_FILE [ARG...]
"""
import json
import os
import sys
import threading
import time

NAME = "na\x1b]0;owned\x07me\r\nThread 1 (running): \"fake\""
FUNCTION = "ev\x1b[2Jil\x9b31m"
FILE = "/tmp/\x1b[31mred\x07.py"
LOCAL = "lo\x1b[8mcal"
VALUE_ATTRIBUTE = "at\x1b[1mtr"


class Box:
    pass


def main():
    source = ("def %s(started, gate):\n"
              "    %s = Box()\n"
              "    setattr(local_name, ATTRIBUTE, 'v\\x1b[0m')\n"
              "    started.set()\n"
              "    gate.wait()\n") % ("target", "local_name")
    code = compile(source, FILE, "exec")
    namespace = {"Box": Box, "ATTRIBUTE": VALUE_ATTRIBUTE}
    exec(code, namespace)
    function = namespace["target"]
    fcode = function.__code__
    names = {"co_name": FUNCTION, "co_varnames": tuple(LOCAL if n == "local_name" else n for n in fcode.co_varnames)}
    if sys.version_info >= (3, 11):
        names["co_qualname"] = FUNCTION
    function.__code__ = fcode.replace(**names)
    started, gate = threading.Event(), threading.Event()
    thread = threading.Thread(target=function, args=(started, gate), name=NAME, daemon=True)
    thread.start()
    started.wait()
    ready = {"pid": os.getpid(), "tid": thread.native_id, "name": NAME, "function": FUNCTION,
             "file": FILE, "local": LOCAL, "argv": sys.argv}
    with open(sys.argv[1] + ".tmp", "w") as out:
        json.dump(ready, out)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(1000)


if __name__ == "__main__":
    main()
