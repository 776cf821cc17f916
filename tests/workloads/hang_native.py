"""A C function that loops forever while holding the GIL, and a thread
starving for the GIL, for `pyhang watch` (see hang_common.py).

    python hang_native.py DIRECTORY LIBRARY.so SYMBOL [early|late]

LIBRARY.so (built by the harness) exports SYMBOL, a C loop that never
returns. "native-looper" calls it through ctypes.PyDLL, which keeps the GIL
during the call. "gil-starver" runs Python code, so from then on it waits
for the GIL forever. Nothing else can run Python after that, so the looper
publishes the marks itself (its own and the starver's: both get stuck at
that moment) right before the call, and the main thread waits in
signal.pause(), which needs no GIL.

early (default): the library is loaded at start-up, before ready.json, like
  a C extension imported by the program.
late: the looper computes in Python for 0.5 s after go (pyhang samples it),
  and only then loads the library (a plugin loaded while being watched).
"""
import ctypes
import signal
import time

from hang_common import Scenario

SCENARIO = Scenario()
STARVER = {}


def starve():
    total = 0
    while True:
        total = (total + 1) % 1000003  # needs the GIL for every bytecode


def warm_up(seconds):
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        total += sum(range(1000))
    return total


def loop_in_c(library, symbol, late):
    if late:
        warm_up(0.5)
        library = ctypes.PyDLL(library)
    else:
        time.sleep(0.2)  # the starver is computing by now
    function = getattr(library, symbol)
    function.restype = None
    function.argtypes = []
    moment = time.monotonic()
    SCENARIO.mark(moment=moment)
    SCENARIO.mark(tid=STARVER["tid"], moment=moment)
    SCENARIO.write_stuck()
    function()  # never returns, never releases the GIL


def main():
    path, symbol = SCENARIO.args[0], SCENARIO.args[1]
    late = len(SCENARIO.args) > 2 and SCENARIO.args[2] == "late"
    library = path if late else ctypes.PyDLL(path)
    starver = SCENARIO.thread("gil-starver", "starver", starve)
    STARVER["tid"] = starver.native_id
    SCENARIO.thread("native-looper", "looper", loop_in_c, library, symbol, late)
    SCENARIO.info["symbol"] = symbol
    SCENARIO.info["library_loaded"] = "late" if late else "early"
    SCENARIO.ready()
    signal.pause()  # sleeps without the GIL; the harness kills the process


if __name__ == "__main__":
    main()
