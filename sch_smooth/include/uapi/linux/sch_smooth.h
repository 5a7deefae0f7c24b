/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The netlink interface of the smooth qdisc (TCA_KIND "smooth").
 * Generated from smooth-core's options and xstats tables by
 * `cargo xtask gen`: do not edit. Values are native-endian.
 */
#ifndef _UAPI_LINUX_SCH_SMOOTH_H
#define _UAPI_LINUX_SCH_SMOOTH_H

#include <linux/types.h>

/* Attributes nested in TCA_OPTIONS. */
enum {
	TCA_SMOOTH_UNSPEC = 0,
	TCA_SMOOTH_RATE = 1,	/* u64, bytes/s: the long-run rate a backlog gets, counted on L2 frames */
	TCA_SMOOTH_WINDOW = 2,	/* u64, ns: how far a packet's delay may rise above the window's floor before the floor moves up */
	TCA_SMOOTH_BURST = 3,	/* u64, ns: token-bucket depth as time at the rate: the bucket holds rate x burst bytes */
	TCA_SMOOTH_MAX_DELAY = 4,	/* u64, ns: ceiling on any packet's delay; a packet that would wait longer is dropped */
	TCA_SMOOTH_LIMIT = 5,	/* u32, packets: queue limit in packets */
	TCA_SMOOTH_LIMIT_BYTES = 6,	/* u32, bytes: queue limit in bytes, 0 for none */
	TCA_SMOOTH_PAD = 7,
	__TCA_SMOOTH_MAX
};

#define TCA_SMOOTH_MAX (__TCA_SMOOTH_MAX - 1)

#define TC_SMOOTH_XSTATS_VERSION 4
#define TC_SMOOTH_HIST_BUCKETS 16

/*
 * TCA_STATS_APP. Fields are only ever appended: a reader decodes the
 * prefix it knows (version 3 and later) and ignores the rest.
 */
struct tc_smooth_xstats {
	/* Layout version of the writer. */
	__u64 version;
	/* The window's floor now: the delay the next packet gets unless the bucket forces more or credit would overflow, ns. */
	__u64 window_min;
	/* The window's top (floor + `window`), ns. */
	__u64 window_max;
	/* How long until the token bucket is full again (0: full), ns. */
	__u64 credit_owed;
	/* Times the window rose: credit ran short and a packet had to be held more than `window` above the floor. */
	__u64 raised;
	/* Times the window slid down: holding a packet at the floor would have let the full bucket overflow. */
	__u64 lowered;
	/* Drops at the packet limit. */
	__u64 drops_limit;
	/* Drops at the byte limit. */
	__u64 drops_bytes;
	/* Drops at the delay ceiling (`max_delay`). */
	__u64 drops_ceiling;
	/* Admitted packets that had to wait (counted like `overlimits`). */
	__u64 throttled;
	/* GSO packets split into segments because they were larger than the bucket. */
	__u64 gso_segmented;
	/* Smallest time from enqueue to dequeue (0 if none yet), ns. */
	__u64 sojourn_min;
	/* Largest time from enqueue to dequeue, ns. */
	__u64 sojourn_max;
	/* Largest lateness: dequeue time minus the release time the algorithm chose (timer slack, softirq and scheduling delay), ns. */
	__u64 lateness_max;
	/* Packets per sojourn bucket: `<128us`, `<256us`, … `>=2097152us`. */
	__u64 sojourn_hist[TC_SMOOTH_HIST_BUCKETS];
	/* Packets per lateness bucket, the same buckets. */
	__u64 lateness_hist[TC_SMOOTH_HIST_BUCKETS];
	/* version 4 */
	/* Drops of GSO packets that could not be segmented; with the other drops they add up to the qdisc's `drops`. */
	__u64 drops_gso;
};

#endif /* _UAPI_LINUX_SCH_SMOOTH_H */
