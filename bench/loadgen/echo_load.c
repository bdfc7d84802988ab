/*
 * echo_load: a single-threaded epoll TCP load generator for echo servers.
 *
 * Load mode (closed loop):
 *   echo_load --host 127.0.0.1 --port P --connections N --pipeline K --size BYTES
 *             --duration SEC --warmup SEC [--json]
 *   Each connection keeps K messages of BYTES in flight. A message is done when
 *   all of its echoed bytes are back; then the next one is sent. Every received
 *   byte is checked against what was sent (each connection sends its own offset
 *   into a pseudo-random pattern, so a byte from the wrong connection or the
 *   wrong place is caught). Latency is measured per message, from just before
 *   the send() that carries its first byte (on loopback that call delivers the
 *   bytes and wakes the server, so a stamp taken after it returns under-reports
 *   by a large share of the round trip) to the arrival of its last echoed byte, and
 *   kept in a log-linear histogram (hist.h); messages that finish during the
 *   warm-up are not counted. Reports messages/s, MiB/s of payload (one way),
 *   p50/p99/p99.9/max in microseconds, errors, mismatched bytes, and the CPU this
 *   process used during the measurement (near 100 % means the generator, not the
 *   server, may be the limit). It checks itself with Little's law: mean latency
 *   x messages/s / (connections x pipeline) should be about 1 in a closed loop
 *   ("littles_law_ratio"); a warning on stderr when it is outside 0.9-1.1.
 *
 * Idle mode:
 *   echo_load --host H --port P --idle N --hold SEC [--touch] [--json]
 *   Opens N connections (at most --batch connects outstanding at once, so the
 *   server's backlog is not flooded), prints one line once they are up (stdout,
 *   flushed: a script can measure the server now), holds them SEC seconds, then
 *   exits. With --touch each connection first echoes one 32-byte message, which
 *   also proves the server accepted it.
 *
 * build: gcc -O2 -Wall -o echo_load echo_load.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common.h"
#include "hist.h"

#define MAX_IO (256 * 1024) /* largest single send()/recv() */
#define MAX_EVENTS 512

enum { C_NEW, C_CONNECTING, C_OPEN, C_DEAD };

struct conn {
    int fd;
    int state;
    bool out_armed;      /* EPOLLOUT in the interest set */
    uint32_t seed;       /* this connection's offset into the pattern */
    uint64_t sent;       /* stream bytes handed to send() */
    uint64_t recvd;      /* stream bytes received */
    uint64_t done;       /* messages fully echoed */
    uint64_t stamped;    /* messages whose send time is recorded */
    uint64_t *ts;        /* send time of message m is ts[m % pipeline] */
};

static struct {
    const char *host;
    int port;
    long connections, pipeline, size;
    double duration, warmup;
    long idle;
    double hold;
    long batch;
    double connect_timeout;
    bool touch, json;
    const char *source;  /* comma-separated local addresses, one per connection in turn (NULL: the kernel picks) */
} opt = {
    .host = "127.0.0.1", .connections = 1, .pipeline = 1, .size = 32,
    .duration = 5, .warmup = 1, .hold = 10, .batch = 256, .connect_timeout = 30,
};

static struct conn *conns;
static int ep;
static unsigned char *pat;
static unsigned char rbuf[MAX_IO];
static struct sockaddr_storage addr;
static socklen_t addrlen;
#define MAX_SOURCES 16
static struct sockaddr_storage sources[MAX_SOURCES];
static socklen_t source_lens[MAX_SOURCES];
static int nsources;
static long next_source;

static struct {
    uint64_t messages;         /* completed inside the measurement window */
    uint64_t errors;           /* connections lost (reset, early EOF, send error) */
    uint64_t connect_errors;
    uint64_t mismatches;       /* received bytes that differ from what was sent */
    uint64_t excess;           /* bytes echoed beyond what was sent */
    struct hist lat;
    double lat_sum_ns;         /* for the mean, which Little's law needs */
} st;

