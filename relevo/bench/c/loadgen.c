/*
 * loadgen.c - relevo's benchmark load generator: one thread, epoll, many
 * WebSocket client connections.
 *
 * It opens N subscriber connections, subscribes each to a room in the target's
 * "dialect" (relevo JSON, Socket.IO 4 over Engine.IO 4, or a plain JSON join
 * used by the ws / websockets / Channels peers and the raw limit server), and
 * drives one publisher connection. Every published payload carries the
 * CLOCK_MONOTONIC send time in ns ("t") and a global sequence number ("s");
 * generator and server share the machine, so latency = receive time - t.
 *
 * Modes (scenarios of docs/benchmarks.md):
 *   publish   S1/S2: stepped publish rates, per step a JSON line with exact
 *             expected / received / lost counts and a latency histogram
 *   idle      S3: server RSS per idle subscribed connection
 *   storm     S4: N clients connect and subscribe at once
 *   recovery  S5: N clients reconnect at once and recover missed publications
 *             (relevo dialect only)
 *
 * Output: one JSON object per line on stdout; diagnostics on stderr.
 * Every wait is bounded by a deadline; the process never runs unbounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
#define MAX_PIDS 4
#define MAX_RATES 32
#define PUB_BACKLOG_LIMIT (1 << 20) /* publisher stops generating above this */

/* ---------------------------------------------------------------- utilities */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(2);
    }
    return q;
}

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

/* Parses the integer that follows `key` (e.g. "\"s\":") in p[0..n). */
static int find_int(const char *p, size_t n, const char *key, int64_t *out)
{
    size_t k = strlen(key);
    const char *at = memmem(p, n, key, k);
    if (at == NULL)
        return 0;
    const char *q = at + k, *end = p + n;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    int neg = 0;
    if (q < end && *q == '-') {
        neg = 1;
        q++;
    }
    if (q >= end || *q < '0' || *q > '9')
        return 0;
    int64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9')
        v = v * 10 + (*q++ - '0');
    *out = neg ? -v : v;
    return 1;
}

/* Parses the digits at *q (advancing it); 0 if there are none. */
static int take_uint(const char **q, const char *end, int64_t *out)
{
    const char *r = *q;
    int64_t v = 0;
    while (r < end && *r >= '0' && *r <= '9')
        v = v * 10 + (*r++ - '0');
    if (r == *q)
        return 0;
    *q = r;
    *out = v;
    return 1;
}

/* The hot path of a delivery: finds the generator's own payload,
   {"t":<ns>,"s":<seq>,...}, which every server passes through unchanged, with
   one memchr per '{' instead of a memmem per key (that was a third of the
   generator's CPU at millions of deliveries a second). 0 if not found. */
static int find_stamp(const char *p, size_t n, int64_t *t, int64_t *s)
{
    const char *end = p + n, *q = p;
    while ((q = memchr(q, '{', (size_t)(end - q))) != NULL) {
        if (end - q > 5 && memcmp(q, "{\"t\":", 5) == 0) {
            q += 5;
            return take_uint(&q, end, t) && end - q > 5 && memcmp(q, ",\"s\":", 5) == 0 &&
                   (q += 5, take_uint(&q, end, s));
        }
        q++;
    }
    return 0;
}

/* ------------------------------------------------- log-linear histogram (ns) */

#define H_SUB_BITS 5
#define H_SUB (1 << H_SUB_BITS)
#define H_BUCKETS (2 * H_SUB + (64 - H_SUB_BITS - 1) * H_SUB)

struct hist {
    uint64_t n, max, c[H_BUCKETS];
};

static unsigned h_index(uint64_t v)
{
    if (v < 2 * H_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - H_SUB_BITS;
    return 2 * H_SUB + (shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
}

static uint64_t h_upper(unsigned idx)
{
    if (idx < 2 * H_SUB)
        return idx;
    unsigned k = idx - 2 * H_SUB, shift = k / H_SUB + 1;
    uint64_t m = k % H_SUB + H_SUB;
    return ((m + 1) << shift) - 1;
}

static void h_add(struct hist *h, int64_t v)
{
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    h->c[h_index(u)]++;
    h->n++;
    if (u > h->max)
        h->max = u;
}

static double h_quantile_ms(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0.0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999), seen = 0;
    if (rank < 1)
        rank = 1;
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        seen += h->c[i];
        if (seen >= rank) {
            uint64_t v = h_upper(i);
            return (double)(v < h->max ? v : h->max) / 1e6;
        }
    }
    return (double)h->max / 1e6;
}

static void h_print(const char *name, const struct hist *h)
{
    printf("\"%s\":{\"n\":%" PRIu64 ",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
           "\"max\":%.3f}",
           name, h->n, h_quantile_ms(h, 0.5), h_quantile_ms(h, 0.9), h_quantile_ms(h, 0.99),
           h_quantile_ms(h, 0.999), (double)h->max / 1e6);
}

/* --------------------------------------------------------- process accounting */

static long clk_tck;

/* utime + stime of a process (all its threads), in ns; -1 if it is gone.
   *sys_ns gets the stime part (time in the kernel: syscalls). */
static int64_t proc_cpu_ns(pid_t pid, int64_t *sys_ns)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *sys_ns = (int64_t)(st * (NS_PER_S / clk_tck));
    return (int64_t)((ut + st) * (NS_PER_S / clk_tck));
}

