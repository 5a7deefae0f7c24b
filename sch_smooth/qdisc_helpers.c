// SPDX-License-Identifier: GPL-2.0
/* One-line forwards for the qdisc API's static inlines; see qdisc.rs. */

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/gso.h>
#include <net/netlink.h>
#include <net/pkt_sched.h>
#include <net/sch_generic.h>

#include "qdisc_helpers.h"

u64 rsch_now_ns(void) { return ktime_get_ns(); }
void rsch_tree_lock(struct Qdisc *sch) { sch_tree_lock(sch); }
void rsch_tree_unlock(struct Qdisc *sch) { sch_tree_unlock(sch); }

void rsch_arrival(const struct Qdisc *sch, const struct sk_buff *skb,
		  struct rsch_arrival *out)
{
	out->now = ktime_get_ns();
	out->len = qdisc_pkt_len(skb);
	out->qlen = sch->q.qlen;
	out->backlog = sch->qstats.backlog;
	out->gso = skb_is_gso(skb);
}

/* Two u64 per packet in the qdisc cb: release time and arrival time. */
static u64 *rsch_stamps(const struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(qdisc_skb_cb(skb)->data) < 2 * sizeof(u64));
	BUILD_BUG_ON(offsetof(struct qdisc_skb_cb, data) % sizeof(u64));
	return (u64 *)qdisc_skb_cb(skb)->data;
}

int rsch_enqueue_stamped(struct sk_buff *skb, struct Qdisc *sch,
			 u64 release, u64 arrival, bool overlimit)
{
	u64 *stamps = rsch_stamps(skb);

	stamps[0] = release;
	stamps[1] = arrival;
	if (overlimit)
		qdisc_qstats_overlimit(sch);
	return qdisc_enqueue_tail(skb, sch);
}

struct sk_buff *rsch_dequeue_due(struct Qdisc *sch, struct rsch_head *out)
{
	struct sk_buff *head = qdisc_peek_head(sch);
	const u64 *stamps;

	if (!head) {
		*out = (struct rsch_head){ .queued = false };
		return NULL;
	}
	stamps = rsch_stamps(head);
	out->queued = true;
	out->release = stamps[0];
	out->arrival = stamps[1];
	out->now = ktime_get_ns();
	if (out->release > out->now)
		return NULL;
	return qdisc_dequeue_head(sch);
}

void rsch_counts(const struct Qdisc *sch, struct rsch_counts *out)
{
	out->qlen = sch->q.qlen;
	out->backlog = sch->qstats.backlog;
}

struct sk_buff *rsch_queue_head(const struct Qdisc *sch) { return sch->q.head; }
struct sk_buff *rsch_queue_next(const struct sk_buff *skb) { return skb->next; }
u64 *rsch_release_stamp(struct sk_buff *skb) { return &rsch_stamps(skb)[0]; }

void rsch_kfree_skb(struct sk_buff *skb) { kfree_skb(skb); }

struct sk_buff *rsch_peek_dequeued(struct Qdisc *sch) { return qdisc_peek_dequeued(sch); }
int rsch_drop(struct sk_buff *skb, struct Qdisc *sch, struct sk_buff **to_free)
{
	return qdisc_drop(skb, sch, to_free);
}
void rsch_reset_queue(struct Qdisc *sch) { qdisc_reset_queue(sch); }

/* As tbf_segment(): software-segment a GSO packet; NULL on failure. */
struct sk_buff *rsch_gso_segment(struct sk_buff *skb)
{
	netdev_features_t features = netif_skb_features(skb);
	struct sk_buff *segs = skb_gso_segment(skb, features & ~NETIF_F_GSO_MASK);

	return IS_ERR_OR_NULL(segs) ? NULL : segs;
}

struct sk_buff *rsch_skb_list_pop(struct sk_buff **list)
{
	struct sk_buff *skb = *list;

	if (skb) {
		*list = skb->next;
		skb_mark_not_on_list(skb);
		qdisc_skb_cb(skb)->pkt_len = skb->len;
	}
	return skb;
}

/* @orig became @segments queued packets of @bytes: tell the ancestors. */
void rsch_segmented(struct Qdisc *sch, struct sk_buff *orig, int segments,
		    unsigned int bytes)
{
	qdisc_tree_reduce_backlog(sch, 1 - segments, qdisc_pkt_len(orig) - bytes);
	consume_skb(orig);
}

const void *rsch_nla_data(const struct nlattr *nla) { return nla_data(nla); }
int rsch_nla_len(const struct nlattr *nla) { return nla_len(nla); }
struct nlattr *rsch_nest_start(struct sk_buff *skb, int type) { return nla_nest_start_noflag(skb, type); }
int rsch_nest_end(struct sk_buff *skb, struct nlattr *nest) { return nla_nest_end(skb, nest); }
void rsch_nest_cancel(struct sk_buff *skb, struct nlattr *nest) { nla_nest_cancel(skb, nest); }
int rsch_put_u64(struct sk_buff *skb, int type, u64 value, int pad)
{
	return nla_put_u64_64bit(skb, type, value, pad);
}
int rsch_put_u32(struct sk_buff *skb, int type, u32 value) { return nla_put_u32(skb, type, value); }

void rsch_set_err(struct netlink_ext_ack *extack, const struct nlattr *bad,
		  const char *msg)
{
	NL_SET_ERR_MSG_FMT(extack, "smooth: %s", msg);
	NL_SET_BAD_ATTR(extack, bad);
}

size_t rsch_layout(int what)
{
	switch (what) {
	case 0: return sizeof(struct Qdisc_ops);
	case 1: return offsetof(struct Qdisc_ops, enqueue);
	case 2: return offsetof(struct Qdisc_ops, dump_stats);
	case 3: return offsetof(struct Qdisc_ops, owner);
	case 4: return sizeof(struct qdisc_watchdog);
	case 5: return offsetof(struct Qdisc_ops, priv_size);
	case 6: return offsetof(struct Qdisc, privdata);
	case 7: return sizeof(struct Qdisc);
	}
	return 0;
}
