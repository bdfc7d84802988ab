/*
 * uring_echo: epoll_echo (bench/baselines/epoll_echo.c) with its recv()/send()
 * calls batched through io_uring. An experiment, not a baseline.
 *
 * Same server as epoll_echo: single thread, non-blocking sockets, level-triggered
 * epoll, accept4() for new connections, TCP_NODELAY on them, 64 KiB chunks (at
 * most 16 per connection per readiness event), a partial send keeps the rest in
 * the connection's own buffer and switches interest from EPOLLIN to EPOLLOUT
 * until it is flushed (plain send(), as in epoll_echo), EOF closes.
 *
 * The one difference: after epoll_wait() reports N readable connections, their
 * N recvs go to the kernel as N IORING_OP_RECV SQEs in ONE io_uring_enter
 * (to_submit = N, min_complete = N, GETEVENTS), then the sends for every
 * connection that got data go as SQEs in ONE more io_uring_enter. Every op
 * carries MSG_DONTWAIT, so none is ever punted or armed for poll: a recv that
 * would block completes at once with -EAGAIN. Results are then handled as
 * epoll_echo handles its recv()/send() results; a short send is followed by
 * plain send() calls for the rest, exactly what epoll_echo's send loop does.
 * Connections whose recv filled a whole chunk (and whose send all went) are
 * read again in the next batched round, up to MAX_TURN rounds.
 * Each batch slot has its own chunk-sized buffer (the batch is in flight at once).
 *
 * Raw syscalls, no liburing.
 *
 * usage: uring_echo PORT [HOST [CHUNK_KIB]]   (epoll_echo's "splice" mode is not supported)
 * prints "listening tcp://HOST:PORT" on stdout once bound; the io_uring setup
 * flags the kernel took go to stderr.
 *
 * build: gcc -O2 -Wall -o uring_echo uring_echo.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

#define MAX_CHUNK (1024 * 1024)
#define MAX_EVENTS 256
#define MAX_TURN 16   /* chunks per connection per readiness event */
#define RING_ENTRIES 1024

struct conn {
    char *pending;      /* unsent remainder (one chunk, malloc'd on first need) */
    unsigned pend_off;  /* first unsent byte in pending */
    unsigned pend_len;  /* bytes in pending */
    unsigned char open;
};

static size_t chunk = 64 * 1024; /* bytes per recv */
static struct conn *conns;   /* indexed by fd */
static size_t nconns;
static int ep;

static void die(const char *what) { perror(what); exit(1); }

/* ---- io_uring, raw ------------------------------------------------------------- */
static int ring_fd;
static unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
static unsigned *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static unsigned sq_entries;
static unsigned sq_local_tail;

static int ring_setup(void)
{
    static const struct { unsigned flags; const char *name; } tries[] = {
        { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
          "SINGLE_ISSUER|DEFER_TASKRUN|COOP_TASKRUN" },
        { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN" },
        { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, "SINGLE_ISSUER|COOP_TASKRUN" },
        { IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
        { 0, "none" },
    };
    struct io_uring_params p;
    int fd = -1;
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        memset(&p, 0, sizeof p);
        p.flags = tries[i].flags;
        fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
        if (fd >= 0) { fprintf(stderr, "uring_echo: io_uring setup flags: %s\n", tries[i].name); break; }
        if (errno != EINVAL) die("io_uring_setup");
        fprintf(stderr, "uring_echo: io_uring setup flags %s refused (EINVAL)\n", tries[i].name);
    }
    if (fd < 0) die("io_uring_setup");

    size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single) { if (cq_sz > sq_sz) sq_sz = cq_sz; cq_sz = sq_sz; }
    char *sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (sq == MAP_FAILED) die("mmap sq ring");
    char *cq = sq;
    if (!single) {
        cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
        if (cq == MAP_FAILED) die("mmap cq ring");
    }
    sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) die("mmap sqes");

    sq_head = (unsigned *)(sq + p.sq_off.head);
    sq_tail = (unsigned *)(sq + p.sq_off.tail);
    sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    sq_array = (unsigned *)(sq + p.sq_off.array);
    cq_head = (unsigned *)(cq + p.cq_off.head);
    cq_tail = (unsigned *)(cq + p.cq_off.tail);
    cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    sq_entries = p.sq_entries;
    sq_local_tail = *sq_tail;
    ring_fd = fd;
    if (p.cq_entries < MAX_EVENTS || sq_entries < MAX_EVENTS) { fprintf(stderr, "uring_echo: ring too small\n"); exit(1); }
    return 0;
}

