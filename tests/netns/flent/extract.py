"""What bench.sh keeps of one flent data file (.flent.gz): one JSON object
on stdout, the raw samples the report needs and nothing flent computed from
them.

  voip: every VoIP packet D-ITG received, [sequence, one-way delay in us]
        (ITGRecv's log: both ends read the guest's clock), and D-ITG's own
        jitter per flent step, ms.
  rrul: the sums of the four TCP flows each way per flent step, Mbit/s, and
        every latency probe (ICMP from fping, UDP from irtt), [s, ms]; times
        in s from flent's start; the flows run from `delay` to
        `delay + length`.
Each names the runner flent used for each series, so a run that silently
fell back to another tool is seen.
"""
import datetime
import gzip
import json
import sys

with gzip.open(sys.argv[1], "rt") as f:
    data = json.load(f)
meta = data["metadata"]
t0 = datetime.datetime.fromisoformat(meta["T0"].rstrip("Z")).replace(
    tzinfo=datetime.timezone.utc).timestamp()
out = {
    "test": meta["NAME"],
    "length": meta["LENGTH"],
    "total_length": meta["TOTAL_LENGTH"],
    "step": meta["STEP_SIZE"],
    "failed_runners": meta["FAILED_RUNNERS"],
    "runners": {k: v.get("RUNNER") for k, v in meta["SERIES_META"].items()},
}


def steps(name):
    return [[round(x, 3), round(v, 4)]
            for x, v in zip(data["x_values"], data["results"].get(name, []))
            if v is not None]


if out["test"] == "voip":
    out["packets"] = [[p["seq"], round(p["val"] * 1000)] for p in data["raw_values"]["VoIP"]]
    out["jitter"] = steps("VoIP::jitter")
elif out["test"] == "rrul":
    out["delay"] = (out["total_length"] - out["length"]) / 2
    out["download"] = steps("TCP download sum")
    out["upload"] = steps("TCP upload sum")
    out["probes"] = {
        k[len("Ping (ms) "):]: [[round(p["t"] - t0, 3), round(p["val"], 3)]
                                for p in v if "val" in p and p["val"] is not None]
        for k, v in data["raw_values"].items()
        if k.startswith("Ping (ms) ") and k != "Ping (ms) avg"
    }
else:
    sys.exit("extract.py: flent test %r is not one bench.sh runs" % out["test"])
json.dump(out, sys.stdout, separators=(",", ":"))