static int64_t proc_rss_kib(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    int64_t v;
    return find_int(buf, (size_t)n, "VmRSS:", &v) ? v : -1;
}

/* CPU time spent in user + nice + system on the whole machine, in seconds:
   minus the server's and the generator's, what other processes used (the
   noise of a shared machine). irq/softirq time is left out: on loopback most
   of it is the benchmark's own packet processing. */
static double machine_cpu_s(void)
{
    char buf[512];
    int fd = open("/proc/stat", O_RDONLY);
    if (fd < 0)
        return 0.0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0.0;
    buf[n] = 0;
    unsigned long long user = 0, nice = 0, sys = 0;
    if (sscanf(buf, "cpu %llu %llu %llu", &user, &nice, &sys) != 3)
        return 0.0;
    return (double)(user + nice + sys) / (double)clk_tck;
}

static int64_t self_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* ------------------------------------------------------------------ options */

enum dialect { D_RELEVO, D_SOCKETIO, D_JSON };
enum mode { M_PUBLISH, M_IDLE, M_STORM, M_RECOVERY };

static struct {
    const char *host, *path, *label;
    int port;
    enum dialect dialect;
    enum mode mode;
    int subs, rooms, rate_count, payload, concurrency, max_fail, missed;
    int rates[MAX_RATES];
    double step_secs, drain_secs, p99_limit_ms, timeout_secs;
    pid_t pids[MAX_PIDS];
    int npids;
} opt = {
    .host = "127.0.0.1",
    .path = NULL,
    .label = "",
    .port = 0,
    .dialect = D_RELEVO,
    .mode = M_PUBLISH,
    .subs = 1000,
    .rooms = 1,
    .rate_count = 0,
    .payload = 64,
    .concurrency = 256,
    .max_fail = 1,
    .missed = 100,
    .step_secs = 5.0,
    .drain_secs = 2.0,
    .p99_limit_ms = 200.0,
    .timeout_secs = 60.0,
    .npids = 0,
};

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --port P --dialect relevo|socketio|json --mode "
            "publish|idle|storm|recovery\n"
            "  [--host H] [--path /ws] [--subs N] [--rooms R] [--rates 10,20,50]\n"
            "  [--step-secs S] [--drain-secs S] [--p99-limit-ms MS] [--max-fail K]\n"
            "  [--payload BYTES] [--concurrency C] [--missed M] [--timeout S]\n"
            "  [--server-pid PID]... [--label NAME]\n");
    exit(2);
}

static void parse_rates(const char *s)
{
    opt.rate_count = 0;
    while (*s && opt.rate_count < MAX_RATES) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0)
            usage();
        opt.rates[opt.rate_count++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
}

static void parse_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"host", 1, 0, 'h'},         {"port", 1, 0, 'p'},        {"path", 1, 0, 'P'},
        {"dialect", 1, 0, 'd'},      {"mode", 1, 0, 'm'},        {"subs", 1, 0, 'n'},
        {"rooms", 1, 0, 'r'},        {"rates", 1, 0, 'R'},       {"step-secs", 1, 0, 's'},
        {"drain-secs", 1, 0, 'D'},   {"p99-limit-ms", 1, 0, 'L'}, {"max-fail", 1, 0, 'F'},
        {"payload", 1, 0, 'b'},      {"concurrency", 1, 0, 'c'}, {"missed", 1, 0, 'M'},
        {"timeout", 1, 0, 'T'},      {"server-pid", 1, 0, 'S'},  {"label", 1, 0, 'l'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'P': opt.path = optarg; break;
        case 'd':
            if (!strcmp(optarg, "relevo")) opt.dialect = D_RELEVO;
            else if (!strcmp(optarg, "socketio")) opt.dialect = D_SOCKETIO;
            else if (!strcmp(optarg, "json")) opt.dialect = D_JSON;
            else usage();
            break;
        case 'm':
            if (!strcmp(optarg, "publish")) opt.mode = M_PUBLISH;
            else if (!strcmp(optarg, "idle")) opt.mode = M_IDLE;
            else if (!strcmp(optarg, "storm")) opt.mode = M_STORM;
            else if (!strcmp(optarg, "recovery")) opt.mode = M_RECOVERY;
            else usage();
            break;
        case 'n': opt.subs = atoi(optarg); break;
        case 'r': opt.rooms = atoi(optarg); break;
        case 'R': parse_rates(optarg); break;
        case 's': opt.step_secs = atof(optarg); break;
        case 'D': opt.drain_secs = atof(optarg); break;
        case 'L': opt.p99_limit_ms = atof(optarg); break;
        case 'F': opt.max_fail = atoi(optarg); break;
        case 'b': opt.payload = atoi(optarg); break;
        case 'c': opt.concurrency = atoi(optarg); break;
        case 'M': opt.missed = atoi(optarg); break;
        case 'T': opt.timeout_secs = atof(optarg); break;
        case 'S':
            if (opt.npids == MAX_PIDS) usage();
            opt.pids[opt.npids++] = (pid_t)atoi(optarg);
            break;
        case 'l': opt.label = optarg; break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.subs <= 0 || opt.rooms <= 0 || opt.rooms > opt.subs ||
        opt.concurrency <= 0 || opt.payload < 0 || opt.payload > 60000)
        usage();
    if (opt.mode == M_RECOVERY && opt.dialect != D_RELEVO) {
        fprintf(stderr, "loadgen: recovery mode needs the relevo dialect\n");
        exit(2);
    }
    if (opt.rate_count == 0)
        parse_rates("10,20,50,100,150,200,300,400,500,700,1000");
    if (opt.path == NULL)
        opt.path = opt.dialect == D_RELEVO     ? "/ws"
                   : opt.dialect == D_SOCKETIO ? "/socket.io/?EIO=4&transport=websocket"
                                               : "/";
}

