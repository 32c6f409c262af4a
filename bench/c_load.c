/* The C load generator of bench/echo.py (its default `--load c`): the same load as the
 * Python `_load` there, at a fraction of its CPU cost per message, so that the fastest
 * servers (C epoll, uvloop) are measured rather than the loader. bench/echo.py compiles it
 * with `cc -O2` at run time, with bench/c_echo.c.
 *
 * Usage: c_load PORT CONNS SIZE WARMUP DURATION START_AT
 *
 * Opens CONNS connections to 127.0.0.1:PORT (TCP_NODELAY, then non-blocking), sleeps until
 * START_AT (seconds since the epoch, CLOCK_REALTIME, as Python's time.time(): several
 * loaders start together), then every connection sends one message of SIZE random bytes
 * (the same message throughout) and waits for all SIZE bytes of its echo before sending
 * it again. Every echo is compared with the message (a difference counts a mismatch).
 * Messages echoed in the WARMUP seconds after the start are not counted; those echoed in
 * the DURATION seconds after that are counted and their round trips recorded, on
 * CLOCK_MONOTONIC, in a log-linear histogram of nanoseconds (2048 exact bins, then 1024
 * bins per power of two: any recorded value is within 0.05% of its bin's middle). At the
 * end it prints one line of JSON on stdout and exits 0:
 *
 *   {"count": C, "total": T, "mismatched": M, "lat_ns": [[NS, N], ...]}
 *
 * C counted messages, T echoed messages, warm-up included, M mismatches, and the histogram's
 * non-empty bins, ascending: N round trips of about NS nanoseconds (the bin's middle).
 *
 * Every wait is bounded: connect (10 s), the sleep until START_AT (at most 60 s ahead),
 * each epoll_wait (50 ms, the loop ends at the end of DURATION whatever the server does).
 * A connection the server closes or resets, or any other error, ends the run: a line
 * "c_load: ..." on stderr, nothing on stdout, exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define POLL_MS 50
#define CONNECT_TIMEOUT_S 10
#define MAX_START_DELAY_S 60.0

/* The histogram: values below EXACT are their own bin; from there on, a power of two
   [2^k, 2^(k+1)) is split into HALF bins of width 2^(k-10). */
#define EXACT 2048
#define HALF (EXACT / 2)
#define BINS (EXACT + 53 * HALF) /* shifts 1 to 53 */

struct peer {
    int fd;
    size_t got;    /* bytes of the echo received */
    size_t unsent; /* bytes of the message still to send (after a short send) */
    int want_out;  /* waiting for EPOLLOUT too, until unsent is 0 */
    double sent_at;
    unsigned char *echo;
};

static uint64_t hist[BINS];
static unsigned char *msg;
static size_t size;

static void fail(const char *what, int err) {
    fprintf(stderr, "c_load: %s%s%s\n", what, err ? ": " : "", err ? strerror(err) : "");
    exit(1);
}

static double clock_s(clockid_t which) {
    struct timespec ts;
    clock_gettime(which, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bin_of(uint64_t ns) {
    if (ns < EXACT)
        return (int)ns;
    int shift = 63 - __builtin_clzll(ns) - 10; /* ns >> shift is in [HALF, EXACT) */
    return EXACT + (shift - 1) * HALF + (int)((ns >> shift) - HALF);
}

static uint64_t middle_of(int bin) {
    if (bin < EXACT)
        return (uint64_t)bin;
    int shift = (bin - EXACT) / HALF + 1;
    uint64_t low = (uint64_t)(HALF + (bin - EXACT) % HALF) << shift;
    return low + ((uint64_t)1 << shift) / 2;
}

static void set_events(int ep, struct peer *p, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = p};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev) < 0)
        fail("epoll_ctl", errno);
}

/* Sends what is left of the message; waits for EPOLLOUT too while some is left. */
static void send_rest(int ep, struct peer *p) {
    while (p->unsent) {
        ssize_t k = send(p->fd, msg + (size - p->unsent), p->unsent, MSG_NOSIGNAL);
        if (k >= 0)
            p->unsent -= (size_t)k;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        else if (errno != EINTR)
            fail("send (the server closed a connection?)", errno);
    }
    if ((p->unsent != 0) != p->want_out) {
        p->want_out = p->unsent != 0;
        set_events(ep, p, p->want_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
    }
}

static void send_message(int ep, struct peer *p, double now) {
    p->sent_at = now;
    p->unsent = size;
    send_rest(ep, p);
}

static int open_connection(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket", errno);
    struct timeval limit = {.tv_sec = CONNECT_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit); /* bounds connect() */
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0)
        fail("connect", errno);
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        fail("TCP_NODELAY", errno);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        fail("O_NONBLOCK", errno);
    return fd;
}

