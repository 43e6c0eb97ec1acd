"""A deep packet-level differential run: the SMT encoding against the reference evaluator.

Draws random clusters and packets with the Hypothesis strategies of tests/strategies.py
(IPv6 and dual-stack pods, named ports, endPort ranges, every selector operator, ipBlocks
with except, hostNetwork pods, node and self traffic) in the universes and semantic options
of tests/test_differential.py, and asks, for every packet of the universe, whether the
encoding (SolverSession.evaluate_many: the packet pinned in one solver per cluster) and
semantics.decide give the same answer. Prints a progress line per batch, so a run cut short
still gives a count, and exits 1 on any disagreement.

    python benchmarks/deep_differential.py --pairs 100000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import attrs  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from npverify.model import Packet, PodEndpoint, Universe  # noqa: E402
from npverify.semantics import decide, universe_problem  # noqa: E402
from npverify.smt import SolverSession, mentions_of  # noqa: E402
from tests import strategies as s  # noqa: E402

#: The (universe, semantics) pairs of tests/test_differential.py's packet-level property.
CONFIGS = s.PACKET_CONFIGS


class Tally:
    def __init__(self) -> None:
        self.clusters = 0
        self.drawn = 0
        self.pairs = 0
        self.allowed = 0
        self.disagreements: list[str] = []


def _worlds(universe: Universe):
    return s.worlds(
        single_pods=False,
        host_network=universe.host_network,
        pod_cidrs=universe.pod_cidrs,
        min_workloads=2 if universe.pods == "workloads" else 0,
    )


def run_batch(config: str, clusters: int, packets_per_cluster: int, drawn_per_cluster: int, batch_seed: int, tally: Tally) -> None:
    """Check ``clusters`` random clusters of one configuration, many packets each: some
    drawn by the strategies, the rest recombined from their endpoints (with boundary and
    random ports and every protocol) by a seeded generator.
    """
    universe, semantics = CONFIGS[config]

    @seed(batch_seed)
    @settings(
        max_examples=clusters,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        world = data.draw(_worlds(universe))
        cluster = world.cluster
        drawn = [data.draw(s.packets(world, universe)) for _ in range(min(drawn_per_cluster, packets_per_cluster))]
        rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
        candidates = list(drawn)
        while len(candidates) < packets_per_cluster:
            # Recombine drawn endpoints: drawing is the slow part, deciding is cheap.
            src = rng.choice(drawn).src
            dst = rng.choice(drawn).dst
            if isinstance(src, PodEndpoint) and isinstance(dst, PodEndpoint) and src != dst:
                # Two endpoints drawn apart are two pods (pod_id says which pod sends to itself).
                src, dst = attrs.evolve(src, pod_id="src-pod"), attrs.evolve(dst, pod_id="dst-pod")
            ports = s.boundary_ports(cluster, endpoints=(src, dst))
            port = rng.choice(ports) if ports and rng.random() < 0.7 else rng.randint(1, 65535)
            candidates.append(Packet(src, dst, rng.choice(s.PROTOCOLS), port))
        tally.drawn += len(candidates)
        packets = [p for p in candidates if universe_problem(cluster, p, universe) is None]
        tally.clusters += 1
        if not packets:
            return
        session = SolverSession(cluster, mentions_of(cluster.policies), universe, semantics)
        answers = session.evaluate_many(packets)
        for packet, smt in zip(packets, answers):
            reference = decide(cluster, packet, semantics).allowed
            tally.pairs += 1
            tally.allowed += reference
            if smt != reference:
                tally.disagreements.append(
                    f"[{config}] SMT says {smt}, the evaluator says {reference}\npacket: {packet!r}\ncluster: {cluster!r}"
                )

    check()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000, help="(cluster, packet) pairs to check (default 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--packets-per-cluster", type=int, default=50)
    parser.add_argument("--drawn-per-cluster", type=int, default=10, help="packets drawn by the strategies; the rest are recombined")
    parser.add_argument("--clusters-per-batch", type=int, default=10)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated universe configurations")
    args = parser.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    tally = Tally()
    started = time.perf_counter()
    batch = 0
    print(f"deep differential: target {args.pairs} pairs, seed {args.seed}, {args.packets_per_cluster} packets per cluster, configs {','.join(configs)}", flush=True)
    while tally.pairs < args.pairs:
        config = configs[batch % len(configs)]
        run_batch(config, args.clusters_per_batch, args.packets_per_cluster, args.drawn_per_cluster, args.seed * 1_000_003 + batch, tally)
        batch += 1
        elapsed = time.perf_counter() - started
        print(
            f"batch {batch} ({config}): {tally.clusters} clusters, {tally.pairs} pairs checked "
            f"({tally.drawn} drawn, {tally.pairs} in the universe, {tally.allowed} allowed), "
            f"{len(tally.disagreements)} disagreements, {elapsed:.0f} s",
            flush=True,
        )
        for text in tally.disagreements:
            print("DISAGREEMENT " + text, flush=True)
        if tally.disagreements:
            break
    elapsed = time.perf_counter() - started
    print(
        f"done: {tally.pairs} pairs in {tally.clusters} clusters, {len(tally.disagreements)} disagreements, "
        f"{elapsed:.0f} s ({tally.pairs / max(elapsed, 1e-9):.0f} pairs/s)",
        flush=True,
    )
    return 1 if tally.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
