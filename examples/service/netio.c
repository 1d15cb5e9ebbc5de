/* netio.c: see netio.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* POSIX and GNU calls under -std=c11 */
#endif
#include "netio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

double pps_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits until fd is ready for `events` or the deadline passes: 0 ready, -1 not. */
static int wait_fd(int fd, short events, double deadline) {
    for (;;) {
        double left = deadline - pps_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int ms = left > 1000 ? 1000000 : (int)(left * 1000) + 1;
        int r = poll(&p, 1, ms);
        if (r > 0) return 0; /* readable, writable, or an error the next call reports */
        if (r < 0 && errno != EINTR) return -1;
    }
}

int pps_read_full(int fd, void *buf, size_t n, double deadline) {
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        if (wait_fd(fd, POLLIN, deadline)) return -1;
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r == 0) {
            if (got == 0) return 1;
            errno = ECONNRESET;
            return -1;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int pps_write_full(int fd, const void *buf, size_t n, double deadline) {
    const uint8_t *p = buf;
    size_t put = 0;
    while (put < n) {
        if (wait_fd(fd, POLLOUT, deadline)) return -1;
        ssize_t r = send(fd, p + put, n - put, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return -1;
        }
        put += (size_t)r;
    }
    return 0;
}

int pps_parse_loopback(const char *hostport, void *out, char *err, size_t errlen) {
    struct sockaddr_in *sa = out;
    memset(sa, 0, sizeof *sa);
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport) {
        snprintf(err, errlen, "'%s' is not HOST:PORT", hostport);
        return -1;
    }
    char host[64];
    size_t hl = (size_t)(colon - hostport);
    if (hl >= sizeof host) {
        snprintf(err, errlen, "host in '%s' is too long", hostport);
        return -1;
    }
    memcpy(host, hostport, hl);
    host[hl] = 0;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 1 || port > 65535) {
        snprintf(err, errlen, "port '%s' is not in 1..65535", colon + 1);
        return -1;
    }
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "host '%s' is not an IPv4 address or localhost", host);
        return -1;
    }
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        snprintf(err, errlen, "host '%s' is not a loopback address (127.0.0.0/8); this example talks only to itself",
                 host);
        return -1;
    }
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return 0;
}
