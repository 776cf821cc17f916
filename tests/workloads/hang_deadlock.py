"""Deadlocks, for `pyhang watch` (see hang_common.py for the protocol).

    python hang_deadlock.py DIRECTORY MODE

MODE:
  with     two Locks taken in opposite order with `with` blocks
  acquire  the same with bare acquire()/release()
  rlock    two RLocks taken in opposite order with `with` blocks
  three    a three-thread cycle: A holds 1 wants 2, B holds 2 wants 3,
           C holds 3 wants 1

ready.json adds "locks" ({name: {"address": hex(id(lock)), "type"}}) and
"edges" ([{"role", "holds", "wants"}]), which say who holds what.
The main thread sleeps in a loop (never reported).
"""
import threading

from hang_common import Scenario, type_name

SCENARIO = None  # set in main()


def with_blocks(first, second, barrier):
    with first:
        barrier.wait()
        SCENARIO.mark()
        with second:  # waits forever for the other thread
            pass


def bare_acquire(first, second, barrier):
    first.acquire()
    barrier.wait()
    SCENARIO.mark()
    second.acquire()  # waits forever for the other thread
    second.release()
    first.release()


def main():
    global SCENARIO
    scenario = Scenario()
    SCENARIO = scenario
    mode = scenario.args[0]
    if mode == "three":
        names, roles = ["lock1", "lock2", "lock3"], ["A", "B", "C"]
    else:
        names, roles = ["lock1", "lock2"], ["A", "B"]
    factory = threading.RLock if mode == "rlock" else threading.Lock
    locks = [factory() for _ in names]
    body = bare_acquire if mode == "acquire" else with_blocks
    scenario.expected_marks = len(roles)
    barrier = threading.Barrier(len(roles))
    edges = []
    for index, role in enumerate(roles):
        held, wanted = index, (index + 1) % len(roles)
        scenario.thread("deadlock-%s" % role, role, body, locks[held], locks[wanted], barrier)
        edges.append({"role": role, "holds": names[held], "wants": names[wanted]})
    scenario.info["mode"] = mode
    scenario.info["function"] = body.__name__
    scenario.info["locks"] = {name: {"address": hex(id(lock)), "type": type_name(lock)}
                              for name, lock in zip(names, locks)}
    scenario.info["edges"] = edges
    scenario.ready()
    scenario.sleep_forever()


if __name__ == "__main__":
    main()
