/*
 * rtcheck DOMID: sends invalid real-time parameter sets straight to the
 * hypervisor (XEN_DOMCTL_SCHEDOP_putinfo for credit, bypassing libxl's own
 * checks) and checks that each is refused with EINVAL and that the domain's
 * parameters are unchanged.  Prints one line per case; exits non-zero if
 * any invalid set was accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

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

    if ( argc != 2 )
    {
        fprintf(stderr, "usage: rtcheck DOMID\n");
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
