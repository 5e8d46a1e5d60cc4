/*
 * rawserver.c - the benchmark's raw limit server: the least work a WebSocket
 * fan-out can do on this machine, one thread, epoll.
 *
 * Speaks the plain JSON dialect of the benchmark:
 *   client -> {"type":"join","room":"room-7"}      reply {"type":"joined","room":"room-7"}
 *   client -> {"type":"pub","room":"room-7",...}   the same text, framed once, is
 *             written to every subscriber of room-7 (one write() each)
 * Pings are answered, a close frame closes. No JSON parser, no validation: it
 * is a yardstick for the syscall bound, not a server to use.
 *
 * usage: rawserver PORT [HOST]
 * It runs until killed, and at most MAX_LIFETIME seconds (a leaked one ends).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROOMS 100000
#define MAX_OUT (16u << 20) /* a subscriber this far behind is dropped */
#define MAX_LIFETIME 7200    /* seconds; SIGALRM then ends the process */

struct conn {
    int fd, room, room_pos, upgraded;
    char *in, *out;
    size_t inlen, incap, outlen, outcap;
};

struct room {
    int *fds, n, cap;
};

static struct conn **by_fd;
static int max_fds;
static struct room rooms[MAX_ROOMS];
static int epfd;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "rawserver: out of memory\n");
        exit(2);
    }
    return q;
}