static struct io_uring_sqe *get_sqe(void)
{
    /* The SQ is always empty between batches (all submitted), and a batch is at
     * most MAX_EVENTS <= sq_entries, so there is always room. */
    unsigned idx = sq_local_tail & *sq_mask;
    struct io_uring_sqe *s = &sqes[idx];
    memset(s, 0, sizeof *s);
    sq_array[idx] = idx;
    sq_local_tail++;
    return s;
}

/* Publish the queued SQEs, submit them and wait for n completions: one
 * io_uring_enter in the normal case (MSG_DONTWAIT ops complete inline).
 * Completions are stored in res[user_data]. */
static void submit_and_reap(unsigned n, int *res)
{
    __atomic_store_n(sq_tail, sq_local_tail, __ATOMIC_RELEASE);
    unsigned to_submit = n, got = 0;
    for (;;) {
        /* reap what is there */
        unsigned head = *cq_head;
        unsigned tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
        while (head != tail) {
            struct io_uring_cqe *c = &cqes[head & *cq_mask];
            res[c->user_data] = c->res;
            head++;
            got++;
        }
        __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
        if (got >= n && to_submit == 0) return;
        int r = (int)syscall(__NR_io_uring_enter, ring_fd, to_submit, n - got,
                             IORING_ENTER_GETEVENTS, NULL, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EBUSY) continue;
            die("io_uring_enter");
        }
        to_submit -= (unsigned)r <= to_submit ? (unsigned)r : to_submit;
    }
}

/* ---- the echo server (epoll_echo's, with batched recv/send) ------------------- */
static struct conn *conn_for(int fd)
{
    if ((size_t)fd >= nconns) {
        size_t n = nconns ? nconns : 1024;
        while (n <= (size_t)fd) n *= 2;
        conns = realloc(conns, n * sizeof *conns);
        if (!conns) die("realloc");
        memset(conns + nconns, 0, (n - nconns) * sizeof *conns);
        nconns = n;
    }
    return &conns[fd];
}

static void close_conn(int fd)
{
    struct conn *c = &conns[fd];
    free(c->pending);
    memset(c, 0, sizeof *c);
    close(fd); /* also removes it from the epoll set */
}

static void set_interest(int fd, unsigned events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl mod");
}

/* Try to flush the remainder. Returns 0 when empty, 1 when still pending, -1 on error. */
static int flush_pending(int fd, struct conn *c)
{
    while (c->pend_len) {
        ssize_t n = send(fd, c->pending + c->pend_off, c->pend_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
            return -1;
        }
        c->pend_off += (unsigned)n;
        c->pend_len -= (unsigned)n;
    }
    c->pend_off = 0;
    return 0;
}

static void on_writable(int fd, struct conn *c)
{
    int r = flush_pending(fd, c);
    if (r < 0) { close_conn(fd); return; }
    if (r > 0) return;
    set_interest(fd, EPOLLIN | EPOLLRDHUP);
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) {
                fprintf(stderr, "uring_echo: accept: %s\n", strerror(errno));
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = conn_for(fd);
        memset(c, 0, sizeof *c);
        c->open = 1;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl add");
    }
}

/* The batch: slot i is connection fds[i], reading into slotbuf + i * chunk. */
static char *slotbuf;
static int fds[MAX_EVENTS];
static int rres[MAX_EVENTS], wres[MAX_EVENTS];
static int again[MAX_EVENTS];   /* slot reads on next round */
static int bufslot[MAX_EVENTS]; /* buffer slot of batch entry i (stable across rounds) */

/* Read and echo the nb connections in fds[], as epoll_echo's on_readable does
 * for each, but with every recv round and every send round batched. */
