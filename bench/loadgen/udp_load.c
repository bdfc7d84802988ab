/*
 * udp_load: a UDP echo load generator.
 *
 *   udp_load [--host 127.0.0.1] --port P [--size BYTES] [--window K]
 *            [--duration SEC] [--warmup SEC] [--timeout-ms MS] [--json]
 *
 * Sends datagrams of BYTES (>= 16) that carry a sequence number, keeping at most
 * K unanswered at a time (a fixed window, so the rate adapts to the server and
 * bursts never exceed K datagrams). A datagram not answered within --timeout-ms
 * is counted lost and frees its window slot. Every reply is checked: its length,
 * its sequence number (unknown = mismatch, already answered = duplicate, later
 * than a reply to a newer datagram = reordered, after its timeout = late) and
 * its payload bytes. Datagrams sent during the warm-up are not counted. After
 * the measurement the generator stops sending and waits up to one timeout for
 * the stragglers.
 *
 * Reports datagrams/s answered, sent, lost, duplicated, reordered, late,
 * mismatched, round-trip p50/p99/p99.9/max in microseconds and its own CPU use.
 *
 * build: gcc -O2 -Wall -o udp_load udp_load.c
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <unistd.h>

#include "common.h"
#include "hist.h"

#define RING (1u << 20) /* datagrams tracked at once; older ones are declared lost */
#define HDR 16
#define MAX_DGRAM 65507

enum { E_FREE, E_OUT, E_ANSWERED, E_LOST };

struct entry {
    uint64_t sent_ns;
    uint64_t seq;
    uint8_t state;
    uint8_t measured;
};

static struct {
    const char *host;
    int port;
    long size, window;
    double duration, warmup;
    long timeout_ms;
    bool json;
} opt = { .host = "127.0.0.1", .size = 64, .window = 32, .duration = 5, .warmup = 1, .timeout_ms = 200 };

static struct {
    uint64_t sent, answered, lost, duplicates, reordered, late, mismatches, send_errors, recv_errors;
    struct hist lat;
} st;

static struct entry *ring;
static unsigned char *pat;
#define BATCH 32u
static unsigned char sbuf[BATCH][MAX_DGRAM], rbuf[BATCH][MAX_DGRAM + 1];
static struct mmsghdr smsg[BATCH], rmsg[BATCH];
static struct iovec siov[BATCH], riov[BATCH];
static uint64_t next_seq, oldest, outstanding, max_seq_seen;
static bool seen_any;

static void usage(void)
{
    fprintf(stderr, "usage: udp_load [--host H] --port P [--size BYTES] [--window K] [--duration SEC]\n"
                    "                [--warmup SEC] [--timeout-ms MS] [--json]\n");
    exit(2);
}

static const unsigned char *payload_for(uint64_t seq) { return pat + (seq * 7919u) % PAT_LEN; }

static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#define MAGIC 0x45434b5544504c44ull /* "ECKUDPLD" */

/* Retire the oldest slots: answered ones are done, overdue ones are lost. */
static void expire(uint64_t now, bool force_all)
{
    uint64_t timeout = (uint64_t)opt.timeout_ms * 1000000u;
    while (oldest < next_seq) {
        struct entry *e = &ring[oldest % RING];
        if (e->state == E_OUT) {
            bool overdue = force_all || now - e->sent_ns > timeout || next_seq - oldest >= RING;
            if (!overdue) break;
            e->state = E_LOST;
            outstanding--;
            if (e->measured) st.lost++;
        }
        oldest++;
    }
}