/* ---------------------------------------------------- SHA-1 (FIPS 180-4) */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const unsigned char *msg, size_t len, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t total = ((len + 8) / 64 + 1) * 64;
    unsigned char *buf = calloc(total, 1);
    if (buf == NULL)
        exit(2);
    memcpy(buf, msg, len);
    buf[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        buf[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < total; off += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)buf[off + 4 * i] << 24 | (uint32_t)buf[off + 4 * i + 1] << 16 |
                   (uint32_t)buf[off + 4 * i + 2] << 8 | buf[off + 4 * i + 3];
        for (int i = 16; i < 80; i++)
            w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    free(buf);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

static void base64(const unsigned char *in, size_t len, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = 0;
}

/* ------------------------------------------------------------- connections */

static void room_leave(struct conn *c)
{
    if (c->room < 0)
        return;
    struct room *r = &rooms[c->room];
    int last = r->fds[--r->n];
    r->fds[c->room_pos] = last;
    by_fd[last]->room_pos = c->room_pos;
    c->room = -1;
}

static void conn_close(struct conn *c)
{
    room_leave(c);
    by_fd[c->fd] = NULL;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/* Writes now; what the socket does not take waits in c->out. Returns 0 if closed. */
static int conn_send(struct conn *c, const char *data, size_t len)
{
    if (c->outlen == 0) {
        ssize_t n = write(c->fd, data, len);
        if (n == (ssize_t)len)
            return 1;
        if (n < 0 && errno != EAGAIN) {
            conn_close(c);
            return 0;
        }
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = c->fd};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    if (c->outlen + len > MAX_OUT) {
        conn_close(c);
        return 0;
    }
    if (c->outlen + len > c->outcap) {
        c->outcap = (c->outlen + len) * 2;
        c->out = xrealloc(c->out, c->outcap);
    }
    memcpy(c->out + c->outlen, data, len);
    c->outlen += len;
    return 1;
}

static void conn_flush(struct conn *c)
{
    ssize_t n = write(c->fd, c->out, c->outlen);
    if (n < 0) {
        if (errno != EAGAIN)
            conn_close(c);
        return;
    }
    memmove(c->out, c->out + n, c->outlen - (size_t)n);
    c->outlen -= (size_t)n;
    if (c->outlen == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->fd};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

/* Server frame header (unmasked) for a payload of len bytes; returns its size. */
static size_t frame_header(unsigned char *h, int opcode, size_t len)
{
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

static int send_frame(struct conn *c, int opcode, const char *payload, size_t len)
{
    char buf[256];
    size_t h = frame_header((unsigned char *)buf, opcode, len);
    if (h + len <= sizeof buf) {
        memcpy(buf + h, payload, len);
        return conn_send(c, buf, h + len);
    }
    return conn_send(c, buf, h) && conn_send(c, payload, len);
}

/* "room-N" after "\"room\":\"" -> N, or -1. */
static int room_of(const char *p, size_t n)
{
    const char *at = memmem(p, n, "\"room\":\"room-", 13);
    if (at == NULL)
        return -1;
    long v = strtol(at + 13, NULL, 10);
    return v >= 0 && v < MAX_ROOMS ? (int)v : -1;
}

static void on_text(struct conn *c, const char *p, size_t n)
{
    int room = room_of(p, n);
    if (room < 0)
        return;
    if (memmem(p, n, "\"type\":\"join\"", 13) != NULL) {
        room_leave(c);
        struct room *r = &rooms[room];
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->fds = xrealloc(r->fds, sizeof(int) * (size_t)r->cap);
        }
        c->room = room;
        c->room_pos = r->n;
        r->fds[r->n++] = c->fd;
        char reply[96];
        int m = snprintf(reply, sizeof reply, "{\"type\":\"joined\",\"room\":\"room-%d\"}", room);
        send_frame(c, 0x1, reply, (size_t)m);
        return;
    }
    if (memmem(p, n, "\"type\":\"pub\"", 12) == NULL)
        return;
    /* the fan-out: one frame built once, one write per subscriber */
    static char *frame;
    static size_t frame_cap;
    if (n + 10 > frame_cap) {
        frame_cap = (n + 10) * 2;
        frame = xrealloc(frame, frame_cap);
    }
    size_t h = frame_header((unsigned char *)frame, 0x1, n);
    memcpy(frame + h, p, n);
    struct room *r = &rooms[room];
    for (int i = 0; i < r->n;) /* a dropped subscriber is replaced in place by the last */
        i += conn_send(by_fd[r->fds[i]], frame, h + n);
}

static int on_handshake(struct conn *c)
{
    char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
    if (end == NULL)
        return c->inlen < 8192;
    char *key = memmem(c->in, (size_t)(end - c->in), "Sec-WebSocket-Key:", 18);
    if (key == NULL)
        key = memmem(c->in, (size_t)(end - c->in), "sec-websocket-key:", 18);
    if (key == NULL)
        return 0;
    key += 18;
    while (*key == ' ')
        key++;
    char *eol = memmem(key, (size_t)(end + 2 - key), "\r\n", 2);
    char src[128];
    int klen = (int)(eol - key);
    if (klen <= 0 || klen > 60)
        return 0;
    int m = snprintf(src, sizeof src, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", klen, key);
    unsigned char digest[20];
    char accept[32], resp[256];
    sha1((unsigned char *)src, (size_t)m, digest);
    base64(digest, 20, accept);
    m = snprintf(resp, sizeof resp,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    size_t used = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + used, c->inlen - used);
    c->inlen -= used;
    c->upgraded = 1;
    return conn_send(c, resp, (size_t)m) ? 1 : -1;
}

/* Returns 0 if the connection was closed. */
static int on_frames(struct conn *c)
{
    size_t pos = 0;
    while (c->inlen - pos >= 6) {
        unsigned char *b = (unsigned char *)c->in + pos;
        size_t avail = c->inlen - pos, hdr = 2;
        uint64_t len = b[1] & 0x7f;
        if (len == 126) {
            len = (uint64_t)b[2] << 8 | b[3];
            hdr = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | b[2 + i];
            hdr = 10;
        }
        if (!(b[1] & 0x80) || len > (1u << 20)) { /* clients must mask; 1 MiB cap */
            conn_close(c);
            return 0;
        }
        if (avail < hdr + 4 + len)
            break;
        unsigned char *mask = b + hdr;
        char *p = (char *)b + hdr + 4;
        for (uint64_t i = 0; i < len; i++)
            p[i] ^= (char)mask[i & 3];
        int op = b[0] & 0x0f;
        pos += hdr + 4 + len;
        if (op == 0x1) {
            on_text(c, p, (size_t)len);
            if (by_fd[c->fd] != c)
                return 0;
        } else if (op == 0x9) {
            if (!send_frame(c, 0xA, p, (size_t)len))
                return 0;
        } else if (op == 0x8) {
            send_frame(c, 0x8, p, len >= 2 ? 2 : 0);
            conn_close(c);
            return 0;
        }
    }
    memmove(c->in, c->in + pos, c->inlen - pos);
    c->inlen -= pos;
    return 1;
}

static void on_readable(struct conn *c)
{
    if (c->incap - c->inlen < 4096) {
        c->incap = c->incap ? c->incap * 2 : 8192;
        c->in = xrealloc(c->in, c->incap);
    }
    ssize_t n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        conn_close(c);
        return;
    }
    c->inlen += (size_t)n;
    if (!c->upgraded) {
        int r = on_handshake(c);
        if (r == 0)
            conn_close(c);
        if (r <= 0 || !c->upgraded)
            return;
    }
    on_frames(c);
}

static void on_accept(int lfd)
{
    for (int i = 0; i < 256; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (fd >= max_fds) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL)
            exit(2);
        c->fd = fd;
        c->room = -1;
        by_fd[fd] = c;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rawserver PORT [HOST]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(MAX_LIFETIME);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        max_fds = (int)(rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur);
    }
    by_fd = calloc((size_t)max_fds, sizeof *by_fd);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &addr.sin_addr);
    if (by_fd == NULL || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(lfd, 4096) < 0) {
        perror("rawserver: listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[512];
    for (;;) { /* until the runner kills it, or MAX_LIFETIME */
        int n = epoll_wait(epfd, evs, 512, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                on_accept(lfd);
                continue;
            }
            struct conn *c = by_fd[fd];
            if (c == NULL)
                continue;
            if (evs[i].events & EPOLLOUT && c->outlen > 0) {
                conn_flush(c);
                if (by_fd[fd] != c)
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c);
        }
    }
}