static double servers_sys_s; /* kernel part of the last servers_cpu_s() */

static double servers_cpu_s(void)
{
    int64_t total = 0, sys_total = 0;
    for (int i = 0; i < opt.npids; i++) {
        int64_t sys_ns = 0;
        int64_t v = proc_cpu_ns(opt.pids[i], &sys_ns);
        if (v < 0) {
            fprintf(stderr, "loadgen: server pid %d is gone\n", (int)opt.pids[i]);
            printf("{\"error\":\"server process %d exited\"}\n", (int)opt.pids[i]);
            exit(3);
        }
        total += v;
        sys_total += sys_ns;
    }
    servers_sys_s = (double)sys_total / 1e9;
    return (double)total / 1e9;
}

/* -------------------------------------------------------------- connections */

enum cstate {
    C_IDLE,       /* no socket */
    C_CONNECTING, /* connect() in progress */
    C_HANDSHAKE,  /* upgrade request sent, waiting for 101 */
    C_EIO_OPEN,   /* socketio: waiting for the Engine.IO open packet */
    C_SIO_CONN,   /* socketio: "40" sent, waiting for the namespace connect */
    C_SUBSCRIBING,
    C_LIVE,
    C_CLOSED,
};

struct conn {
    int fd;
    uint8_t state, is_pub;
    uint16_t attempts;
    uint32_t room;
    char *rbuf, *wbuf, *frag;
    uint32_t rlen, rcap, wlen, wcap, fraglen, fragcap;
    int64_t last_seq;   /* highest "s" received (duplicate / reorder detection) */
    int64_t t_start;    /* when this connection attempt began */
    int64_t offset;     /* relevo: stream position from the sub reply */
    char epoch[40];
};

static struct conn *conns; /* subs first, then the publisher at index opt.subs */
static int epfd, timer_fd;
static struct sockaddr_in server_addr;
static int64_t *room_size; /* confirmed subscribers per room */

static struct {
    int connecting, subscribed, failed, errors, disconnects, recovered_ok, recovery_bad;
    int pub_ready;
    int64_t pub_acked, pub_errors, sub_errors;
    struct hist confirm; /* connect -> subscription confirmed */
} g;

/* The measurement step in progress (publish mode). */
static struct {
    int active;
    int64_t seq_lo, seq_hi; /* seqs [seq_lo, seq_hi) belong to this step */
    int64_t expected, received, dups, late;
    struct hist lat;
} step;

static int64_t next_seq = 1;
static int64_t recv_now; /* clock read once per read() batch */

static int pub_index(void) { return opt.subs; }

static void ep_mod(struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl mod");
}

static void conn_close(struct conn *c, enum cstate next)
{
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
    c->rlen = c->wlen = c->fraglen = 0;
    c->state = (uint8_t)next;
}

/* Appends bytes to the connection's output and tries to flush them. */
static void conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->fd < 0)
        return;
    if (c->wlen == 0) {
        ssize_t n = write(c->fd, data, len);
        if (n == (ssize_t)len)
            return;
        if (n < 0) {
            if (errno != EAGAIN) {
                g.disconnects++;
                conn_close(c, C_CLOSED);
                return;
            }
            n = 0;
        }
        data = (const char *)data + n;
        len -= (size_t)n;
        ep_mod(c, EPOLLIN | EPOLLOUT);
    }
    if (c->wlen + len > c->wcap) {
        c->wcap = (uint32_t)((c->wlen + len) * 2);
        c->wbuf = xrealloc(c->wbuf, c->wcap);
    }
    memcpy(c->wbuf + c->wlen, data, len);
    c->wlen += (uint32_t)len;
}

static void conn_flush(struct conn *c)
{
    ssize_t n = write(c->fd, c->wbuf, c->wlen);
    if (n < 0) {
        if (errno != EAGAIN) {
            g.disconnects++;
            conn_close(c, C_CLOSED);
        }
        return;
    }
    memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
    c->wlen -= (uint32_t)n;
    if (c->wlen == 0)
        ep_mod(c, EPOLLIN);
}

/* Sends one masked client frame (RFC 6455 section 5.3). */
static void ws_send(struct conn *c, int opcode, const char *payload, size_t len)
{
    static char frame[65600];
    size_t h = 0;
    frame[h++] = (char)(0x80 | opcode);
    if (len < 126) {
        frame[h++] = (char)(0x80 | len);
    } else {
        frame[h++] = (char)(0x80 | 126);
        frame[h++] = (char)(len >> 8);
        frame[h++] = (char)(len & 0xff);
    }
    uint32_t key = rng();
    unsigned char mask[4];
    memcpy(mask, &key, 4);
    memcpy(frame + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        frame[h + i] = (char)(payload[i] ^ mask[i & 3]);
    conn_write(c, frame, h + len);
}

static void ws_send_text(struct conn *c, const char *text, int len)
{
    ws_send(c, 0x1, text, (size_t)len);
}

static void conn_start(struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket (raise the open-files limit?)");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->attempts++;
    c->t_start = now_ns();
    c->state = C_CONNECTING;
    c->last_seq = 0;
    g.connecting++;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl add");
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0 &&
        errno != EINPROGRESS)
        die("connect");
}

