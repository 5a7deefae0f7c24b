//! The algorithm's promises, measured in the simulator on smooth_core's
//! real `Shaper` (10 s of rate measurement after a 1 s warm-up).

use smooth_core::time::{NSEC_PER_MSEC as MS, NSEC_PER_SEC as S};
use smooth_core::Config;
use smooth_sim::sim::{simulate, Offered, Run, ShaperSpec};
use smooth_sim::workload;

const RATE: u64 = 250_000; // 2 Mbit/s

fn smooth(cfg: Config, offered: &Offered) -> Run {
    simulate(
        &ShaperSpec::Smooth(cfg.validate().unwrap()),
        offered,
        11 * S,
        S,
    )
}

/// Rate within ±2 % over the 10 s window, every delay within `max_delay`.
fn assert_rate_and_delay(run: &Run, cfg: &Config) {
    let m = &run.metrics;
    let r10 = m.rate_10s.expect("one 10 s window");
    assert_eq!(r10.windows, 1);
    assert!(
        (0.98..=1.02).contains(&r10.min),
        "{}: delivered/configured over 10 s = {:.4}",
        run.shaper,
        r10.min
    );
    assert!(
        m.delay.max <= cfg.max_delay,
        "{}: max delay {} ns > max_delay {} ns",
        run.shaper,
        m.delay.max,
        cfg.max_delay
    );
}

#[test]
fn backlogged_udp_gets_the_rate_with_bounded_delay_and_counted_drops() {
    for rate in [RATE, 12_500_000] {
        for k in [2u64, 10] {
            let cfg = Config::with_rate(rate);
            let offered = Offered::Open(workload::cbr(k * rate, 1514, 11 * S));
            let run = smooth(cfg, &offered);
            assert_rate_and_delay(&run, &cfg);
            let m = &run.metrics;
            // Every offered packet is delivered or counted as dropped.
            assert_eq!(m.offered, m.packets + m.drops, "{k}x");
            // About (k-1)/k of the packets cannot fit.
            let lost = m.drops as f64 / m.offered as f64;
            let expect = (k - 1) as f64 / k as f64;
            assert!((lost - expect).abs() < 0.02, "{k}x: lost {lost:.4}");
        }
    }
}

#[test]
fn window_limited_flow_gets_the_rate_with_bounded_delay() {
    for (rate, window, rtt) in [(RATE, 16_384, 20 * MS), (12_500_000, 1 << 20, MS)] {
        let cfg = Config::with_rate(rate);
        let offered = Offered::Tcp {
            window,
            mss: 1514,
            rtt,
        };
        let run = smooth(cfg, &offered);
        assert_rate_and_delay(&run, &cfg);
        assert_eq!(run.metrics.offered, run.metrics.packets + run.metrics.drops);
    }
}

#[test]
fn sub_rate_cbr_passes_with_zero_added_delay() {
    for (size, load) in [(200u32, 0.5), (1400, 0.9), (1514, 0.99)] {
        let cfg = Config::with_rate(RATE);
        let offered = Offered::Open(workload::cbr((RATE as f64 * load) as u64, size, 11 * S));
        let run = smooth(cfg, &offered);
        let m = &run.metrics;
        assert_eq!(m.drops, 0);
        assert_eq!(m.packets, m.offered);
        // CBR below the rate conforms to any bucket that holds a packet:
        // smooth must not hold it at all.
        assert_eq!(m.delay.max, 0, "{size} B at {load}");
    }
}

#[test]
fn every_model_delivers_in_fifo_order_and_accounts_for_every_packet() {
    let offered = Offered::Open(workload::vbr(workload::Video::paper(242_500), 5 * S, 7));
    let specs = [
        ShaperSpec::Smooth(Config::DEFAULT),
        ShaperSpec::Smooth(Config {
            burst: 0,
            ..Config::DEFAULT
        }),
        ShaperSpec::Tbf {
            rate: RATE,
            burst: 10_000,
            limit: 60_000,
        },
        ShaperSpec::Netback {
            rate: RATE,
            interval: 50 * MS,
            limit: 1000,
        },
        ShaperSpec::Pacer {
            rate: RATE,
            limit: 1000,
        },
    ];
    for spec in &specs {
        let run = simulate(spec, &offered, 5 * S, S);
        let m = &run.metrics;
        assert_eq!(m.offered, m.packets + m.drops, "{}", run.shaper);
        for w in run.departures.windows(2) {
            assert!(w[0].arrival <= w[1].arrival && w[0].depart <= w[1].depart);
        }
    }
}

#[test]
fn pcap_timestamps_and_lengths_are_replayed() {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use std::time::Duration;
    let path = std::env::temp_dir().join(format!("smooth-sim-{}.pcap", std::process::id()));
    {
        let file = std::fs::File::create(&path).unwrap();
        let mut w = PcapWriter::with_header(file, PcapHeader::default()).unwrap();
        let data = [0u8; 60];
        for (ms, len) in [(1000u64, 1514u32), (1002, 100), (1010, 60)] {
            let p = PcapPacket::new(Duration::from_millis(ms), len, &data);
            w.write_packet(&p).unwrap();
        }
    }
    let trace = workload::pcap(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(trace, [(0, 1514), (2 * MS, 100), (10 * MS, 60)]);
}

#[test]
fn sub_rate_video_loses_nothing_when_max_delay_covers_an_i_frame() {
    // The I-frame (about 41.6 kB at 1.94 Mbit/s) needs 166 ms at the rate;
    // with max_delay 250 ms no packet's pacer delay reaches the ceiling.
    // (A ceiling below the I-frame's time at the rate drops its tail.)
    let cfg = Config {
        max_delay: 250 * MS,
        ..Config::with_rate(RATE)
    };
    let offered = Offered::Open(workload::vbr(workload::Video::paper(242_500), 11 * S, 1));
    let run = smooth(cfg, &offered);
    assert_eq!(run.metrics.drops, 0);
    assert!(run.metrics.delay.max <= cfg.max_delay);
}