static void usage(void)
{
    fprintf(stderr,
        "usage: echo_load [--host H] --port P [--connections N] [--pipeline K] [--size BYTES]\n"
        "                 [--duration SEC] [--warmup SEC] [--json]\n"
        "       echo_load [--host H] --port P --idle N [--hold SEC] [--touch] [--json]\n"
        "       common: [--batch N] max outstanding connects (256), [--connect-timeout SEC] (30)\n"
        "               [--source A[,B...]] local addresses taken in turn: each adds its own ephemeral\n"
        "               port range, for more connections to one server port than one address allows\n");
    exit(2);
}

static void set_events(struct conn *c, unsigned events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void kill_conn(struct conn *c, bool is_error)
{
    if (c->state == C_DEAD) return;
    if (is_error) st.errors++;
    close(c->fd);
    c->state = C_DEAD;
}

/* ---- connecting ------------------------------------------------------------ */

static int start_connect(struct conn *c)
{
    c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { perror("socket"); return -1; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nsources) {
        /* Port 0 and IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect() for the whole 4-tuple, so each
         * source address has the full ephemeral range to this server port. */
        int i = (int)(next_source++ % nsources);
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&sources[i], source_lens[i]) < 0) {
            perror("bind --source");
            close(c->fd);
            return -1;
        }
    }
    if (connect(c->fd, (struct sockaddr *)&addr, addrlen) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->state = C_CONNECTING;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) { perror("epoll_ctl"); exit(1); }
    return 0;
}

/* Connects n connections with at most opt.batch connects outstanding. Returns
 * the number that connected; the rest are counted in st.connect_errors. */
static long connect_all(long n)
{
    struct epoll_event evs[MAX_EVENTS];
    long next = 0, pending = 0, ok = 0;
    uint64_t deadline = now_ns() + (uint64_t)(opt.connect_timeout * 1e9);
    while (next < n || pending > 0) {
        while (next < n && pending < opt.batch) {
            struct conn *c = &conns[next++];
            if (start_connect(c) == 0) pending++;
            else { c->state = C_DEAD; st.connect_errors++; }
        }
        if (now_ns() > deadline) break;
        int k = epoll_wait(ep, evs, MAX_EVENTS, 100);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != C_CONNECTING) continue;
            int err = 0; socklen_t el = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            pending--;
            if (err) {
                if (st.connect_errors == 0) fprintf(stderr, "echo_load: connect: %s\n", strerror(err));
                close(c->fd); c->state = C_DEAD; st.connect_errors++;
                continue;
            }
            c->state = C_OPEN;
            set_events(c, EPOLLIN);
            ok++;
        }
    }
    for (long i = 0; i < n; i++) /* timed out */
        if (conns[i].state == C_CONNECTING) { close(conns[i].fd); conns[i].state = C_DEAD; st.connect_errors++; }
    return ok;
}

/* ---- load mode --------------------------------------------------------------- */

static uint64_t t_measure, t_end;

/* Sends until `pipeline` messages are in flight or the socket is full. */
static void pump_send(struct conn *c)
{
    uint64_t target = (c->done + (uint64_t)opt.pipeline) * (uint64_t)opt.size;
    while (c->sent < target) {
        size_t len = target - c->sent;
        if (len > MAX_IO) len = MAX_IO;
        const unsigned char *p = pat + (c->seed + c->sent) % PAT_LEN;
        uint64_t before = now_ns(); /* taken before the call that carries the first byte */
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->out_armed) { set_events(c, EPOLLIN | EPOLLOUT); c->out_armed = true; }
                return;
            }
            kill_conn(c, true);
            return;
        }
        c->sent += (uint64_t)n;
        /* Stamp every message whose first byte this call carried. */
        while (c->stamped * (uint64_t)opt.size < c->sent) {
            c->ts[c->stamped % (uint64_t)opt.pipeline] = before;
            c->stamped++;
        }
    }
    if (c->out_armed) { set_events(c, EPOLLIN); c->out_armed = false; }
}

static void count_mismatches(const unsigned char *got, const unsigned char *want, size_t n)
{
    for (size_t i = 0; i < n; i++) st.mismatches += got[i] != want[i];
}

/* Reads until the socket is drained (a short read), at most MAX_TURN times per
 * event. Draining matters for big messages: the kernel reopens the receive
 * window only when the queue shrinks enough, and a sender stuck on a closed
 * window otherwise waits for a delayed-ACK timer. */
