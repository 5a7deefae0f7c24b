/*
 * rtcheck DOMID: sends invalid real-time parameter sets straight to the
 * hypervisor (XEN_DOMCTL_SCHEDOP_putinfo for credit, bypassing libxl's own
 * checks) and checks that each is refused with EINVAL and that the domain's
 * parameters are unchanged.  Prints one line per case; exits non-zero if
 * any invalid set was accepted.
 *
 * rtcheck --version DOMID: sends a credit getinfo domctl as a raw hypercall
 * with stock 4.17's XEN_DOMCTL_INTERFACE_VERSION (0x15), which the patched
 * hypervisor must refuse with EACCES, and the same with the patched
 * version, which must succeed.
 *
 * rtcheck --admission DOMID: sends a valid set whose utilisation exceeds
 * the admission bound (a vCPU at 100 % of a pCPU, then one that fits a
 * pCPU but not what is left of the pool) straight to the hypervisor; each
 * must fail with ENOSPC, the domain unchanged.
 *
 * rtcheck --info DOMID: the domain's parameters and its cpupool's admission
 * figures, as getinfo returns them, on one line.
 *
 * rtcheck --cputime DOMID...: one line, CLOCK_MONOTONIC in ns then each
 * domain's CPU time in ns (XEN_DOMCTL_getdomaininfo).
 *
 * rtcheck --cpupool-churn CPU ROUNDS: moves CPU from Pool-0 into a new
 * credit cpupool whose time slice is 1 ms (its accounting timer fires every
 * millisecond, its tick every 333 us, both on CPU), lets them run, takes CPU
 * out again, destroys the pool and gives CPU back to Pool-0, ROUNDS times.
 * Each removal runs credit's deinit_pdata while those timers may be firing
 * on CPU: a handler racing the removal hangs or crashes the hypervisor.
 *
 * rtcheck --hold DOMID FRAME: maps the PV domain's machine frame FRAME (its
 * console ring's, say) and keeps it mapped until stdin closes, printing
 * "held" once it is: the page's extra reference keeps the domain, once
 * destroyed, from being freed, as a backend that has not let go would.
 *
 * rtcheck --state DOMID: prints "alive", "dying" (destroyed, not yet freed)
 * or "gone".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <xencall.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>

#define STOCK_417_DOMCTL_VERSION 0x00000015

/* A credit getinfo for domid carrying interface version ver: errno or 0. */
static int raw_getinfo(xencall_handle *xcall, uint32_t domid, uint32_t ver)
{
    struct xen_domctl *d = xencall_alloc_buffer(xcall, sizeof(*d));
    int rc, err = 0;

    if ( !d )
        return ENOMEM;
    memset(d, 0, sizeof(*d));
    d->cmd = XEN_DOMCTL_scheduler_op;
    d->interface_version = ver;
    d->domain = domid;
    d->u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    d->u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
    rc = xencall1(xcall, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)d);
    if ( rc < 0 )
        err = errno;
    xencall_free_buffer(xcall, d);
    return err;
}

static int version_check(uint32_t domid)
{
    xencall_handle *xcall = xencall_open(NULL, 0);
    int stock, ours;

    if ( !xcall )
    {
        perror("rtcheck: xencall_open");
        return 2;
    }
    stock = raw_getinfo(xcall, domid, STOCK_417_DOMCTL_VERSION);
    ours = raw_getinfo(xcall, domid, XEN_DOMCTL_INTERFACE_VERSION);
    xencall_close(xcall);
    printf("rtcheck: domctl with version %#x (stock 4.17): %s; with %#x "
           "(patched): %s\n", STOCK_417_DOMCTL_VERSION,
           stock ? strerror(stock) : "accepted", XEN_DOMCTL_INTERFACE_VERSION,
           ours ? strerror(ours) : "accepted");
    return stock == EACCES && ours == 0 ? 0 : 1;
}

struct rtcase {
    const char *what;
    uint8_t flags, mode, reserve, pad;
    uint32_t period_us, deadline_us, budget_us;
};

