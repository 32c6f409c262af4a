/* The C epoll echo server of bench/echo.py: the ceiling of the echo benchmark, what a
 * server costs when almost all of its time is the kernel's (the loopback sends and
 * receives). bench/echo.py compiles it with `cc -O2` at run time.
 *
 * Usage: c_echo [PORT]   (default 0: an ephemeral port)
 *
 * Binds 127.0.0.1:PORT, prints the port on stdout, then echoes: level-triggered epoll,
 * non-blocking sockets, TCP_NODELAY on every accepted socket. A connection receives into
 * its own buffer and sends all of it back; on a short send it keeps the rest, waits for
 * EPOLLOUT only (no reading meanwhile) and goes back to EPOLLIN once the rest has gone.
 * A close or a reset closes the connection. On SIGTERM or SIGINT (taken through a
 * signalfd, so no signal can slip in before epoll_wait) it prints its user and system CPU
 * seconds since it began serving, "USER SYSTEM", and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t off, len; /* buf[off:len] is still to be sent back */
    char buf[BUF_SIZE];
};

/* epoll's data.ptr is a struct conn, or the address of one of these two. */
static int listen_fd, signal_fd;

static void die(const char *what) {
    perror(what);
    exit(1);
}

static double seconds(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

static void watch(int ep, int op, struct conn *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, op, c->fd, &ev) < 0)
        die("epoll_ctl");
}

static void close_conn(struct conn *c) {
    close(c->fd); /* also takes it out of the epoll set */
    free(c);
}

/* Sends buf[off:len]; 0 when all has gone, 1 when the socket is full, -1 on an error. */
static int flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t k = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (k >= 0)
            c->off += (size_t)k;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 1;
        else if (errno != EINTR)
            return -1;
    }
    c->off = c->len = 0;
    return 0;
}

static void on_readable(int ep, struct conn *c) {
    for (;;) {
        ssize_t n = recv(c->fd, c->buf, BUF_SIZE, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* the peer closed, or reset */
            close_conn(c);
            return;
        }
        c->off = 0;
        c->len = (size_t)n;
        int r = flush(c);
        if (r < 0) {
            close_conn(c);
            return;
        }
        if (r > 0) {
            watch(ep, EPOLL_CTL_MOD, c, EPOLLOUT);
            return;
        }
        if (n < BUF_SIZE) /* most likely drained: epoll says when there is more */
            return;
    }
}

static void on_writable(int ep, struct conn *c) {
    int r = flush(c);
    if (r < 0)
        close_conn(c);
    else if (r == 0)
        watch(ep, EPOLL_CTL_MOD, c, EPOLLIN);
}

static void on_accept(int ep) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or out of descriptors: retried on the next event */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->off = c->len = 0;
        watch(ep, EPOLL_CTL_ADD, c, EPOLLIN);
    }
}

static int watch_fd(int ep, int *fd) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, *fd, &ev);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        die("sigprocmask");
    signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (signal_fd < 0)
        die("signalfd");

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0)
        die("socket");
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(listen_fd, 1024) < 0)
        die("listen");
    socklen_t len = sizeof addr;
    if (getsockname(listen_fd, (struct sockaddr *)&addr, &len) < 0)
        die("getsockname");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    if (watch_fd(ep, &listen_fd) < 0 || watch_fd(ep, &signal_fd) < 0)
        die("epoll_ctl");

    struct rusage base, now;
    getrusage(RUSAGE_SELF, &base); /* set-up is not the server's cost per message */
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (int running = 1; running;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &signal_fd) {
                running = 0;
            } else if (tag == &listen_fd) {
                on_accept(ep);
            } else {
                /* By state, not by event: an error or a hang-up comes as either, and
                   recv or send then reports it. A connection with data still to send
                   waits for EPOLLOUT only, and must not receive over that data. */
                struct conn *c = tag;
                if (c->len)
                    on_writable(ep, c);
                else
                    on_readable(ep, c);
            }
        }
    }

    getrusage(RUSAGE_SELF, &now);
    printf("%.6f %.6f\n", seconds(now.ru_utime) - seconds(base.ru_utime),
           seconds(now.ru_stime) - seconds(base.ru_stime));
    fflush(stdout);
    return 0;
}