#define MAX_TURN 8
static void on_readable(struct conn *c)
{
    for (int turn = 0; turn < MAX_TURN && c->state == C_OPEN; turn++) {
        ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (n == 0) { kill_conn(c, true); return; } /* the server closed on us */
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            kill_conn(c, true);
            return;
        }
        uint64_t now = now_ns();
        size_t valid = (size_t)n;
        if (c->recvd + valid > c->sent) { /* more came back than we sent */
            st.excess += c->recvd + valid - c->sent;
            valid = (size_t)(c->sent - c->recvd);
        }
        const unsigned char *want = pat + (c->seed + c->recvd) % PAT_LEN;
        if (memcmp(rbuf, want, valid) != 0) count_mismatches(rbuf, want, valid);
        c->recvd += valid;

        bool measuring = now >= t_measure && now < t_end;
        while ((c->done + 1) * (uint64_t)opt.size <= c->recvd) {
            if (measuring) {
                uint64_t lat = now - c->ts[c->done % (uint64_t)opt.pipeline];
                hist_record(&st.lat, lat);
                st.lat_sum_ns += (double)lat;
                st.messages++;
            }
            c->done++;
        }
        pump_send(c);
        if ((size_t)n < sizeof rbuf) return; /* drained: skip the EAGAIN call */
    }
}

static int run_load(void)
{
    long n = opt.connections;
    for (long i = 0; i < n; i++) {
        conns[i].ts = calloc((size_t)opt.pipeline, sizeof(uint64_t));
        if (!conns[i].ts) { perror("calloc"); return 1; }
        conns[i].seed = (uint32_t)((i * 7919u) % PAT_LEN);
    }
    long connected = connect_all(n);
    if (connected == 0) {
        fprintf(stderr, "echo_load: no connection to %s:%d could be made\n", opt.host, opt.port);
    }

    uint64_t t0 = now_ns();
    t_measure = t0 + (uint64_t)(opt.warmup * 1e9);
    t_end = t_measure + (uint64_t)(opt.duration * 1e9);
    for (long i = 0; i < n; i++) if (conns[i].state == C_OPEN) pump_send(&conns[i]);

    uint64_t cpu0 = 0, cpu1 = 0;
    bool measuring = false;
    struct epoll_event evs[MAX_EVENTS];
    long alive = connected;
    while (alive > 0) {
        uint64_t now = now_ns();
        if (!measuring && now >= t_measure) { measuring = true; cpu0 = cpu_ns(); }
        if (now >= t_end) break;
        uint64_t next = measuring ? t_end : t_measure;
        int timeout_ms = (int)((next - now) / 1000000u) + 1;
        if (timeout_ms > 100) timeout_ms = 100;
        int k = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != C_OPEN) continue;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
            if (c->state == C_OPEN && (evs[i].events & EPOLLOUT)) pump_send(c);
            if (c->state != C_OPEN) alive--;
        }
    }
    uint64_t t_stop = now_ns();
    cpu1 = cpu_ns();
    if (!measuring) cpu0 = cpu1;
    /* If every connection died, the window ended early: rate over what ran. */
    uint64_t end = t_stop < t_end ? t_stop : t_end;
    double secs = end > t_measure ? (double)(end - t_measure) / 1e9 : 0;
    double cpu_pct = secs > 0 ? 100.0 * (double)(cpu1 - cpu0) / 1e9 / ((double)(t_stop - t_measure) / 1e9) : 0;
    for (long i = 0; i < n; i++) if (conns[i].state == C_OPEN) kill_conn(&conns[i], false);

    double mps = secs > 0 ? (double)st.messages / secs : 0;
    double mibs = mps * (double)opt.size / (1024.0 * 1024.0);
    double p50 = hist_quantile(&st.lat, 0.50) / 1e3, p99 = hist_quantile(&st.lat, 0.99) / 1e3;
    double p999 = hist_quantile(&st.lat, 0.999) / 1e3, pmax = st.lat.max / 1e3;
    double mean_us = st.lat.count ? st.lat_sum_ns / (double)st.lat.count / 1e3 : 0;
    double littles = connected > 0 ? mean_us / 1e6 * mps / (double)(connected * opt.pipeline) : 0;
    if (st.lat.count && (littles < 0.9 || littles > 1.1))
        fprintf(stderr, "echo_load: Little's law ratio %.2f is outside 0.9-1.1: the window was not kept full or the clock is wrong\n", littles);
    uint64_t errors = st.errors + st.connect_errors;
    if (opt.json) {
        printf("{\"mode\":\"load\",\"host\":\"%s\",\"port\":%d,\"connections\":%ld,\"connected\":%ld,"
               "\"pipeline\":%ld,\"size\":%ld,\"duration_s\":%.3f,\"warmup_s\":%.3f,"
               "\"messages\":%llu,\"msg_per_s\":%.1f,\"mib_per_s\":%.2f,"
               "\"mean_us\":%.1f,\"littles_law_ratio\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
               "\"errors\":%llu,\"connect_errors\":%llu,\"mismatches\":%llu,\"excess_bytes\":%llu,"
               "\"client_cpu_pct\":%.1f}\n",
               opt.host, opt.port, n, connected, opt.pipeline, opt.size, secs, opt.warmup,
               (unsigned long long)st.messages, mps, mibs, mean_us, littles, p50, p99, p999, pmax,
               (unsigned long long)errors, (unsigned long long)st.connect_errors,
               (unsigned long long)st.mismatches, (unsigned long long)st.excess, cpu_pct);
    } else {
        printf("echo_load %s:%d  connections %ld (connected %ld)  pipeline %ld  size %ld B  %.1f s (+%.1f s warm-up)\n",
               opt.host, opt.port, n, connected, opt.pipeline, opt.size, secs, opt.warmup);
        printf("  %llu messages  %.0f msg/s  %.2f MiB/s payload each way\n",
               (unsigned long long)st.messages, mps, mibs);
        printf("  latency us  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f  (Little's law ratio %.3f)\n", p50, p99, p999, pmax, mean_us, littles);
        printf("  errors %llu (connect %llu)  mismatched bytes %llu  excess bytes %llu  load generator cpu %.0f%%\n",
               (unsigned long long)errors, (unsigned long long)st.connect_errors,
               (unsigned long long)st.mismatches, (unsigned long long)st.excess, cpu_pct);
    }
    fflush(stdout);
    return (errors || st.mismatches || st.excess || connected == 0) ? 1 : 0;
}