/* Each invalid in one respect only (a valid budget where one is needed). */
static const struct rtcase cases[] = {
    { "deadline below 500 us", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 0, 499, 100 },
    { "deadline above 1 s", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 0, 1000001, 100 },
    { "period below deadline", 1, XEN_DOMCTL_CSCHED_RT_PERIODIC, 0, 0, 1000, 2000, 100 },
    { "period above 1 s", 1, XEN_DOMCTL_CSCHED_RT_PERIODIC, 0, 0, 1000001, 2000, 100 },
    { "aperiodic with a period", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 5000, 2000, 100 },
    { "deadline without a mode", 1, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 2000, 0 },
    { "budget without a mode", 1, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 0, 100 },
    { "budget below 100 us", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 0, 2000, 99 },
    { "budget above the deadline", 1, XEN_DOMCTL_CSCHED_RT_PERIODIC, 0, 0, 10000, 2000, 2001 },
    { "reserve above 50 %", 1, XEN_DOMCTL_CSCHED_RT_NONE, 51, 0, 0, 0, 0 },
    { "driver with a deadline", 1, XEN_DOMCTL_CSCHED_RT_DRIVER, 0, 0, 10000, 2000, 1000 },
    { "driver period below 500 us", 1, XEN_DOMCTL_CSCHED_RT_DRIVER, 0, 0, 499, 0, 100 },
    { "driver budget above its period", 1, XEN_DOMCTL_CSCHED_RT_DRIVER, 0, 0, 1000, 0, 1001 },
    { "unknown mode", 1, 7, 0, 0, 0, 2000, 100 },
    { "unknown flag", 3, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 0, 0 },
    { "unknown flag without RT_SET", 2, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 0, 0 },
    { "non-zero padding", 1, XEN_DOMCTL_CSCHED_RT_NONE, 0, 1, 0, 0, 0 },
};

static int same(const struct xen_domctl_sched_credit_rt *a,
                const struct xen_domctl_sched_credit_rt *b)
{
    return a->mode == b->mode && a->reserve == b->reserve &&
           a->period_us == b->period_us && a->deadline_us == b->deadline_us &&
           a->budget_us == b->budget_us;
}

/*
 * A mode set with budget_us 0, as a toolstack that predates budgets sends
 * it, gets the default budget; the domain's parameters are put back after.
 */
static int default_budget_check(xc_interface *xch, uint32_t domid)
{
    struct xen_domctl_sched_credit_rt before, s, after;
    int rc, bad = 0;

    if ( xc_sched_credit_rt_domain_get(xch, domid, &before) )
    {
        perror("rtcheck: reading the domain's parameters");
        return 2;
    }
    s = before;
    s.flags = XEN_DOMCTL_CSCHED_RT_SET;
    s.mode = XEN_DOMCTL_CSCHED_RT_APERIODIC;
    s.pad = s.pad2 = 0;
    s.period_us = 0;
    s.deadline_us = 5000;
    s.budget_us = 0;
    rc = xc_sched_credit_rt_domain_set(xch, domid, &s);
    if ( rc || xc_sched_credit_rt_domain_get(xch, domid, &after) )
    {
        printf("rtcheck: aperiodic, deadline 5000 us, budget 0: %s\n",
               strerror(errno));
        return 1;
    }
    printf("rtcheck: aperiodic, deadline 5000 us, budget 0: accepted, "
           "budget %u us (default %u)\n", after.budget_us,
           XEN_DOMCTL_CSCHED_RT_BUDGET_DEFAULT_US);
    if ( after.mode != XEN_DOMCTL_CSCHED_RT_APERIODIC ||
         after.budget_us != XEN_DOMCTL_CSCHED_RT_BUDGET_DEFAULT_US )
        bad++;

    s = before;
    s.flags = XEN_DOMCTL_CSCHED_RT_SET;
    s.pad = s.pad2 = 0;
    if ( xc_sched_credit_rt_domain_set(xch, domid, &s) ||
         xc_sched_credit_rt_domain_get(xch, domid, &after) ||
         !same(&before, &after) )
    {
        printf("rtcheck: putting the parameters back failed\n");
        bad++;
    }
    return bad ? 1 : 0;
}

