//! ns per `Shaper::enqueue` + `dequeued` pair (the qdisc's per-packet cost;
//! the window moves inside `enqueue`, there is no other work). Short on purpose: `cargo bench -p smooth-core`
//! finishes in well under 30 s.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use smooth_core::{Backlog, Config, Decision, Shaper};
use std::time::Duration;

fn enqueue_dequeue(c: &mut Criterion) {
    // 100 Mbit/s, 1514 B packets arriving at the rate: every packet is
    // admitted and released.
    let cfg = Config::with_rate(12_500_000).validate().unwrap();
    let gap = smooth_core::time::transmit_time(1514, cfg.rate);
    let mut s = Shaper::new(cfg, 0);
    let mut now = 0u64;
    c.bench_function("enqueue+dequeued (100mbit, 1514 B at the rate)", |b| {
        b.iter(|| {
            now += gap;
            let at = match s.enqueue(now, black_box(1514), Backlog::default()) {
                Decision::Release { at } => at,
                Decision::Drop(_) => now,
            };
            s.dequeued(at, now, at);
            black_box(at)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = enqueue_dequeue
}
criterion_main!(benches);