/* ---- idle mode ----------------------------------------------------------- */

#define TOUCH_SIZE 32

/* Echo one small message on every open connection; returns how many came back intact. */
static long touch_all(long n)
{
    long waiting = 0, ok = 0;
    for (long i = 0; i < n; i++) {
        struct conn *c = &conns[i];
        if (c->state != C_OPEN) continue;
        if (send(c->fd, pat + c->seed, TOUCH_SIZE, MSG_NOSIGNAL) != TOUCH_SIZE) { kill_conn(c, true); continue; }
        waiting++;
    }
    uint64_t deadline = now_ns() + (uint64_t)(opt.connect_timeout * 1e9);
    struct epoll_event evs[MAX_EVENTS];
    while (waiting > 0 && now_ns() < deadline) {
        int k = epoll_wait(ep, evs, MAX_EVENTS, 100);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != C_OPEN || c->recvd >= TOUCH_SIZE) continue;
            ssize_t r = recv(c->fd, rbuf, TOUCH_SIZE - c->recvd, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) { kill_conn(c, true); waiting--; continue; }
            if (memcmp(rbuf, pat + c->seed + c->recvd, (size_t)r) != 0)
                count_mismatches(rbuf, pat + c->seed + c->recvd, (size_t)r);
            c->recvd += (uint64_t)r;
            if (c->recvd == TOUCH_SIZE) { waiting--; ok++; }
        }
    }
    return ok;
}

