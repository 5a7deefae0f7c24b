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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xencall.h>
#include <xenctrl.h>

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
    uint32_t period_us, deadline_us;
};

static const struct rtcase cases[] = {
    { "deadline below 500 us", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 0, 499 },
    { "deadline above 1 s", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 0, 1000001 },
    { "period below deadline", 1, XEN_DOMCTL_CSCHED_RT_PERIODIC, 0, 0, 1000, 2000 },
    { "period above 1 s", 1, XEN_DOMCTL_CSCHED_RT_PERIODIC, 0, 0, 1000001, 2000 },
    { "aperiodic with a period", 1, XEN_DOMCTL_CSCHED_RT_APERIODIC, 0, 0, 5000, 2000 },
    { "deadline without a mode", 1, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 2000 },
    { "reserve above 50 %", 1, XEN_DOMCTL_CSCHED_RT_NONE, 51, 0, 0, 0 },
    { "unknown mode", 1, 7, 0, 0, 0, 2000 },
    { "unknown flag", 3, XEN_DOMCTL_CSCHED_RT_NONE, 0, 0, 0, 0 },
    { "non-zero padding", 1, XEN_DOMCTL_CSCHED_RT_NONE, 0, 1, 0, 0 },
};

int main(int argc, char **argv)
{
    xc_interface *xch;
    struct xen_domctl_sched_credit_rt before, s, after;
    uint32_t domid;
    unsigned int i, bad = 0;

    if ( argc == 3 && !strcmp(argv[1], "--version") )
        return version_check(strtoul(argv[2], NULL, 10));
    if ( argc != 2 )
    {
        fprintf(stderr, "usage: rtcheck [--version] DOMID\n");
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
        rc = xc_sched_credit_rt_domain_set(xch, domid, &s);
        err = errno;
        if ( xc_sched_credit_rt_domain_get(xch, domid, &after) )
        {
            perror("rtcheck: reading back");
            return 2;
        }
        if ( rc == 0 || err != EINVAL ||
             after.mode != before.mode || after.reserve != before.reserve ||
             after.period_us != before.period_us ||
             after.deadline_us != before.deadline_us )
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
