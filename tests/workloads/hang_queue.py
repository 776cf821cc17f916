"""Queue consumers whose producer died, for `pyhang watch` (see hang_common.py).

    python hang_queue.py DIRECTORY [CONSUMERS]

A producer thread puts a few items into a queue.Queue, then raises (an
uncaught exception ends the thread; its traceback goes to stderr). The
consumers wait in Queue.get() for the next item forever. Each consumer marks
the moment before every get(); the last one is when it got stuck. Once the
queue is empty and the producer is gone, the main thread publishes the marks
and sleeps in a loop.
"""
import queue
import time

from hang_common import Scenario

SCENARIO = Scenario()
WORK = queue.Queue()
DONE = []


def produce(items):
    for item in range(items):
        WORK.put(item)
        time.sleep(0.01)
    raise RuntimeError("producer died after %d items (on purpose)" % items)


def consume():
    while True:
        SCENARIO.mark()
        item = WORK.get()  # blocks forever once the producer is gone
        DONE.append(item)


def main():
    consumers = int(SCENARIO.args[0]) if SCENARIO.args else 3
    for index in range(consumers):
        SCENARIO.thread("consumer-%d" % index, "consumer", consume)
    producer = SCENARIO.thread("producer", "producer", produce, 5)
    SCENARIO.ready()
    while producer.is_alive() or not WORK.empty() or len(SCENARIO.marks) < consumers:
        time.sleep(0.005)
    time.sleep(0.2)  # the consumers are back in get()
    SCENARIO.write_stuck()
    SCENARIO.sleep_forever()


if __name__ == "__main__":
    main()
