/*
 * udp_echo: the reference UDP echo server for bench/run.sh.
 * A plain blocking recvfrom/sendto loop: the simplest correct UDP echo.
 *
 * usage: udp_echo PORT [HOST]     (HOST defaults to 127.0.0.1; PORT 0 = any)
 * prints "listening udp://HOST:PORT" on stdout once bound.
 *
 * build: gcc -O2 -Wall -o udp_echo udp_echo.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[65536];

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
        return 2;
    }
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
    int gai = getaddrinfo(host, argv[1], &hints, &ai);
    if (gai) { fprintf(stderr, "udp_echo: %s: %s\n", host, gai_strerror(gai)); return 1; }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Default SO_RCVBUF on purpose: the reference should not get a tuning the
     * server under test lacks. The load generator's window keeps bursts small. */
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) { perror("bind"); return 1; }

    struct sockaddr_storage ss; socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
    getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof hbuf, pbuf, sizeof pbuf,
                NI_NUMERICHOST | NI_NUMERICSERV);
    if (ss.ss_family == AF_INET6) printf("listening udp://[%s]:%s\n", hbuf, pbuf);
    else printf("listening udp://%s:%s\n", hbuf, pbuf);
    fflush(stdout);
    freeaddrinfo(ai);

    for (;;) {
        struct sockaddr_storage from; socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("recvfrom"); /* e.g. ICMP-induced errors: report and keep serving */
            continue;
        }
        /* A failed send (full buffer, unreachable peer) is a lost datagram, which
         * UDP allows; the client's loss counter will show it. */
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
}