static int run_idle(void)
{
    long n = opt.idle;
    long limit = raise_nofile(n + 64);
    if (limit < n + 16) {
        fprintf(stderr, "echo_load: descriptor limit %ld is too low for %ld connections\n", limit, n);
        return 1;
    }
    for (long i = 0; i < n; i++) conns[i].seed = (uint32_t)((i * 7919u) % PAT_LEN);
    uint64_t t0 = now_ns();
    long connected = connect_all(n);
    long touched = opt.touch ? touch_all(n) : -1;
    double ms = (double)(now_ns() - t0) / 1e6;
    if (opt.json)
        printf("{\"mode\":\"idle\",\"requested\":%ld,\"connected\":%ld,\"connect_errors\":%llu,"
               "\"touched\":%ld,\"mismatches\":%llu,\"connect_ms\":%.0f}\n",
               n, connected, (unsigned long long)st.connect_errors, touched,
               (unsigned long long)st.mismatches, ms);
    else
        printf("connected %ld/%ld (errors %llu, touched %ld) in %.0f ms; holding %.1f s\n",
               connected, n, (unsigned long long)st.connect_errors, touched, ms, opt.hold);
    fflush(stdout);

    /* Hold. Any readiness now means the server closed or reset an idle connection. */
    uint64_t until = now_ns() + (uint64_t)(opt.hold * 1e9);
    uint64_t dropped = 0;
    struct epoll_event evs[MAX_EVENTS];
    for (uint64_t now; (now = now_ns()) < until;) {
        int timeout_ms = (int)((until - now) / 1000000u) + 1;
        int k = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms > 100 ? 100 : timeout_ms);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != C_OPEN) continue;
            ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) { kill_conn(c, false); dropped++; }
        }
    }
    if (dropped) fprintf(stderr, "echo_load: the server dropped %llu idle connections\n", (unsigned long long)dropped);
    for (long i = 0; i < n; i++) if (conns[i].state == C_OPEN) kill_conn(&conns[i], false);
    return (connected < n || dropped || st.mismatches) ? 1 : 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--host")) { if (!v) usage(); opt.host = v; i++; }
        else if (!strcmp(a, "--port")) { opt.port = (int)parse_long(a, v, 1, 65535); i++; }
        else if (!strcmp(a, "--connections")) { opt.connections = parse_long(a, v, 1, 1000000); i++; }
        else if (!strcmp(a, "--pipeline")) { opt.pipeline = parse_long(a, v, 1, 1 << 20); i++; }
        else if (!strcmp(a, "--size")) { opt.size = parse_long(a, v, 1, 64L << 20); i++; }
        else if (!strcmp(a, "--duration")) { opt.duration = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--warmup")) { opt.warmup = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--idle")) { opt.idle = parse_long(a, v, 1, 1000000); i++; }
        else if (!strcmp(a, "--hold")) { opt.hold = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--batch")) { opt.batch = parse_long(a, v, 1, 100000); i++; }
        else if (!strcmp(a, "--connect-timeout")) { opt.connect_timeout = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--source")) { if (!v) usage(); opt.source = v; i++; }
        else if (!strcmp(a, "--touch")) opt.touch = true;
        else if (!strcmp(a, "--json")) opt.json = true;
        else usage();
    }
    if (!opt.port) usage();
    signal(SIGPIPE, SIG_IGN);
    if (resolve(opt.host, opt.port, SOCK_STREAM, &addr, &addrlen) < 0) return 2;
    if (opt.source) {
        char list[1024];
        snprintf(list, sizeof list, "%s", opt.source);
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (nsources == MAX_SOURCES) { fprintf(stderr, "echo_load: at most %d --source addresses\n", MAX_SOURCES); return 2; }
            if (resolve(tok, 0, SOCK_STREAM, &sources[nsources], &source_lens[nsources]) < 0) return 2;
            nsources++;
        }
    }

    long n = opt.idle ? opt.idle : opt.connections;
    if (!opt.idle && raise_nofile(n + 64) < n + 16) {
        fprintf(stderr, "echo_load: descriptor limit too low for %ld connections\n", n);
        return 1;
    }
    conns = calloc((size_t)n, sizeof *conns);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0) { perror("setup"); return 1; }
    pat = make_pattern(MAX_IO);
    hist_init(&st.lat);
    return opt.idle ? run_idle() : run_load();
}
