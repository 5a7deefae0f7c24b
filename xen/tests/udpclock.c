/*
 * udpclock: a periodic sender in a guest and a receiver in dom0, to measure
 * how regularly a guest doing self-initiated I/O gets to run.
 *
 *   udpclock serve
 *       (guest) waits on UDP port 5001 for
 *       "go RUN COUNT INTERVAL_US [SIZE [WORK_US [GRID_US]]]" and sends COUNT
 *       datagrams of SIZE bytes (default the header alone, 24; at most
 *       1472) back to the requester: datagram k is due at
 *       start + k * INTERVAL_US (absolute CLOCK_MONOTONIC sleeps, so a late
 *       wake-up does not shift the later ones); with GRID_US the wake-up is
 *       forced onto the next point of a grid of that period (as if the vCPU
 *       were provisioned only every GRID_US).  Once awake the sender
 *       first computes WORK_US (by the clock, as `wake` spins) and then
 *       sends it, stamped with its lateness: send time - due time - WORK_US
 *       on the guest's own clock.  A repeated RUN is ignored.
 *
 *   udpclock recv LABEL GUEST_IP COUNT INTERVAL_US [SIZE [WORK_US [GRID_US]]]
 *       (dom0) asks the guest for COUNT datagrams (of SIZE bytes: a flow of
 *       SIZE * 8 / INTERVAL_US Mbit/s) and timestamps each on
 *       arrival.  Prints two lines:
 *         SMOOTH-XEN-PERIODIC LABEL: received n/COUNT
 *           late p50 .. p90 .. p99 .. max .. ms  jitter p50 .. p99 .. max .. ms
 *         SMOOTH-XEN-SENDER {"label":…,"count":…,"received":…,
 *           "send_late_ms":{"p50":…,"p90":…,"p99":…,"max":…},
 *           "arrival_late_ms":{…},"j_mean_ms":…,"j_final_ms":…}
 *       late (arrival_late): arrival of datagram k minus (k * INTERVAL),
 *       relative to the earliest such value (the delay beyond the best
 *       case); jitter: |gap - INTERVAL| between consecutive datagrams;
 *       send_late: the sender's own stamps; J: RFC 3550's interarrival
 *       jitter with the schedule as the RTP timestamp (mean over the run,
 *       and its last value).  Exit status 0 if at least 90 % arrived.
 *
 *   udpclock wake SPIN_US SLEEP_US
 *       (guest) blocks and wakes forever: spins SPIN_US by the clock, then
 *       sleeps SLEEP_US.  The spin is measured in time, not iterations, so
 *       the vCPU's demand stays SPIN / (SPIN + SLEEP) however slowly the
 *       CPU is emulated, and every sleep blocks the vCPU.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORT 5001
#define MAGIC 0x736d6f6fU /* "smoo" */
#define MAX_SIZE 1472    /* one Ethernet frame */

struct dgram {
    uint32_t magic, run, seq, pad;
    int64_t late_ns; /* send time - due time - work, the sender's clock */
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
        ;
}

static int serve(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    unsigned int last_run = 0;
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
        perror("udpclock serve");
        return 1;
    }
    for (;;) {
        char buf[128];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        unsigned int run, count, interval_us, k, size = 0, work_us = 0, grid_us = 0;
        static char payload[MAX_SIZE];
        ssize_t n = recvfrom(s, buf, sizeof(buf) - 1, 0,
                             (struct sockaddr *)&from, &fl);
        int64_t start;

        if (n <= 0)
            continue;
        buf[n] = 0;
        if (sscanf(buf, "go %u %u %u %u %u %u", &run, &count, &interval_us, &size,
                   &work_us, &grid_us) < 3 ||
            run == last_run || interval_us == 0)
            continue;
        if (size < sizeof(struct dgram) || size > MAX_SIZE)
            size = sizeof(struct dgram);
        last_run = run;
        start = now_ns() + 20000000;
        for (k = 0; k < count; k++) {
            int64_t due = start + (int64_t)k * interval_us * 1000;
            int64_t grid = (int64_t)grid_us * 1000, wake = due, done;
            struct dgram d = { MAGIC, run, k, 0, 0 };

            /* The grid's points are start + grid / 2 + i * grid. */
            if (grid > 0)
                wake = start + grid / 2 +
                       (due - start - grid / 2 + grid - 1) / grid * grid;
            sleep_until(wake);
            done = now_ns() + (int64_t)work_us * 1000;
            while (now_ns() < done)
                ;
            d.late_ns = now_ns() - due - (int64_t)work_us * 1000;
            memcpy(payload, &d, sizeof(d));
            sendto(s, payload, size, 0, (struct sockaddr *)&from, fl);
        }
    }
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The q-quantile of n sorted values, in ms (nearest rank). */
static double pct(const int64_t *v, unsigned int n, double q)
{
    unsigned int i = (unsigned int)(q * n + 0.999999);

    if (n == 0)
        return -1;
    if (i < 1)
        i = 1;
    if (i > n)
        i = n;
    return v[i - 1] / 1e6;
}

/* "{"p50":…,"p90":…,"p99":…,"max":…}" of n sorted values, ms. */
static void print_dist(const char *name, const int64_t *v, unsigned int n)
{
    printf("\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}", name,
           pct(v, n, 0.5), pct(v, n, 0.9), pct(v, n, 0.99), pct(v, n, 1.0));
}