static void send_handshake(struct conn *c)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char key[25], req[512];
    for (int i = 0; i < 21; i++) /* 16 random bytes, base64: 22 chars + "==" */
        key[i] = b64[rng() & 63];
    key[21] = b64[(rng() & 3) << 4];
    key[22] = key[23] = '=';
    key[24] = 0;
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     opt.path, opt.host, opt.port, key);
    conn_write(c, req, (size_t)n);
    c->state = C_HANDSHAKE;
}

static void send_subscribe(struct conn *c)
{
    char msg[256];
    int n;
    if (opt.dialect == D_RELEVO) {
        if (c->epoch[0])
            n = snprintf(msg, sizeof msg,
                         "{\"id\":1,\"op\":\"sub\",\"ch\":\"room:%u\","
                         "\"since\":{\"epoch\":\"%s\",\"offset\":%" PRId64 "}}",
                         c->room, c->epoch, c->offset);
        else
            n = snprintf(msg, sizeof msg, "{\"id\":1,\"op\":\"sub\",\"ch\":\"room:%u\"}", c->room);
    } else if (opt.dialect == D_SOCKETIO) {
        n = snprintf(msg, sizeof msg, "421[\"join\",\"room-%u\"]", c->room);
    } else {
        n = snprintf(msg, sizeof msg, "{\"type\":\"join\",\"room\":\"room-%u\"}", c->room);
    }
    ws_send_text(c, msg, n);
    c->state = C_SUBSCRIBING;
}

/* The connection is open at the application level: subscribe, or get ready. */
static void conn_opened(struct conn *c)
{
    if (!c->is_pub) {
        send_subscribe(c);
        return;
    }
    c->state = C_LIVE;
    g.pub_ready = 1;
    g.connecting--;
}

static void sub_confirmed(struct conn *c)
{
    c->state = C_LIVE;
    g.connecting--;
    g.subscribed++;
    room_size[c->room]++;
    h_add(&g.confirm, now_ns() - c->t_start);
}

/* relevo: parse epoch/offset and, after a `since`, check the missed list. */
static void relevo_sub_reply(struct conn *c, const char *p, size_t n)
{
    int had_position = c->epoch[0] != 0;
    int64_t off;
    const char *e = memmem(p, n, "\"epoch\":\"", 9);
    if (e != NULL) {
        e += 9;
        size_t i = 0;
        while (e + i < p + n && e[i] != '"' && i < sizeof c->epoch - 1) {
            c->epoch[i] = e[i];
            i++;
        }
        c->epoch[i] = 0;
    }
    if (had_position) {
        int ok = memmem(p, n, "\"recovered\":true", 16) != NULL;
        int64_t want = c->offset + 1, got = 0;
        const char *q = p, *end = p + n;
        while (ok && (q = memmem(q, (size_t)(end - q), "\"off\":", 6)) != NULL) {
            if (!find_int(q, (size_t)(end - q), "\"off\":", &off) || off != want)
                ok = 0;
            want++;
            got++;
            q += 6;
        }
        if (ok && got == opt.missed)
            g.recovered_ok++;
        else
            g.recovery_bad++;
    }
    if (find_int(p, n, "\"offset\":", &off))
        c->offset = off;
}

static void on_delivery(struct conn *c, const char *p, size_t n)
{
    int64_t t, s;
    if (!find_stamp(p, n, &t, &s) &&
        (!find_int(p, n, "\"s\":", &s) || !find_int(p, n, "\"t\":", &t)))
        return;
    if (s <= c->last_seq) {
        step.dups++;
        return;
    }
    c->last_seq = s;
    if (!step.active || s < step.seq_lo || s >= step.seq_hi) {
        step.late++;
        return;
    }
    step.received++;
    h_add(&step.lat, recv_now - t);
}

/* One complete text message from the server. */
static void on_message(struct conn *c, const char *p, size_t n)
{
    if (opt.dialect == D_SOCKETIO) {
        if (n == 1 && p[0] == '2') { /* Engine.IO ping */
            ws_send_text(c, "3", 1);
            return;
        }
        if (c->state == C_EIO_OPEN && n >= 1 && p[0] == '0') {
            ws_send_text(c, "40", 2);
            c->state = C_SIO_CONN;
            return;
        }
        if (c->state == C_SIO_CONN && n >= 2 && p[0] == '4' && p[1] == '0') {
            conn_opened(c);
            return;
        }
        if (c->state == C_SUBSCRIBING && n >= 2 && p[0] == '4' && p[1] == '3') {
            sub_confirmed(c);
            return;
        }
        if (n >= 2 && p[0] == '4' && p[1] == '2')
            on_delivery(c, p, n);
        return;
    }
    if (opt.dialect == D_RELEVO) {
        if (n > 6 && memcmp(p, "{\"id\":", 6) == 0) {
            if (memmem(p, n, "\"err\":", 6) != NULL) {
                if (c->is_pub)
                    g.pub_errors++;
                else
                    g.sub_errors++;
                if (g.pub_errors + g.sub_errors <= 3)
                    fprintf(stderr, "loadgen: server error: %.*s\n", (int)(n > 300 ? 300 : n), p);
                if (!c->is_pub && c->state == C_SUBSCRIBING) {
                    g.connecting--;
                    g.failed++;
                    conn_close(c, C_CLOSED);
                }
                return;
            }
            if (c->is_pub) {
                g.pub_acked++;
                return;
            }
            if (c->state == C_SUBSCRIBING) {
                relevo_sub_reply(c, p, n);
                sub_confirmed(c);
            }
            return;
        }
        if (n > 6 && memcmp(p, "{\"ch\":", 6) == 0)
            on_delivery(c, p, n);
        return;
    }
    /* plain JSON dialect */
    if (c->state == C_SUBSCRIBING && memmem(p, n, "\"joined\"", 8) != NULL) {
        sub_confirmed(c);
        return;
    }
    on_delivery(c, p, n);
}

