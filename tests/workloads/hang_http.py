"""HTTP clients waiting on a server that never answers, for `pyhang watch`
(see hang_common.py for the protocol).

    python hang_http.py DIRECTORY

A server thread listens on 127.0.0.1 (an ephemeral port, in ready.json as
"port"), accepts every connection, keeps it open and never sends a byte; it
waits in accept() in between (an idle server, never reported). Two client
threads send a GET without a timeout, one with http.client, one with
urllib.request, and wait for the response forever.
"""
import http.client
import socket
import urllib.request

from hang_common import Scenario

SCENARIO = Scenario(expected_marks=2)
KEPT = []


def serve(listener):
    while True:
        connection, _ = listener.accept()
        KEPT.append(connection)  # never read, never answered, never closed


def http_client(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/never-answered")
    SCENARIO.mark()
    connection.getresponse()  # waits for the status line forever


def urllib_client(port):
    SCENARIO.mark()  # connect and send take microseconds; then it waits forever
    urllib.request.urlopen("http://127.0.0.1:%d/never-answered-either" % port)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    SCENARIO.thread("silent-server", "server", serve, listener)
    SCENARIO.thread("http-client", "client", http_client, port)
    SCENARIO.thread("urllib-client", "client", urllib_client, port)
    SCENARIO.info["port"] = port
    SCENARIO.ready()
    SCENARIO.sleep_forever()


if __name__ == "__main__":
    main()