static int recv_run(const char *label, const char *ip, unsigned int count,
                    unsigned int interval_us, unsigned int size, unsigned int work_us,
                    unsigned int grid_us)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
    int64_t *arr = calloc(count, sizeof(*arr));
    int64_t *late = calloc(count, sizeof(*late));
    int64_t *jit = calloc(count, sizeof(*jit));
    int64_t *sent_late = calloc(count, sizeof(*sent_late));
    double j = 0, j_sum = 0;
    unsigned int nd = 0, n_j = 0;
    int64_t interval = (int64_t)interval_us * 1000, base, deadline, last = 0;
    int64_t next_go = 0, tries = 0;
    unsigned int run = (unsigned int)(now_ns() / 1000) | 1, got = 0, nl = 0,
                 nj = 0, k;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    char go[96];

    if (s < 0 || !arr || !late || !jit || !sent_late || inet_pton(AF_INET, ip, &to.sin_addr) != 1) {
        perror("udpclock recv");
        return 2;
    }
    snprintf(go, sizeof(go), "go %u %u %u %u %u %u", run, count, interval_us, size, work_us,
             grid_us);
    /* Whole run at three times the nominal length, plus 30 s to start. */
    deadline = now_ns() + 3 * (int64_t)count * interval + 30000000000LL;
    while (got < count && now_ns() < deadline) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        struct dgram d;
        int64_t t = now_ns();

        if (got == 0 && t >= next_go) { /* ask (again) until data flows */
            sendto(s, go, strlen(go), 0, (struct sockaddr *)&to, sizeof(to));
            next_go = t + 1000000000;
            tries++;
        }
        if (got > 0 && t - last > 5000000000LL)
            break; /* the sender is done or gone */
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (recv(s, &d, sizeof(d), 0) != sizeof(d)) /* the header; the rest is cut */
            continue;
        t = now_ns();
        if (d.magic != MAGIC || d.run != run || d.seq >= count || arr[d.seq])
            continue;
        arr[d.seq] = t;
        sent_late[nd++] = d.late_ns;
        last = t;
        got++;
    }
    base = INT64_MAX;
    for (k = 0; k < count; k++)
        if (arr[k] && arr[k] - (int64_t)k * interval < base)
            base = arr[k] - (int64_t)k * interval;
    for (k = 0; k < count; k++) {
        if (arr[k])
            late[nl++] = arr[k] - (int64_t)k * interval - base;
        if (k > 0 && arr[k] && arr[k - 1]) {
            int64_t g = arr[k] - arr[k - 1] - interval;

            jit[nj++] = g < 0 ? -g : g;
            /* RFC 3550 6.4.1: J += (|D(i-1,i)| - J) / 16, in ms. */
            j += ((g < 0 ? -g : g) / 1e6 - j) / 16;
            j_sum += j;
            n_j++;
        }
    }
    qsort(late, nl, sizeof(*late), cmp);
    qsort(jit, nj, sizeof(*jit), cmp);
    printf("SMOOTH-XEN-PERIODIC %s: received %u/%u late p50 %.1f p90 %.1f "
           "p99 %.1f max %.1f ms jitter p50 %.1f p99 %.1f max %.1f ms "
           "(asked %lld times)\n",
           label, got, count, pct(late, nl, 0.5), pct(late, nl, 0.9),
           pct(late, nl, 0.99), pct(late, nl, 1.0), pct(jit, nj, 0.5),
           pct(jit, nj, 0.99), pct(jit, nj, 1.0), (long long)tries);
    qsort(sent_late, nd, sizeof(*sent_late), cmp);
    printf("SMOOTH-XEN-SENDER {\"label\":\"%s\",\"count\":%u,\"received\":%u,", label,
           count, got);
    print_dist("send_late_ms", sent_late, nd);
    printf(",");
    print_dist("arrival_late_ms", late, nl);
    printf(",\"j_mean_ms\":%.3f,\"j_final_ms\":%.3f}\n", n_j ? j_sum / n_j : 0, j);
    free(arr);
    free(late);
    free(jit);
    free(sent_late);
    close(s);
    return got >= count * 9 / 10 ? 0 : 1;
}

static int wake(unsigned int spin_us, unsigned int sleep_us)
{
    struct timespec ts = { .tv_sec = sleep_us / 1000000,
                           .tv_nsec = (long)(sleep_us % 1000000) * 1000 };

    for (;;) {
        int64_t end = now_ns() + (int64_t)spin_us * 1000;

        while (now_ns() < end)
            ;
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "serve"))
        return serve();
    if (argc >= 6 && argc <= 9 && !strcmp(argv[1], "recv"))
        return recv_run(argv[2], argv[3], (unsigned int)atoi(argv[4]),
                        (unsigned int)atoi(argv[5]),
                        argc >= 7 ? (unsigned int)atoi(argv[6]) : 0,
                        argc >= 8 ? (unsigned int)atoi(argv[7]) : 0,
                        argc == 9 ? (unsigned int)atoi(argv[8]) : 0);
    if (argc == 4 && !strcmp(argv[1], "wake"))
        return wake((unsigned int)atoi(argv[2]), (unsigned int)atoi(argv[3]));
    fprintf(stderr, "usage: udpclock serve | udpclock recv LABEL IP COUNT INTERVAL_US [SIZE [WORK_US [GRID_US]]]"
            " | udpclock wake SPIN_US SLEEP_US\n");
    return 2;
}