static void on_frame(struct conn *c, int fin, int op, const char *p, size_t n)
{
    if (op == 0x9) { /* ping -> pong */
        ws_send(c, 0xA, p, n);
        return;
    }
    if (op == 0xA)
        return;
    if (op == 0x8) {
        if (c->state != C_CLOSED)
            g.disconnects++;
        if (c->state != C_LIVE && c->state != C_CLOSED) {
            g.connecting--;
            g.failed++;
        }
        conn_close(c, C_CLOSED);
        return;
    }
    if (op == 0x0 || !fin) { /* fragmented message: collect it */
        if (c->fraglen + n > c->fragcap) {
            c->fragcap = (uint32_t)((c->fraglen + n) * 2);
            c->frag = xrealloc(c->frag, c->fragcap);
        }
        memcpy(c->frag + c->fraglen, p, n);
        c->fraglen += (uint32_t)n;
        if (!fin)
            return;
        on_message(c, c->frag, c->fraglen);
        c->fraglen = 0;
        return;
    }
    on_message(c, p, n);
}

/* Parses as many complete frames as the read buffer holds. */
static void parse_frames(struct conn *c)
{
    size_t pos = 0;
    while (c->fd >= 0 && c->rlen - pos >= 2) {
        const unsigned char *b = (const unsigned char *)c->rbuf + pos;
        size_t avail = c->rlen - pos, hdr = 2;
        uint64_t len = b[1] & 0x7f;
        if (len == 126) {
            if (avail < 4)
                break;
            len = ((uint64_t)b[2] << 8) | b[3];
            hdr = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = (len << 8) | b[2 + i];
            hdr = 10;
        }
        int masked = (b[1] & 0x80) != 0;
        if (masked)
            hdr += 4;
        if (len > (64u << 20)) {
            fprintf(stderr, "loadgen: frame of %" PRIu64 " bytes, giving up on it\n", len);
            g.disconnects++;
            conn_close(c, C_CLOSED);
            return;
        }
        if (avail < hdr + len)
            break;
        char *payload = c->rbuf + pos + hdr;
        if (masked)
            for (uint64_t i = 0; i < len; i++)
                payload[i] ^= (char)b[hdr - 4 + (i & 3)];
        on_frame(c, (b[0] & 0x80) != 0, b[0] & 0x0f, payload, (size_t)len);
        pos += hdr + len;
    }
    if (c->fd < 0)
        return;
    if (pos > 0) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= (uint32_t)pos;
    }
}

static void on_handshake_bytes(struct conn *c)
{
    char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (end == NULL) {
        if (c->rlen > 8192) {
            g.connecting--;
            g.failed++;
            conn_close(c, C_CLOSED);
        }
        return;
    }
    if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0) {
        if (g.failed < 3)
            fprintf(stderr, "loadgen: upgrade refused: %.*s\n", (int)(end - c->rbuf), c->rbuf);
        g.connecting--;
        g.failed++;
        conn_close(c, C_CLOSED);
        return;
    }
    size_t used = (size_t)(end + 4 - c->rbuf);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= (uint32_t)used;
    if (opt.dialect == D_SOCKETIO)
        c->state = C_EIO_OPEN;
    else
        conn_opened(c);
    parse_frames(c);
}

static void on_readable(struct conn *c)
{
    if (c->rcap - c->rlen < 16384) {
        c->rcap = c->rcap ? c->rcap * 2 : 32768;
        c->rbuf = xrealloc(c->rbuf, c->rcap);
    }
    ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        if (c->state == C_LIVE)
            g.disconnects++;
        else {
            g.connecting--;
            g.failed++;
        }
        conn_close(c, C_CLOSED);
        return;
    }
    recv_now = now_ns();
    c->rlen += (uint32_t)n;
    if (c->state == C_HANDSHAKE)
        on_handshake_bytes(c);
    else
        parse_frames(c);
    /* a big read buffer is kept only while it is needed */
    if (c->rlen == 0 && c->rcap > 262144) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
    }
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        g.connecting--;
        conn_close(c, C_IDLE);
        if (c->attempts < 5) { /* refused under a storm: try again */
            conn_start(c);
        } else {
            g.failed++;
            c->state = C_CLOSED;
        }
        return;
    }
    ep_mod(c, EPOLLIN);
    send_handshake(c);
}

/* ------------------------------------------------------------------- publish */

static char pub_frame_text[65536 + 512];
static int64_t pub_due, pub_sent, pub_step_start, pub_rate;