static void on_reply(const unsigned char *rbuf, ssize_t n, uint64_t now)
{
    if (n < HDR || get64(rbuf + 8) != MAGIC) { st.mismatches++; return; }
    uint64_t seq = get64(rbuf);
    if (seq >= next_seq || next_seq - seq > RING) { st.mismatches++; return; }
    struct entry *e = &ring[seq % RING];
    if (e->seq != seq) { st.mismatches++; return; }
    if (n != opt.size || memcmp(rbuf + HDR, payload_for(seq), (size_t)(n - HDR)) != 0) {
        st.mismatches++;
        return;
    }
    if (seen_any && seq < max_seq_seen) st.reordered++;
    if (!seen_any || seq > max_seq_seen) { max_seq_seen = seq; seen_any = true; }
    switch (e->state) {
    case E_ANSWERED: st.duplicates++; break;
    case E_LOST: st.late++; break;
    case E_OUT:
        e->state = E_ANSWERED;
        outstanding--;
        if (e->measured) { st.answered++; hist_record(&st.lat, now - e->sent_ns); }
        break;
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--host")) { if (!v) usage(); opt.host = v; i++; }
        else if (!strcmp(a, "--port")) { opt.port = (int)parse_long(a, v, 1, 65535); i++; }
        else if (!strcmp(a, "--size")) { opt.size = parse_long(a, v, HDR, MAX_DGRAM); i++; }
        else if (!strcmp(a, "--window") || !strcmp(a, "--pipeline")) { opt.window = parse_long(a, v, 1, RING / 2); i++; }
        else if (!strcmp(a, "--duration")) { opt.duration = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--warmup")) { opt.warmup = parse_seconds(a, v); i++; }
        else if (!strcmp(a, "--timeout-ms")) { opt.timeout_ms = parse_long(a, v, 1, 60000); i++; }
        else if (!strcmp(a, "--json")) opt.json = true;
        else usage();
    }
    if (!opt.port) usage();

    struct sockaddr_storage addr; socklen_t addrlen;
    if (resolve(opt.host, opt.port, SOCK_DGRAM, &addr, &addrlen) < 0) return 2;
    int fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return 1; }
    /* A roomy receive buffer on our side, so a lost reply is the server's doing. */
    int rcv = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    if (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) { perror("connect"); return 1; }

    ring = calloc(RING, sizeof *ring);
    pat = make_pattern(MAX_DGRAM);
    if (!ring) { perror("calloc"); return 1; }
    hist_init(&st.lat);

    uint64_t t0 = now_ns();
    uint64_t t_measure = t0 + (uint64_t)(opt.warmup * 1e9);
    uint64_t t_end = t_measure + (uint64_t)(opt.duration * 1e9);
    uint64_t t_drain = t_end + (uint64_t)opt.timeout_ms * 1000000u;
    uint64_t cpu0 = 0;
    bool measuring = false;
    /* Refill when a quarter of the window is free (at most 8), not per reply. */
    uint64_t refill_at = (uint64_t)opt.window / 4;
    if (refill_at > 8) refill_at = 8;
    if (refill_at < 1) refill_at = 1;

    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && now >= t_measure) { measuring = true; cpu0 = cpu_ns(); }
        bool sending = now < t_end;
        if (!sending && (outstanding == 0 || now >= t_drain)) break;
        expire(now, false);

        /* Fill the window with one sendmmsg() per batch: fewer syscalls here than
         * the server spends answering, so the generator is not the limit. */
        while (sending && outstanding + refill_at <= (uint64_t)opt.window) {
            unsigned k = (unsigned)((uint64_t)opt.window - outstanding);
            if (k > BATCH) k = BATCH;
            for (unsigned j = 0; j < k; j++) {
                uint64_t seq = next_seq + j;
                put64(sbuf[j], seq);
                put64(sbuf[j] + 8, MAGIC);
                memcpy(sbuf[j] + HDR, payload_for(seq), (size_t)(opt.size - HDR));
                siov[j].iov_base = sbuf[j];
                siov[j].iov_len = (size_t)opt.size;
                smsg[j].msg_hdr = (struct msghdr){ .msg_iov = &siov[j], .msg_iovlen = 1 };
            }
            int n = sendmmsg(fd, smsg, k, 0);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) st.send_errors++;
                break; /* retry after the next receive */
            }
            uint64_t t = now_ns();
            for (int j = 0; j < n; j++) {
                uint64_t seq = next_seq++;
                struct entry *e = &ring[seq % RING];
                e->seq = seq;
                e->sent_ns = t;
                e->state = E_OUT;
                e->measured = measuring;
                if (measuring) st.sent++;
                outstanding++;
            }
            if ((unsigned)n < k) break;
        }

        bool got = false;
        for (int round = 0; round < 4; round++) {
            for (unsigned j = 0; j < BATCH; j++) {
                riov[j].iov_base = rbuf[j];
                riov[j].iov_len = sizeof rbuf[j];
                rmsg[j].msg_hdr = (struct msghdr){ .msg_iov = &riov[j], .msg_iovlen = 1 };
            }
            int n = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                st.recv_errors++; /* e.g. ECONNREFUSED: the server is not there */
                break;
            }
            got = true;
            uint64_t t = now_ns();
            for (int j = 0; j < n; j++) on_reply(rbuf[j], rmsg[j].msg_len, t);
            if (n < (int)BATCH) break;
        }
        if (!got) {
            /* Nothing to read: sleep until a reply, the next timeout or a phase change. */
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, 1);
        }
    }
    expire(now_ns(), true);
    uint64_t t_stop = now_ns();
    uint64_t cpu1 = cpu_ns();
    double secs = (double)(t_end - t_measure) / 1e9;
    double cpu_pct = 100.0 * (double)(cpu1 - cpu0) / 1e9 / ((double)(t_stop - t_measure) / 1e9);
    double rate = secs > 0 ? (double)st.answered / secs : 0;
    double mibs = rate * (double)opt.size / (1024.0 * 1024.0);
    double p50 = hist_quantile(&st.lat, 0.50) / 1e3, p99 = hist_quantile(&st.lat, 0.99) / 1e3;
    double p999 = hist_quantile(&st.lat, 0.999) / 1e3, pmax = st.lat.max / 1e3;
    uint64_t errors = st.send_errors + st.recv_errors;
    if (opt.json) {
        printf("{\"mode\":\"udp\",\"host\":\"%s\",\"port\":%d,\"size\":%ld,\"window\":%ld,"
               "\"duration_s\":%.3f,\"warmup_s\":%.3f,\"timeout_ms\":%ld,"
               "\"sent\":%llu,\"answered\":%llu,\"dgram_per_s\":%.1f,\"mib_per_s\":%.2f,"
               "\"lost\":%llu,\"duplicates\":%llu,\"reordered\":%llu,\"late\":%llu,\"mismatches\":%llu,"
               "\"errors\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
               "\"client_cpu_pct\":%.1f}\n",
               opt.host, opt.port, opt.size, opt.window, secs, opt.warmup, opt.timeout_ms,
               (unsigned long long)st.sent, (unsigned long long)st.answered, rate, mibs,
               (unsigned long long)st.lost, (unsigned long long)st.duplicates,
               (unsigned long long)st.reordered, (unsigned long long)st.late,
               (unsigned long long)st.mismatches, (unsigned long long)errors,
               p50, p99, p999, pmax, cpu_pct);
    } else {
        printf("udp_load %s:%d  size %ld B  window %ld  %.1f s (+%.1f s warm-up)  timeout %ld ms\n",
               opt.host, opt.port, opt.size, opt.window, secs, opt.warmup, opt.timeout_ms);
        printf("  sent %llu  answered %llu  %.0f dgram/s  %.2f MiB/s\n",
               (unsigned long long)st.sent, (unsigned long long)st.answered, rate, mibs);
        printf("  lost %llu  duplicates %llu  reordered %llu  late %llu  mismatches %llu  errors %llu\n",
               (unsigned long long)st.lost, (unsigned long long)st.duplicates,
               (unsigned long long)st.reordered, (unsigned long long)st.late,
               (unsigned long long)st.mismatches, (unsigned long long)errors);
        printf("  round trip us  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  load generator cpu %.0f%%\n",
               p50, p99, p999, pmax, cpu_pct);
    }
    fflush(stdout);
    close(fd);
    return (st.answered == 0 || st.mismatches) ? 1 : 0;
}
