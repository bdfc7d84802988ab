/*
 * epoll_echo: the reference TCP echo server for bench/run.sh.
 *
 * Single thread, non-blocking sockets, level-triggered epoll. Every read goes
 * into one static buffer, 64 KiB at a time, and is written straight back; a
 * readable socket is drained chunk by chunk (at most 16 chunks per turn). When
 * the socket will not take all of a chunk, the unsent remainder is copied to
 * that connection's own buffer and the connection stops reading (interest
 * switches from EPOLLIN to EPOLLOUT) until the remainder is flushed. So each
 * connection buffers at most one chunk in user space: the peer is slowed by TCP
 * flow control instead of growing our memory (back-pressure). On EOF the
 * connection closes (anything unsent was flushed before we read again).
 *
 * usage: epoll_echo PORT [HOST [CHUNK_KIB [splice]]]
 *   HOST defaults to 127.0.0.1, PORT 0 = any, CHUNK_KIB (default 64, max 1024) is
 *   the recv() size and so the most a connection ever buffers.
 *   "splice" moves every chunk through a pipe with splice(2) instead of recv()
 *   and send() (socket -> pipe -> same socket, no copy into the process), reading
 *   on until EAGAIN. Not the reference: a second baseline for echokit's epoll
 *   engine, which splices reads of 8 KiB or more (docs/benchmarks.md, seventh pass).
 * prints "listening tcp://HOST:PORT" on stdout once bound.
 *
 * build: gcc -O2 -Wall -o epoll_echo epoll_echo.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CHUNK (1024 * 1024)
#define MAX_EVENTS 256
#define MAX_TURN 16   /* chunks per connection per readiness event */

struct conn {
    char *pending;      /* unsent remainder (one chunk, malloc'd on first need) */
    unsigned pend_off;  /* first unsent byte in pending */
    unsigned pend_len;  /* bytes in pending */
    unsigned char open;
};

static char buf[MAX_CHUNK];
static size_t chunk = 64 * 1024; /* bytes per recv() */
static struct conn *conns;   /* indexed by fd */
static size_t nconns;
static int ep;
static int use_splice;          /* the "splice" argument */
static int pipe_rd = -1, pipe_wr = -1;

static void die(const char *what) { perror(what); exit(1); }

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

/* One chunk through the pipe: 1 when all of it went back (read on), 0 when the
 * socket is drained, -1 when the connection closed or now holds a remainder.
 * The pipe is always empty again on return. */
static int splice_turn(int fd, struct conn *c)
{
    ssize_t n = splice(fd, NULL, pipe_wr, NULL, chunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) { close_conn(fd); return -1; }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        if (errno == EINTR) return 1;
        close_conn(fd);
        return -1;
    }
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = splice(pipe_rd, NULL, fd, NULL, (size_t)(n - off), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += w;
    }
    if (off == n) return 1;
    /* Take the rest out of the pipe: held (socket full) or dropped (socket failed). */
    int full = errno == EAGAIN || errno == EWOULDBLOCK;
    if (!c->pending && !(c->pending = malloc(chunk))) die("malloc");
    size_t got = 0;
    while (got < (size_t)(n - off)) {
        ssize_t r = read(pipe_rd, c->pending + got, (size_t)(n - off) - got);
        if (r <= 0) die("read pipe");
        got += (size_t)r;
    }
    if (!full) { close_conn(fd); return -1; }
    c->pend_off = 0;
    c->pend_len = (unsigned)got;
    set_interest(fd, EPOLLOUT);
    return -1;
}

static void on_readable(int fd, struct conn *c)
{
    /* Drain the socket in 64 KiB chunks, up to MAX_TURN per readiness event so
     * one busy connection cannot starve the rest (level-triggered epoll calls us
     * again for what is left). Reading only one chunk per event is not enough:
     * the kernel reopens the receive window only when the queue shrinks a lot,
     * and a sender stuck on a closed window then waits for a delayed-ACK timer
     * (tens of ms). */
    for (int turn = 0; turn < MAX_TURN; turn++) {
        if (use_splice) {
            int r = splice_turn(fd, c);
            if (r <= 0) return;  /* drained, closed, or holding */
            continue;
        }
        ssize_t n = recv(fd, buf, chunk, 0);
        if (n == 0) { close_conn(fd); return; }            /* EOF, nothing pending */
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            close_conn(fd);                                 /* reset etc. */
            return;
        }
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                close_conn(fd);
                return;
            }
            off += w;
        }
        if (off < n) {
            /* Socket full: keep the rest, stop reading until it drains. */
            if (!c->pending && !(c->pending = malloc(chunk))) die("malloc");
            memcpy(c->pending, buf + off, (size_t)(n - off));
            c->pend_off = 0;
            c->pend_len = (unsigned)(n - off);
            set_interest(fd, EPOLLOUT);
            return;
        }
        if ((size_t)n < chunk) return; /* the queue is very likely empty: skip the EAGAIN call */
    }
}

static void on_writable(int fd, struct conn *c)
{
    int r = flush_pending(fd, c);
    if (r < 0) { close_conn(fd); return; }
    if (r > 0) return;
    /* Drained: read again. A half-close that arrived meanwhile shows up as
     * recv() == 0 after any data still queued, so nothing is lost. */
    set_interest(fd, EPOLLIN | EPOLLRDHUP);
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) {
                /* Out of descriptors: leave the rest in the backlog, keep serving. */
                fprintf(stderr, "epoll_echo: accept: %s\n", strerror(errno));
            }
            return; /* EAGAIN or a transient error: never kill the listener */
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

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s PORT [HOST [CHUNK_KIB [splice]]]\n", argv[0]);
        return 2;
    }
    if (argc > 3) {
        long kib = atol(argv[3]);
        if (kib < 1 || kib > MAX_CHUNK / 1024) { fprintf(stderr, "CHUNK_KIB must be 1..1024\n"); return 2; }
        chunk = (size_t)kib * 1024;
    }
    if (argc > 4) {
        if (strcmp(argv[4], "splice") != 0) { fprintf(stderr, "the fourth argument can only be \"splice\"\n"); return 2; }
        int p[2];
        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
        pipe_rd = p[0]; pipe_wr = p[1];
        fcntl(pipe_wr, F_SETPIPE_SZ, (int)(4 * chunk)); /* room for a chunk of small pieces; the default if refused */
        use_splice = 1;
    }
    const char *port = argv[1];
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    signal(SIGPIPE, SIG_IGN);

    /* Many idle connections are part of the benchmark: take the hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) { fprintf(stderr, "epoll_echo: %s: %s\n", host, gai_strerror(gai)); return 1; }
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
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            unsigned e = evs[i].events;
            if (fd == lfd) { accept_all(lfd); continue; }
            struct conn *c = &conns[fd];
            if (!c->open) continue; /* closed earlier in this batch */
            if (c->pend_len) {
                /* Waiting for EPOLLOUT only. HUP/ERR mean the peer is gone entirely. */
                if (e & (EPOLLHUP | EPOLLERR)) { close_conn(fd); continue; }
                if (e & EPOLLOUT) on_writable(fd, c);
                continue;
            }
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(fd, c);
        }
    }
}