/* Valid sets beyond the admission bound must fail with ENOSPC. */
static int admission_check(xc_interface *xch, uint32_t domid)
{
    struct xen_domctl_sched_credit_rt before, s, after;
    uint32_t left, bound;
    unsigned int bad = 0, i;
    int rc, err;

    if ( xc_sched_credit_rt_domain_get(xch, domid, &before) )
    {
        perror("rtcheck: reading the domain's parameters");
        return 2;
    }
    bound = before.util_bound_ppm;
    printf("rtcheck: bound %u ppm per pCPU, pool at %u ppm over %u pCPU(s)\n",
           bound, before.pool_util_ppm, before.pool_cpus);
    for ( i = 0; i < 2; i++ )
    {
        s = before;
        s.flags = XEN_DOMCTL_CSCHED_RT_SET;
        s.mode = XEN_DOMCTL_CSCHED_RT_APERIODIC;
        s.period_us = 0;
        s.deadline_us = 10000;
        if ( i == 0 )       /* one vCPU at 100 %: above any bound */
            s.budget_us = 10000;
        else
        {
            /* Just fits one pCPU's bound, but not what the pool has left. */
            left = bound * before.pool_cpus - before.pool_util_ppm;
            s.budget_us = bound / 100;          /* bound, in 1e-4 of 10 ms */
            if ( (uint64_t)s.budget_us * 100 <= left )
            {
                printf("rtcheck: the pool has %u ppm left, fill it first\n",
                       left);
                return 2;
            }
        }
        rc = xc_sched_credit_rt_domain_set(xch, domid, &s);
        err = errno;
        if ( xc_sched_credit_rt_domain_get(xch, domid, &after) )
        {
            perror("rtcheck: reading back");
            return 2;
        }
        printf("rtcheck: aperiodic budget %u us per %u us: %s (%s)%s\n",
               s.budget_us, s.deadline_us, rc ? "refused" : "ACCEPTED",
               rc ? strerror(err) : "-",
               same(&before, &after) ? ", unchanged" : ", CHANGED");
        if ( rc == 0 || err != ENOSPC || !same(&before, &after) )
            bad++;
    }
    return bad ? 1 : 0;
}

static int cputime(int argc, char **argv)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    struct timespec ts;
    int i;

    if ( !xch )
    {
        perror("rtcheck: xc_interface_open");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%llu", (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
    for ( i = 0; i < argc; i++ )
    {
        xc_domaininfo_t info;
        uint32_t domid = strtoul(argv[i], NULL, 10);

        if ( xc_domain_getinfolist(xch, domid, 1, &info) != 1 ||
             info.domain != domid )
        {
            fprintf(stderr, "rtcheck: no domain %u\n", domid);
            return 2;
        }
        printf(" %llu", (unsigned long long)info.cpu_time);
    }
    printf("\n");
    xc_interface_close(xch);
    return 0;
}

static int hold(uint32_t domid, xen_pfn_t frame)
{
    xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);
    int err = 0;
    void *page;
    char c;

    if ( !fmem )
    {
        perror("rtcheck: xenforeignmemory_open");
        return 2;
    }
    page = xenforeignmemory_map(fmem, domid, PROT_READ, 1, &frame, &err);
    if ( !page || err )
    {
        fprintf(stderr, "rtcheck: mapping d%u's frame %#lx: %s\n", domid,
                (unsigned long)frame, strerror(err ?: errno));
        return 2;
    }
    printf("held\n");
    fflush(stdout);
    while ( read(0, &c, 1) > 0 )
        ;
    xenforeignmemory_unmap(fmem, page, 1);
    xenforeignmemory_close(fmem);
    return 0;
}

static int state(uint32_t domid)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    xc_domaininfo_t info;

    if ( !xch )
    {
        perror("rtcheck: xc_interface_open");
        return 2;
    }
    if ( xc_domain_getinfolist(xch, domid, 1, &info) != 1 ||
         info.domain != domid )
        printf("gone\n");
    else
        printf("%s\n", info.flags & XEN_DOMINF_dying ? "dying" : "alive");
    xc_interface_close(xch);
    return 0;
}

static int cpupool_churn(unsigned int cpu, unsigned int rounds)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    struct xen_sysctl_credit_schedule fast = {
        .tslice_ms = 1, .ratelimit_us = 1000, .vcpu_migr_delay_us = 0,
    };
    unsigned int round;

    if ( !xch )
    {
        perror("rtcheck: xc_interface_open");
        return 2;
    }
    for ( round = 0; round < rounds; round++ )
    {
        uint32_t pool = XC_CPUPOOL_POOLID_ANY;
        const char *step;

        step = "removing the pCPU from Pool-0";
        if ( xc_cpupool_removecpu(xch, 0, cpu) )
            goto fail;
        step = "creating a credit cpupool";
        if ( xc_cpupool_create(xch, &pool, XEN_SCHEDULER_CREDIT) )
            goto fail;
        step = "setting its time slice to 1 ms";
        if ( xc_sched_credit_params_set(xch, pool, &fast) )
            goto fail;
        step = "adding the pCPU to it";
        if ( xc_cpupool_addcpu(xch, pool, cpu) )
            goto fail;
        usleep(3000);
        step = "removing the pCPU from it";
        if ( xc_cpupool_removecpu(xch, pool, cpu) )
            goto fail;
        step = "destroying it";
        if ( xc_cpupool_destroy(xch, pool) )
            goto fail;
        step = "giving the pCPU back to Pool-0";
        if ( xc_cpupool_addcpu(xch, 0, cpu) )
            goto fail;
        continue;
 fail:
        fprintf(stderr, "rtcheck: round %u: %s: %s\n", round, step,
                strerror(errno));
        xc_interface_close(xch);
        return 1;
    }
    printf("rtcheck: pCPU %u moved through %u cpupools\n", cpu, rounds);
    xc_interface_close(xch);
    return 0;
}

