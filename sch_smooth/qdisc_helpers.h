/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for the static inlines of the qdisc API that Rust cannot call
 * directly (6.12 has no networking helpers in rust/helpers). Each is a
 * one-line forward; all the reasoning about them lives in qdisc.rs.
 */
#ifndef SMOOTH_QDISC_HELPERS_H
#define SMOOTH_QDISC_HELPERS_H

#include <linux/types.h>

struct Qdisc;
struct sk_buff;
struct nlattr;
struct netlink_ext_ack;

u64 rsch_now_ns(void);
void rsch_tree_lock(struct Qdisc *sch);
void rsch_tree_unlock(struct Qdisc *sch);

/*
 * The per-packet path, a few calls per packet rather than one per field
 * (each is an out-of-line call from Rust).
 */
struct rsch_arrival {
	u64 now;		/* ktime_get_ns() */
	u32 len;		/* qdisc_pkt_len(skb) */
	u32 qlen;		/* packets queued */
	u32 backlog;		/* bytes queued */
	bool gso;		/* skb_is_gso(skb) */
};
void rsch_arrival(const struct Qdisc *sch, const struct sk_buff *skb,
		  struct rsch_arrival *out);
int rsch_enqueue_stamped(struct sk_buff *skb, struct Qdisc *sch,
			 u64 release, u64 arrival, bool overlimit);
/*
 * Dequeue: the head if its release time has come. Writes every field of
 * *out: with a packet queued, the head's stamps and the time (read once,
 * only then), so a head not yet due says when to wake; else zeroes.
 */
struct rsch_head {
	bool queued;		/* a packet is queued */
	u64 release;		/* its release time */
	u64 arrival;		/* its arrival time */
	u64 now;		/* ktime_get_ns() */
};
struct sk_buff *rsch_dequeue_due(struct Qdisc *sch, struct rsch_head *out);
struct rsch_counts {
	u32 qlen;		/* packets queued */
	u32 backlog;		/* bytes queued */
};
void rsch_counts(const struct Qdisc *sch, struct rsch_counts *out);
/* Change: the queue walked head to tail, release times rewritten in place. */
struct sk_buff *rsch_queue_head(const struct Qdisc *sch);
struct sk_buff *rsch_queue_next(const struct sk_buff *skb);
u64 *rsch_release_stamp(struct sk_buff *skb);
void rsch_kfree_skb(struct sk_buff *skb);

struct sk_buff *rsch_peek_dequeued(struct Qdisc *sch);
int rsch_drop(struct sk_buff *skb, struct Qdisc *sch, struct sk_buff **to_free);
void rsch_reset_queue(struct Qdisc *sch);

struct sk_buff *rsch_gso_segment(struct sk_buff *skb);
struct sk_buff *rsch_skb_list_pop(struct sk_buff **list);
void rsch_segmented(struct Qdisc *sch, struct sk_buff *orig, int segments,
		    unsigned int bytes);

const void *rsch_nla_data(const struct nlattr *nla);
int rsch_nla_len(const struct nlattr *nla);
struct nlattr *rsch_nest_start(struct sk_buff *skb, int type);
int rsch_nest_end(struct sk_buff *skb, struct nlattr *nest);
void rsch_nest_cancel(struct sk_buff *skb, struct nlattr *nest);
int rsch_put_u64(struct sk_buff *skb, int type, u64 value, int pad);
int rsch_put_u32(struct sk_buff *skb, int type, u32 value);
void rsch_set_err(struct netlink_ext_ack *extack, const struct nlattr *bad,
		  const char *msg);

/* Layout facts bindgen's view of the structs is checked against at load. */
size_t rsch_layout(int what);

#endif
