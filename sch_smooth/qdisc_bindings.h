/* SPDX-License-Identifier: GPL-2.0 */
/* What bindgen turns into qdisc_bindings.rs for qdisc.rs. */
#include <net/gen_stats.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>
#include "qdisc_helpers.h"