static void sleep_until(double start_at) {
    double ahead = start_at - clock_s(CLOCK_REALTIME);
    if (ahead > MAX_START_DELAY_S)
        fail("START_AT is more than 60 s ahead", 0);
    while ((ahead = start_at - clock_s(CLOCK_REALTIME)) > 0) {
        struct timespec ts = {.tv_sec = (time_t)ahead, .tv_nsec = (long)((ahead - (time_t)ahead) * 1e9)};
        nanosleep(&ts, NULL); /* an EINTR goes round again */
    }
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: c_load PORT CONNS SIZE WARMUP DURATION START_AT\n");
        return 2;
    }
    int port = atoi(argv[1]), conns = atoi(argv[2]);
    long size_arg = atol(argv[3]);
    double warmup = atof(argv[4]), duration = atof(argv[5]), start_at = atof(argv[6]);
    if (port <= 0 || port > 65535 || conns <= 0 || size_arg <= 0)
        fail("PORT, CONNS and SIZE must be positive (PORT at most 65535)", 0);
    size = (size_t)size_arg;

    msg = malloc(size);
    struct peer *peers = calloc((size_t)conns, sizeof *peers);
    if (!msg || !peers)
        fail("out of memory", 0);
    for (size_t n = 0; n < size;) {
        ssize_t k = getrandom(msg + n, size - n, 0);
        if (k < 0 && errno != EINTR)
            fail("getrandom", errno);
        n += k > 0 ? (size_t)k : 0;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        fail("epoll_create1", errno);
    for (int i = 0; i < conns; i++) {
        struct peer *p = &peers[i];
        p->fd = open_connection(port);
        p->echo = malloc(size);
        if (!p->echo)
            fail("out of memory", 0);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev) < 0)
            fail("epoll_ctl", errno);
    }

    sleep_until(start_at);
    double t = clock_s(CLOCK_MONOTONIC);
    double begin = t + warmup, end = begin + duration;
    for (int i = 0; i < conns; i++)
        send_message(ep, &peers[i], t);

    uint64_t count = 0, total = 0, bad = 0;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        double now = clock_s(CLOCK_MONOTONIC);
        if (now >= end)
            break;
        int left_ms = (int)((end - now) * 1e3) + 1;
        int n = epoll_wait(ep, events, MAX_EVENTS, left_ms < POLL_MS ? left_ms : POLL_MS);
        if (n < 0 && errno != EINTR)
            fail("epoll_wait", errno);
        for (int e = 0; e < n; e++) {
            struct peer *p = events[e].data.ptr;
            if (p->unsent)
                send_rest(ep, p);
            ssize_t k = recv(p->fd, p->echo + p->got, size - p->got, 0);
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (k < 0)
                fail("recv (the server reset a connection?)", errno);
            if (k == 0)
                fail("the server closed a connection", 0);
            p->got += (size_t)k;
            if (p->got < size)
                continue;
            p->got = 0;
            total++;
            if (memcmp(p->echo, msg, size) != 0)
                bad++;
            t = clock_s(CLOCK_MONOTONIC);
            if (t >= begin && t < end) {
                hist[bin_of((uint64_t)((t - p->sent_at) * 1e9 + 0.5))]++;
                count++;
            }
            send_message(ep, p, t);
        }
    }

    for (int i = 0; i < conns; i++)
        close(peers[i].fd);
    printf("{\"count\": %llu, \"total\": %llu, \"mismatched\": %llu, \"lat_ns\": [", (unsigned long long)count,
           (unsigned long long)total, (unsigned long long)bad);
    const char *sep = "";
    for (int b = 0; b < BINS; b++) {
        if (hist[b]) {
            printf("%s[%llu, %llu]", sep, (unsigned long long)middle_of(b), (unsigned long long)hist[b]);
            sep = ", ";
        }
    }
    printf("]}\n");
    if (fflush(stdout) != 0)
        fail("stdout", errno);
    return 0;
}
