/* Native code for tests/workloads/native_scenarios.py: a C loop, a C call
 * that blocks, and a C function that calls back into Python (Python -> C
 * -> Python -> C). Built by tests/integration/test_native_live.py:
 *   cc -shared -fPIC -g -O1 -o libnative.so libnative.c
 * noinline and a used result keep every frame; the tests take the names
 * from gdb, never from this file. */
#include <unistd.h>

volatile unsigned long native_counter;

__attribute__((noinline)) void native_spin_inner(void) {
    for (;;) native_counter++;
}

__attribute__((noinline)) int native_spin(int x) {
    if (x >= 0) native_spin_inner();
    return (int)native_counter + x;
}

/* Blocks in read(2) on `fd` (a pipe nobody writes to). */
__attribute__((noinline)) int native_block(int fd) {
    char byte;
    int n = (int)read(fd, &byte, 1);
    return n + 1;
}

typedef int (*callback_t)(int);

/* Calls back into Python, which calls native_block. */
__attribute__((noinline)) int native_call_back(callback_t callback, int x) {
    int value = callback(x + 1);
    return value * 2 + 1;
}

/* Burns CPU for `iterations` rounds and returns: the C share of
 * tests/workloads/record_native_share.py. */
__attribute__((noinline)) unsigned long native_burn(unsigned long iterations) {
    unsigned long x = 0;
    for (unsigned long i = 0; i < iterations; i++) native_counter = x += i ^ (x >> 3);
    return x;
}

/* A heartbeat that needs no GIL: a thread beating every 0.5 ms, for
 * measuring whether anything stopped the process (a ptrace stop stops it;
 * the GIL does not). */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#define NATIVE_BEATS 65536
static double native_beats[NATIVE_BEATS];
static volatile unsigned long native_beat_count;

static double native_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile int native_beat_realtime;

static void *native_beat(void *unused) {
    (void)unused;
    /* Real-time, so that no busy thread of the machine delays a beat: only
     * a stop of the process does (needs root; without it, reported). */
    struct sched_param param = {.sched_priority = 1};
    native_beat_realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
    struct timespec pause = {0, 500000};
    for (;;) {
        native_beats[native_beat_count % NATIVE_BEATS] = native_now();
        __atomic_add_fetch(&native_beat_count, 1, __ATOMIC_RELEASE);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* 1 once the heartbeat runs with real-time priority. */
int native_heartbeat_realtime(void) { return native_beat_realtime; }

int native_heartbeat_start(void) {
    pthread_t thread;
    return pthread_create(&thread, NULL, native_beat, NULL);
}

/* The longest gap between consecutive beats that overlaps [t0, t1]
 * (CLOCK_MONOTONIC seconds, time.monotonic()'s clock); -1 if none. */
double native_longest_gap(double t0, double t1) {
    unsigned long count = __atomic_load_n(&native_beat_count, __ATOMIC_ACQUIRE);
    unsigned long first = count > NATIVE_BEATS ? count - NATIVE_BEATS + 1 : 0;
    double longest = -1;
    for (unsigned long i = first + 1; i < count; i++) {
        double a = native_beats[(i - 1) % NATIVE_BEATS], b = native_beats[i % NATIVE_BEATS];
        if (b >= t0 && a <= t1 && b - a > longest) longest = b - a;
    }
    return longest;
}