static void publish_one(uint32_t room)
{
    struct conn *p = &conns[pub_index()];
    if (p->fd < 0 || p->wlen > PUB_BACKLOG_LIMIT)
        return;
    int64_t seq = next_seq++;
    char data[65536 + 128];
    int n = snprintf(data, sizeof data, "{\"t\":%" PRId64 ",\"s\":%" PRId64 ",\"p\":\"", now_ns(),
                     seq);
    memset(data + n, 'x', (size_t)opt.payload);
    n += opt.payload;
    n += snprintf(data + n, sizeof data - (size_t)n, "\"}");
    int m;
    if (opt.dialect == D_RELEVO)
        m = snprintf(pub_frame_text, sizeof pub_frame_text,
                     "{\"id\":%" PRId64 ",\"op\":\"pub\",\"ch\":\"room:%u\",\"ev\":\"m\",\"data\":%s}",
                     seq, room, data);
    else if (opt.dialect == D_SOCKETIO)
        m = snprintf(pub_frame_text, sizeof pub_frame_text,
                     "42[\"pub\",{\"room\":\"room-%u\",\"data\":%s}]", room, data);
    else
        m = snprintf(pub_frame_text, sizeof pub_frame_text,
                     "{\"type\":\"pub\",\"room\":\"room-%u\",\"data\":%s}", room, data);
    ws_send_text(p, pub_frame_text, m);
    step.expected += room_size[room];
    step.seq_hi = next_seq;
    pub_sent++;
}

static void arm_timer(int64_t at_ns)
{
    struct itimerspec its = {0};
    its.it_value.tv_sec = at_ns / NS_PER_S;
    its.it_value.tv_nsec = at_ns % NS_PER_S;
    if (at_ns <= 0)
        its.it_value.tv_nsec = 1;
    if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die("timerfd_settime");
}

static void disarm_timer(void)
{
    struct itimerspec its = {0};
    timerfd_settime(timer_fd, 0, &its, NULL);
}

/* Timer tick: send every message that is due by now (catching up if late). */
static void on_timer(void)
{
    uint64_t expirations;
    if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        die("read timerfd");
    if (pub_rate <= 0)
        return;
    int64_t now = now_ns();
    int64_t due = (now - pub_step_start) * pub_rate / NS_PER_S + 1;
    int64_t limit = (int64_t)(opt.step_secs * (double)pub_rate + 0.5);
    if (due > limit)
        due = limit;
    /* a message due while the publisher is backlogged is skipped, not sent:
       the achieved rate then falls below the target */
    for (; pub_due < due; pub_due++)
        publish_one(opt.rooms == 1 ? 0 : rng() % (uint32_t)opt.rooms);
    if (pub_due < limit)
        arm_timer(pub_step_start + (pub_due * NS_PER_S + pub_rate - 1) / pub_rate);
}

/* ---------------------------------------------------------------- event loop */

typedef int (*done_fn)(void);

/* Runs the loop until done() is true or the deadline passes; returns done(). */
static int loop_until(done_fn done, int64_t deadline)
{
    static struct epoll_event evs[1024];
    while (!done()) {
        int64_t left = deadline - now_ns();
        if (left <= 0)
            return 0;
        int ms = (int)(left / 1000000) + 1;
        if (ms > 100)
            ms = 100;
        int n = epoll_wait(epfd, evs, 1024, ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == UINT32_MAX) {
                on_timer();
                continue;
            }
            struct conn *c = &conns[id];
            if (c->fd < 0)
                continue;
            if (c->state == C_CONNECTING) {
                on_connected(c);
                continue;
            }
            if (evs[i].events & EPOLLOUT && c->wlen > 0)
                conn_flush(c);
            if (c->fd >= 0 && evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(c);
        }
    }
    return 1;
}

static int target_settled;
static int done_settled(void) { return g.subscribed + g.failed >= target_settled && g.connecting == 0; }
static int done_never(void) { return 0; }
static int done_pub_ready(void) { return g.pub_ready; }
static int done_drained(void) { return step.received >= step.expected; }
static int64_t acks_wanted;
static int done_acked(void) { return g.pub_acked + g.pub_errors >= acks_wanted; }

/* Opens subscribers [lo, hi) with at most `window` handshakes in flight. */
static int open_subscribers(int lo, int hi, int window, int64_t deadline)
{
    int next = lo;
    target_settled = g.subscribed + g.failed;
    while (next < hi) {
        int batch = window - g.connecting;
        for (; batch > 0 && next < hi; batch--, next++) {
            conns[next].attempts = 0;
            conn_start(&conns[next]);
        }
        target_settled = g.subscribed + g.failed + g.connecting;
        if (!loop_until(done_settled, now_ns() + 20000000) && now_ns() > deadline)
            return 0;
        /* loop_until returns after 20 ms so the next batch can start */
    }
    target_settled = g.subscribed + g.failed + g.connecting;
    return loop_until(done_settled, deadline);
}

static void print_header(const char *mode)
{
    printf("{\"label\":\"%s\",\"mode\":\"%s\",", opt.label, mode);
}

static int setup(int64_t deadline, int window)
{
    int64_t t0 = now_ns();
    int ok = open_subscribers(0, opt.subs, window, deadline);
    print_header("setup");
    printf("\"subs\":%d,\"subscribed\":%d,\"failed\":%d,\"secs\":%.3f}\n", opt.subs, g.subscribed,
           g.failed, (double)(now_ns() - t0) / 1e9);
    fflush(stdout);
    if (!ok || g.subscribed < opt.subs) {
        print_header("error");
        printf("\"error\":\"only %d of %d subscribers confirmed\"}\n", g.subscribed, opt.subs);
        return 0;
    }
    return 1;
}

