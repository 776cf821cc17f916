"""asyncio event loops stalled by a blocking call inside a coroutine, for
`pyhang watch` (see hang_common.py for the protocol).

    python hang_asyncio.py DIRECTORY

Three threads, each running its own event loop with asyncio.run():
  loop-sleep  handle_with_sleep() calls time.sleep() (blocking) in a coroutine
  loop-recv   handle_with_recv() calls a blocking socket recv() in a coroutine
              (a socketpair whose other end never writes)
  loop-idle   a healthy loop awaiting asyncio.sleep(): idle, never reported
"""
import asyncio
import socket
import time

from hang_common import FOREVER, Scenario

SCENARIO = Scenario(expected_marks=2)


async def handle_with_sleep():
    await asyncio.sleep(0)
    SCENARIO.mark()
    time.sleep(FOREVER)  # blocks the whole event loop


async def handle_with_recv(sock):
    await asyncio.sleep(0)
    SCENARIO.mark()
    sock.recv(1)  # a blocking recv: the loop stalls until data comes (never)


async def serve_sleeping():
    await handle_with_sleep()


async def serve_receiving(sock):
    await handle_with_recv(sock)


async def serve_idle():
    while True:
        await asyncio.sleep(3600)


def main():
    quiet, _peer = socket.socketpair()
    quiet.setblocking(True)
    SCENARIO.thread("loop-sleep", "sleep", asyncio.run, serve_sleeping())
    SCENARIO.thread("loop-recv", "recv", asyncio.run, serve_receiving(quiet))
    SCENARIO.thread("loop-idle", "idle", asyncio.run, serve_idle())
    SCENARIO.info["coroutines"] = {"sleep": "handle_with_sleep", "recv": "handle_with_recv"}
    SCENARIO.ready()
    SCENARIO.sleep_forever()


if __name__ == "__main__":
    main()