static void on_readable_batch(int nb)
{
    for (int i = 0; i < nb; i++) bufslot[i] = i;
    for (int turn = 0; turn < MAX_TURN && nb > 0; turn++) {
        /* one io_uring_enter for all the recvs */
        for (int i = 0; i < nb; i++) {
            struct io_uring_sqe *s = get_sqe();
            s->opcode = IORING_OP_RECV;
            s->fd = fds[i];
            s->addr = (uint64_t)(uintptr_t)(slotbuf + (size_t)bufslot[i] * chunk);
            s->len = (unsigned)chunk;
            s->msg_flags = MSG_DONTWAIT;
            s->user_data = (uint64_t)i;
        }
        submit_and_reap((unsigned)nb, rres);

        int ns = 0;
        for (int i = 0; i < nb; i++) {
            int fd = fds[i], n = rres[i];
            again[i] = 0;
            if (n == 0) { close_conn(fd); continue; }     /* EOF, nothing pending */
            if (n < 0) {
                if (n == -EAGAIN || n == -EWOULDBLOCK) continue;
                if (n == -EINTR) { again[i] = 1; continue; }
                close_conn(fd);                             /* reset etc. */
                continue;
            }
            struct io_uring_sqe *s = get_sqe();
            s->opcode = IORING_OP_SEND;
            s->fd = fd;
            s->addr = (uint64_t)(uintptr_t)(slotbuf + (size_t)bufslot[i] * chunk);
            s->len = (unsigned)n;
            s->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
            s->user_data = (uint64_t)i;
            ns++;
        }
        /* one io_uring_enter for all the sends */
        if (ns) submit_and_reap((unsigned)ns, wres);

        for (int i = 0; i < nb; i++) {
            int fd = fds[i], n = rres[i];
            if (n <= 0) continue;
            struct conn *c = &conns[fd];
            char *b = slotbuf + (size_t)bufslot[i] * chunk;
            ssize_t off = 0;
            int w = wres[i];
            int blocked = 0;
            if (w < 0) {
                if (w == -EAGAIN || w == -EWOULDBLOCK) blocked = 1;
                else if (w != -EINTR) { close_conn(fd); continue; }
            } else {
                off = w;
            }
            /* what epoll_echo's send loop does after a short send (or EINTR) */
            while (!blocked && off < n) {
                ssize_t w2 = send(fd, b + off, (size_t)(n - off), MSG_NOSIGNAL);
                if (w2 < 0) {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                    close_conn(fd);
                    off = -1;
                    break;
                }
                off += w2;
            }
            if (off < 0) continue; /* closed */
            if (off < n) {
                /* Socket full: keep the rest, stop reading until it drains. */
                if (!c->pending && !(c->pending = malloc(chunk))) die("malloc");
                memcpy(c->pending, b + off, (size_t)(n - off));
                c->pend_off = 0;
                c->pend_len = (unsigned)(n - off);
                set_interest(fd, EPOLLOUT);
                continue;
            }
            if ((size_t)n == chunk) again[i] = 1; /* a full chunk: maybe more queued */
        }
        /* keep only the connections that read on */
        int k = 0;
        for (int i = 0; i < nb; i++)
            if (again[i]) { fds[k] = fds[i]; bufslot[k] = bufslot[i]; k++; }
        nb = k;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s PORT [HOST [CHUNK_KIB]]\n", argv[0]);
        return 2;
    }
    if (argc > 3) {
        long kib = atol(argv[3]);
        if (kib < 1 || kib > MAX_CHUNK / 1024) { fprintf(stderr, "CHUNK_KIB must be 1..1024\n"); return 2; }
        chunk = (size_t)kib * 1024;
    }
    const char *port = argv[1];
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

    /* MAX_EVENTS chunk buffers; untouched pages cost nothing. */
    slotbuf = malloc((size_t)MAX_EVENTS * chunk);
    if (!slotbuf) die("malloc");
    ring_setup();

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) { fprintf(stderr, "uring_echo: %s: %s\n", host, gai_strerror(gai)); return 1; }
    int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    if (listen(lfd, 1024) < 0) die("listen");

    struct sockaddr_storage ss; socklen_t sl = sizeof ss;
    getsockname(lfd, (struct sockaddr *)&ss, &sl);
    char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
    getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof hbuf, pbuf, sizeof pbuf,
                NI_NUMERICHOST | NI_NUMERICSERV);
    if (ss.ss_family == AF_INET6) printf("listening tcp://[%s]:%s\n", hbuf, pbuf);
    else printf("listening tcp://%s:%s\n", hbuf, pbuf);
    fflush(stdout);
    freeaddrinfo(ai);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl listener");

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        int nb = 0;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            unsigned e = evs[i].events;
            if (fd == lfd) { accept_all(lfd); continue; }
            struct conn *c = &conns[fd];
            if (!c->open) continue;
            if (c->pend_len) {
                if (e & (EPOLLHUP | EPOLLERR)) { close_conn(fd); continue; }
                if (e & EPOLLOUT) on_writable(fd, c);
                continue;
            }
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) fds[nb++] = fd;
        }
        if (nb) on_readable_batch(nb);
    }
}