/* Runs check on the domain DOMID names, with an open interface. */
static int run_check(int (*check)(xc_interface *, uint32_t), const char *domid)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    int rc;

    if ( !xch )
    {
        perror("rtcheck: xc_interface_open");
        return 2;
    }
    rc = check(xch, strtoul(domid, NULL, 10));
    xc_interface_close(xch);
    return rc;
}

int main(int argc, char **argv)
{
    xc_interface *xch;
    struct xen_domctl_sched_credit_rt before, s, after;
    uint32_t domid;
    unsigned int i, bad = 0;

    if ( argc == 3 && !strcmp(argv[1], "--version") )
        return version_check(strtoul(argv[2], NULL, 10));
    if ( argc >= 2 && !strcmp(argv[1], "--cputime") )
        return cputime(argc - 2, argv + 2);
    if ( argc == 4 && !strcmp(argv[1], "--cpupool-churn") )
        return cpupool_churn(strtoul(argv[2], NULL, 10),
                             strtoul(argv[3], NULL, 10));
    if ( argc == 4 && !strcmp(argv[1], "--hold") )
        return hold(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 0));
    if ( argc == 3 && !strcmp(argv[1], "--state") )
        return state(strtoul(argv[2], NULL, 10));
    if ( argc == 3 && !strcmp(argv[1], "--admission") )
        return run_check(admission_check, argv[2]);
    if ( argc == 3 && !strcmp(argv[1], "--default-budget") )
        return run_check(default_budget_check, argv[2]);
    if ( argc == 3 && !strcmp(argv[1], "--info") )
    {
        xch = xc_interface_open(NULL, NULL, 0);
        if ( !xch ||
             xc_sched_credit_rt_domain_get(xch, strtoul(argv[2], NULL, 10),
                                           &before) )
        {
            perror("rtcheck: reading the domain's parameters");
            return 2;
        }
        printf("mode %u deadline %u period %u budget %u reserve %u "
               "bound %u pool %u cpus %u\n", before.mode, before.deadline_us,
               before.period_us, before.budget_us, before.reserve,
               before.util_bound_ppm, before.pool_util_ppm, before.pool_cpus);
        xc_interface_close(xch);
        return 0;
    }
    if ( argc != 2 )
    {
        fprintf(stderr, "usage: rtcheck [--version|--admission|"
                "--default-budget|--info|--state] DOMID | --cputime DOMID... | "
                "--cpupool-churn CPU ROUNDS | --hold DOMID FRAME\n");
        return 2;
    }
    domid = strtoul(argv[1], NULL, 10);
    xch = xc_interface_open(NULL, NULL, 0);
    if ( !xch || xc_sched_credit_rt_domain_get(xch, domid, &before) )
    {
        perror("rtcheck: reading the domain's parameters");
        return 2;
    }

    for ( i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        const struct rtcase *c = &cases[i];
        int rc, err;

        s = before;
        s.flags = c->flags;
        s.mode = c->mode;
        s.reserve = c->reserve;
        s.pad = c->pad;
        s.period_us = c->period_us;
        s.deadline_us = c->deadline_us;
        s.budget_us = c->budget_us;
        s.pad2 = 0;
        rc = xc_sched_credit_rt_domain_set(xch, domid, &s);
        err = errno;
        if ( xc_sched_credit_rt_domain_get(xch, domid, &after) )
        {
            perror("rtcheck: reading back");
            return 2;
        }
        if ( rc == 0 || err != EINVAL || !same(&before, &after) )
        {
            printf("rtcheck: %s: ACCEPTED or wrong error (rc %d, %s)\n",
                   c->what, rc, strerror(err));
            bad++;
        }
        else
            printf("rtcheck: %s: refused (EINVAL), unchanged\n", c->what);
    }

    xc_interface_close(xch);
    return bad ? 1 : 0;
}
