/*
 * Preloaded into the probes the gate counts (LD_PRELOAD): every request for random
 * bytes -- getrandom(2) through libc, getentropy(3), or the raw syscall -- gets the
 * same bytes on every run, from a fixed splitmix64 stream. Hash seeds, session
 * nonces and CSRF tokens are then the same for the base and the candidate, so the
 * instructions spent on them (a cookie's percent-escapes, a hash table's probes) stop
 * differing from run to run. Never used outside the gate's measurements: nothing
 * random is random under it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>

static uint64_t state = 0x243F6A8885A308D3ull;

static uint64_t next_word(void) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    (void)flags;
    unsigned char *out = buf;
    for (size_t i = 0; i < len; i++) out[i] = (unsigned char)next_word();
    return (ssize_t)len;
}

int getentropy(void *buf, size_t len) {
    getrandom(buf, len, 0);
    return 0;
}

long syscall(long number, ...) {
    va_list ap;
    long a[6];
    va_start(ap, number);
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_getrandom) return getrandom((void *)a[0], (size_t)a[1], (unsigned int)a[2]);
    static long (*real)(long, ...);
    if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
