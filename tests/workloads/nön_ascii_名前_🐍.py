"""Non-ASCII scenario for the `pyhang dump` integration tests.

The file name holds Latin-1, CJK and an astral character (an emoji cannot be
an identifier, but it can be a file name), so co_filename is a UCS-4 string.
The call chain below has names of every str width: Latin-1 (1 byte per
character but not ASCII), CJK (UCS-2) and Gothic letters (UCS-4).
dump_scenarios.py loads this module by path and runs entrée() in a thread.
"""


class Café:
    def attendre_là(self, gate):
        return 等待(gate)


def 等待(gate):
    return 𐌰𐌹𐍂𐌸𐌰(gate)


def 𐌰𐌹𐍂𐌸𐌰(gate):
    return 类别().方法(gate)


class 类别:
    def 方法(self, gate):
        gate.acquire()  # blocks forever: nobody releases `gate`
        return gate


def entrée(gate):
    return Café().attendre_là(gate)