static int open_publisher(int64_t deadline)
{
    struct conn *p = &conns[pub_index()];
    p->is_pub = 1;
    conn_start(p);
    if (!loop_until(done_pub_ready, deadline)) {
        print_header("error");
        printf("\"error\":\"publisher did not connect\"}\n");
        return 0;
    }
    return 1;
}

/* --------------------------------------------------------------------- modes */

static int run_publish(void)
{
    int64_t deadline = now_ns() + (int64_t)(opt.timeout_secs * NS_PER_S);
    if (!setup(deadline, opt.concurrency) || !open_publisher(deadline))
        return 1;
    loop_until(done_never, now_ns() + 200000000); /* let the server settle */
    int fails = 0;
    for (int i = 0; i < opt.rate_count; i++) {
        memset(&step, 0, sizeof step);
        step.active = 1;
        step.seq_lo = step.seq_hi = next_seq;
        int disconnects0 = g.disconnects;
        int64_t errors0 = g.pub_errors;
        double srv0 = servers_cpu_s(), all0 = machine_cpu_s(), sys0 = servers_sys_s;
        int64_t gen0 = self_cpu_ns();
        pub_rate = opt.rates[i];
        pub_sent = pub_due = 0;
        pub_step_start = now_ns();
        int64_t window_end = pub_step_start + (int64_t)(opt.step_secs * NS_PER_S);
        arm_timer(pub_step_start);
        loop_until(done_never, window_end);
        pub_rate = 0;
        disarm_timer();
        int64_t sent_at_window = pub_sent;
        loop_until(done_drained, now_ns() + (int64_t)(opt.drain_secs * NS_PER_S));
        int64_t end = now_ns();
        double wall = (double)(end - pub_step_start) / 1e9;
        double srv = servers_cpu_s() - srv0, srv_sys = servers_sys_s - sys0;
        double gen = (double)(self_cpu_ns() - gen0) / 1e9;
        double other = machine_cpu_s() - all0 - srv - gen;
        int64_t received = step.received;
        step.active = 0;
        double achieved = (double)sent_at_window / opt.step_secs;
        int64_t lost = step.expected - received;
        double p99 = h_quantile_ms(&step.lat, 0.99);
        int pass = lost == 0 && p99 < opt.p99_limit_ms && achieved >= 0.95 * (double)opt.rates[i];
        print_header("publish");
        printf("\"step\":%d,\"rate\":%d,\"rooms\":%d,\"subs\":%d,\"window_secs\":%.3f,"
               "\"wall_secs\":%.3f,\"sent\":%" PRId64 ",\"achieved_rate\":%.1f,"
               "\"expected\":%" PRId64 ",\"received\":%" PRId64 ",\"lost\":%" PRId64
               ",\"dups\":%" PRId64 ",\"late\":%" PRId64 ",\"disconnects\":%d,"
               "\"pub_errors\":%" PRId64 ",\"server_cpu_s\":%.3f,\"server_sys_s\":%.3f,\"server_cpu\":%.3f,"
               "\"gen_cpu\":%.3f,\"other_cpu\":%.3f,\"deliveries_per_cpu_s\":%.0f,\"pass\":%s,",
               i, opt.rates[i], opt.rooms, opt.subs, opt.step_secs, wall, sent_at_window,
               achieved, step.expected, received, lost, step.dups, step.late,
               g.disconnects - disconnects0, g.pub_errors - errors0, srv, srv_sys, srv / wall, gen / wall,
               other > 0 ? other / wall : 0.0, srv > 0 ? (double)received / srv : 0.0, pass ? "true" : "false");
        h_print("latency_ms", &step.lat);
        printf("}\n");
        fflush(stdout);
        fails = pass ? 0 : fails + 1;
        if (fails >= opt.max_fail)
            break;
        if (conns[pub_index()].fd < 0)
            break;
    }
    return 0;
}

static int run_idle(void)
{
    int64_t deadline = now_ns() + (int64_t)(opt.timeout_secs * NS_PER_S);
    int warm = opt.subs / 10 < 100 ? opt.subs / 10 : 100;
    if (warm < 1)
        warm = 1;
    if (opt.npids < 1) {
        fprintf(stderr, "loadgen: idle mode needs --server-pid\n");
        return 2;
    }
    /* warm-up connections absorb one-time costs (lazy imports, first buffers) */
    if (!open_subscribers(0, warm, opt.concurrency, deadline))
        goto fail;
    loop_until(done_never, now_ns() + 1000000000);
    int64_t rss0 = proc_rss_kib(opt.pids[0]);
    if (rss0 < 0) {
        fprintf(stderr, "loadgen: cannot read VmRSS of pid %d\n", (int)opt.pids[0]);
        return 2;
    }
    double srv0 = servers_cpu_s();
    int64_t t0 = now_ns();
    if (!open_subscribers(warm, opt.subs, opt.concurrency, deadline))
        goto fail;
    double connect_secs = (double)(now_ns() - t0) / 1e9;
    loop_until(done_never, now_ns() + 2000000000);
    int64_t rss1 = proc_rss_kib(opt.pids[0]);
    int measured = g.subscribed - warm;
    print_header("idle");
    printf("\"conns\":%d,\"measured\":%d,\"failed\":%d,\"rss_before_kib\":%" PRId64
           ",\"rss_after_kib\":%" PRId64 ",\"per_conn_kib\":%.2f,\"connect_secs\":%.3f,"
           "\"server_cpu_s\":%.3f}\n",
           g.subscribed, measured, g.failed, rss0, rss1,
           measured > 0 ? (double)(rss1 - rss0) / measured : 0.0, connect_secs,
           servers_cpu_s() - srv0);
    return 0;
fail:
    print_header("error");
    printf("\"error\":\"only %d of %d subscribers confirmed\"}\n", g.subscribed, opt.subs);
    return 1;
}

