/* common.h: small helpers shared by echo_load and udp_load. */
#ifndef ECHO_COMMON_H
#define ECHO_COMMON_H

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time (user + system) this process has used, in ns. */
static inline uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Raise the soft descriptor limit to at least `want` (capped at the hard limit).
 * Returns the resulting soft limit. */
static inline long raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if ((rlim_t)want > rl.rlim_cur) {
        rl.rlim_cur = (rlim_t)want > rl.rlim_max ? rl.rlim_max : (rlim_t)want;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

static inline int resolve(const char *host, int port, int socktype, struct sockaddr_storage *out,
                          socklen_t *outlen)
{
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = socktype,
                              .ai_flags = AI_NUMERICSERV }, *ai;
    int gai = getaddrinfo(host, pbuf, &hints, &ai);
    if (gai) { fprintf(stderr, "%s: %s\n", host, gai_strerror(gai)); return -1; }
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *outlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static inline long parse_long(const char *flag, const char *v, long min, long max)
{
    char *end;
    errno = 0;
    long x = strtol(v ? v : "", &end, 10);
    if (!v || errno || *end || x < min || x > max) {
        fprintf(stderr, "%s: expected an integer in [%ld, %ld], got '%s'\n", flag, min, max, v ? v : "");
        exit(2);
    }
    return x;
}

static inline double parse_seconds(const char *flag, const char *v)
{
    char *end;
    double x = strtod(v ? v : "", &end);
    if (!v || *end || x < 0 || x > 86400) {
        fprintf(stderr, "%s: expected seconds in [0, 86400], got '%s'\n", flag, v ? v : "");
        exit(2);
    }
    return x;
}

/* A fixed pseudo-random byte pattern; byte i of a connection's stream is
 * pattern[(seed + i) % PAT_LEN]. PAT_LEN is prime so message boundaries never
 * line up with the pattern, and the buffer holds PAT_LEN + extra bytes so any
 * window of up to `extra` bytes starting below PAT_LEN is contiguous. */
#define PAT_LEN 65521u
static inline unsigned char *make_pattern(size_t extra)
{
    unsigned char *p = malloc(PAT_LEN + extra);
    if (!p) { perror("malloc"); exit(1); }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < PAT_LEN; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
    for (size_t i = 0; i < extra; i++) p[PAT_LEN + i] = p[i % PAT_LEN];
    return p;
}

#endif
