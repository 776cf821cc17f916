/* A shared library whose entry point crashes by reading address 0, three
 * native frames below the ctypes call, for tests/workloads/crash_in_c.py.
 *
 * Built by tests/integration/test_core_crash.py into a temporary directory:
 *   cc -shared -fPIC -g -O1 -o libcrash.so libcrash.c
 *
 * Nothing here names itself to the tests: they take the function names from
 * gdb's view of the core. Each function is noinline and uses the result of
 * the call it makes, so -O1 keeps every frame (no inlining, no tail calls);
 * the pointer is volatile, so the load at address 0 really happens (no trap
 * instruction in its place) and the fault address is 0.
 */
#include <stddef.h>

static int *volatile null_pointer = NULL;

__attribute__((noinline)) int crash_null(int depth)
{
    int value = *null_pointer; /* SIGSEGV, si_addr 0 */
    return value + depth;
}

__attribute__((noinline)) int crash_middle(int depth)
{
    int value = crash_null(depth + 1);
    return value * 3 + 1;
}

/* The function Python calls through ctypes.PyDLL (the GIL stays held). */
__attribute__((noinline)) int crash_entry(int depth)
{
    int value = crash_middle(depth + 1);
    return value * 5 + 2;
}