static void print_storm(const char *mode, int64_t t0, double srv0, double all0, int64_t gen0,
                        int ok_count)
{
    double secs = (double)(now_ns() - t0) / 1e9;
    double srv = servers_cpu_s() - srv0, gen = (double)(self_cpu_ns() - gen0) / 1e9;
    double other = machine_cpu_s() - all0 - srv - gen;
    print_header(mode);
    printf("\"clients\":%d,\"confirmed\":%d,\"failed\":%d,\"secs\":%.3f,\"server_cpu_s\":%.3f,"
           "\"gen_cpu\":%.3f,\"other_cpu\":%.3f,",
           opt.subs, ok_count, g.failed, secs, srv, gen / secs, other > 0 ? other / secs : 0.0);
}

static int run_storm(void)
{
    int64_t deadline = now_ns() + (int64_t)(opt.timeout_secs * NS_PER_S);
    double srv0 = servers_cpu_s(), all0 = machine_cpu_s();
    int64_t gen0 = self_cpu_ns(), t0 = now_ns();
    for (int i = 0; i < opt.subs; i++)
        conn_start(&conns[i]);
    target_settled = opt.subs;
    loop_until(done_settled, deadline);
    print_storm("storm", t0, srv0, all0, gen0, g.subscribed);
    h_print("confirm_ms", &g.confirm);
    printf("}\n");
    return g.subscribed == opt.subs ? 0 : 1;
}

static int run_recovery(void)
{
    int64_t deadline = now_ns() + (int64_t)(opt.timeout_secs * NS_PER_S);
    if (!setup(deadline, opt.concurrency) || !open_publisher(deadline))
        return 1;
    /* everyone goes away; the publisher publishes `missed` per room meanwhile */
    for (int i = 0; i < opt.subs; i++) {
        conn_close(&conns[i], C_IDLE);
        conns[i].rlen = 0;
    }
    loop_until(done_never, now_ns() + 300000000);
    acks_wanted = 0;
    for (int m = 0; m < opt.missed; m++) {
        for (int r = 0; r < opt.rooms; r++) {
            publish_one((uint32_t)r);
            acks_wanted++;
        }
        loop_until(done_acked, deadline); /* one round per room at a time */
    }
    if (g.pub_errors > 0) {
        print_header("error");
        printf("\"error\":\"%" PRId64 " publishes were refused\"}\n", g.pub_errors);
        return 1;
    }
    /* the storm: all reconnect at once and subscribe with `since` */
    memset(&g.confirm, 0, sizeof g.confirm);
    int subscribed0 = g.subscribed;
    g.subscribed = g.failed = 0;
    memset(room_size, 0, sizeof(int64_t) * (size_t)opt.rooms);
    double srv0 = servers_cpu_s(), all0 = machine_cpu_s();
    int64_t gen0 = self_cpu_ns(), t0 = now_ns();
    for (int i = 0; i < opt.subs; i++) {
        conns[i].attempts = 0;
        conn_start(&conns[i]);
    }
    target_settled = opt.subs;
    loop_until(done_settled, deadline);
    print_storm("recovery", t0, srv0, all0, gen0, g.subscribed);
    int64_t lost = (int64_t)(opt.subs - g.recovered_ok) * opt.missed;
    printf("\"missed_each\":%d,\"recovered\":%d,\"not_recovered\":%d,\"lost\":%" PRId64
           ",\"first_subscribed\":%d,",
           opt.missed, g.recovered_ok, g.recovery_bad + (opt.subs - g.subscribed), lost,
           subscribed0);
    h_print("confirm_ms", &g.confirm);
    printf("}\n");
    return g.recovered_ok == opt.subs ? 0 : 1;
}

/* ---------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    clk_tck = sysconf(_SC_CLK_TCK);
    rng_state ^= (uint32_t)now_ns() | 1u;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    memset(&server_addr, 0, sizeof server_addr);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
        return 2;
    }
    conns = calloc((size_t)opt.subs + 1, sizeof *conns);
    room_size = calloc((size_t)opt.rooms, sizeof *room_size);
    if (conns == NULL || room_size == NULL)
        die("calloc");
    for (int i = 0; i <= opt.subs; i++) {
        conns[i].fd = -1;
        conns[i].room = (uint32_t)(i % opt.rooms);
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epfd < 0 || timer_fd < 0)
        die("epoll/timerfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &ev);

    int rc;
    switch (opt.mode) {
    case M_PUBLISH: rc = run_publish(); break;
    case M_IDLE: rc = run_idle(); break;
    case M_STORM: rc = run_storm(); break;
    default: rc = run_recovery(); break;
    }
    fflush(stdout);
    /* exit closes every socket; the kernel sends the FINs */
    return rc;
}
