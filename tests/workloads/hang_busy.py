"""A pure-Python busy loop beside a healthy CPU-bound worker, for
`pyhang watch` (see hang_common.py for the protocol).

    python hang_busy.py DIRECTORY

"spinner" counts in `while not STOP: count += 1` forever (ready.json has the
loop's lines as "loop_lines"). "worker" computes all the time too, but in
ever different functions and recursion depths, so its stack keeps changing
(healthy_worker() is shared with hang_idle.py). The main thread sleeps.
"""
import os
import random

from hang_common import Scenario, source_lines

STOP = False


def spin(scenario):
    scenario.mark()
    count = 0
    while not STOP:  # BUSY-LOOP
        count += 1  # BUSY-LOOP


# --- a healthy worker: CPU-bound, but its stack never stays the same --------

def leaf_arithmetic(rng):
    return sum(value * value for value in range(rng.randint(500, 3000)))


def leaf_sorting(rng):
    return sorted(rng.random() for _ in range(rng.randint(200, 1500)))[:3]


def leaf_strings(rng):
    return "-".join(str(rng.randint(0, 99)) for _ in range(rng.randint(200, 1500)))[:10]


def leaf_dicts(rng):
    return len({key: key * 3 for key in range(rng.randint(300, 2000))})


LEAVES = [leaf_arithmetic, leaf_sorting, leaf_strings, leaf_dicts]


def descend(rng, depth, leaf):
    if depth > 0:
        return descend(rng, depth - 1, leaf)
    return leaf(rng)


def healthy_worker(seed=1):
    rng = random.Random(seed)
    while True:
        descend(rng, rng.randint(1, 30), rng.choice(LEAVES))


def main():
    scenario = Scenario(expected_marks=1)
    scenario.thread("worker", "worker", healthy_worker)
    scenario.thread("spinner", "spinner", spin, scenario)
    scenario.info["loop_lines"] = source_lines(os.path.abspath(__file__), "# BUSY" "-LOOP")
    scenario.info["loop_function"] = spin.__name__
    scenario.ready()
    scenario.sleep_forever()


if __name__ == "__main__":
    main()
