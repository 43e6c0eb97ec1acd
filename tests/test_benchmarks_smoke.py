"""A tiny run of benchmarks/generate.py and benchmarks/run.py, so the benchmarks cannot rot.

No timing is asserted: only that the files are written, the verdicts are the expected
ones (the rewrite is equivalent, the mutation is found, nothing is unknown) and every
table column is filled where it should be.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from tests.environment import require

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATE = os.path.join(REPO, "benchmarks", "generate.py")
RUN = os.path.join(REPO, "benchmarks", "run.py")
SIZE = ["--namespaces", "2", "--pods-per-namespace", "3", "--policies-per-namespace", "6", "--seed", "7"]
HAS_NCA = importlib.util.find_spec("nca") is not None or bool(os.environ.get("NPVERIFY_NCA"))

# benchmarks/ is not a package: load its NCA module by path, leaving sys.path alone.
_spec = importlib.util.spec_from_file_location("nca_runner", os.path.join(REPO, "benchmarks", "nca_runner.py"))
nca_runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nca_runner)


def _generate(out, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, GENERATE, *SIZE, *extra, "--out", str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _files(root) -> dict[str, bytes]:
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RUN, *args], capture_output=True, text=True, timeout=300)


def _rows(stdout: str, first_column: str) -> dict[str, list[str]]:
    """Table rows whose first cell starts with ``first_column``, keyed by their second cell."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_column):
            rows[cells[1]] = cells
    return rows


def test_generate_is_deterministic_and_complete(tmp_path):
    _generate(tmp_path / "a")
    _generate(tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second
    assert "invariants.yaml" in first
    assert os.path.join("k8s", "namespaces.yaml") in first
    assert sum(name.startswith(os.path.join("k8s", "policies")) for name in first) == 2
    assert first["invariants.yaml"].count(b"- name:") == 10
    policies = b"".join(v for k, v in first.items() if k.startswith(os.path.join("k8s", "policies")))
    for construct in (b"operator: In", b"operator: NotIn", b"operator: Exists", b"operator: DoesNotExist", b"endPort:", b"except:", b"port: http"):
        assert construct in policies, construct


def test_variants_say_what_they_did(tmp_path):
    assert _generate(tmp_path / "r", "--variant", "rewrite").startswith("rewrite: ")
    printed = _generate(tmp_path / "m", "--variant", "mutation", "--mutation-seed", "3")
    assert printed.startswith("mutation: ")
    assert printed.split(":")[1].strip() in ("port-widened", "except-removed", "label-value-changed", "policy-type-dropped", "peer-and-to-or")


def test_runner_verdicts_and_sub_phases(tmp_path):
    results = tmp_path / "RESULTS.md"
    done = _run(
        "--sizes", "2x3x6", "--repeat", "1", "--max-diffs", "1", "--timeout", "300",
        "--phases", "load,prove,equiv,mutation,redundancy,matrix,matrix-ns,matrix-unproved,matrix-ns-unproved,"
        "parse-no-context,equiv-no-context,mutation-no-context",
        "--workdir", str(tmp_path / "work"), "--write", "--results", str(results),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for variant in ("original", "rewrite", "mutation"):
        assert (tmp_path / "work" / "2x3x6" / variant / "k8s" / "policies").is_dir()
        assert (tmp_path / "work" / "2x3x6" / variant / "invariants.yaml").is_file()
    rows = _rows(done.stdout, "2x3x6")
    assert set(rows) == {
        "load", "prove", "equiv", "mutation", "redundancy", "matrix", "matrix-ns", "matrix-unproved", "matrix-ns-unproved",
        "parse-no-context", "equiv-no-context", "mutation-no-context",
    }
    # size, phase, load, encode, solve, report, total, CPU, peak, runs, result
    assert all(len(cells) == 11 for cells in rows.values())
    assert rows["equiv"][-1] == "equivalent"
    assert rows["mutation"][-1].startswith("different (")
    assert rows["prove"][-1].endswith(", 0 unknown")
    assert " items: " in rows["redundancy"][-1] and "0 undecided" in rows["redundancy"][-1]
    for phase in ("prove", "mutation", "redundancy", "mutation-no-context"):
        load, encode, solve, report, total = (float(x) for x in rows[phase][2:7])
        assert abs(load + encode + solve + report - total) < 0.05, rows[phase]  # rounded to 0.01 each
        assert encode > 0 and solve > 0
    # A rewrite whose namespaces have the same normal form needs no encoding at all.
    for phase in ("equiv", "equiv-no-context"):
        assert rows[phase][3] == "—", rows[phase]
        load, solve, report, total = (float(rows[phase][i]) for i in (2, 4, 5, 6))
        assert abs(load + solve + report - total) < 0.05, rows[phase]
    assert rows["equiv-no-context"][-1] == "equivalent"
    assert rows["mutation-no-context"][-1].startswith("different (")
    assert rows["parse-no-context"][-1].endswith(" documents parsed")
    assert rows["load"][3:6] == ["—", "—", "—"]
    assert rows["parse-no-context"][3:6] == ["—", "—", "—"]
    for phase in ("matrix", "matrix-ns", "matrix-unproved", "matrix-ns-unproved"):
        expected = ", not proved" if phase.endswith("-unproved") else ", proved"
        assert rows[phase][-1].split(" (")[0].endswith(expected), rows[phase]
    # Without the proof, the same cells.
    assert rows["matrix"][-1].split(", proved")[0] == rows["matrix-unproved"][-1].split(", not proved")[0]
    assert rows["matrix-ns"][-1].split(", proved")[0] == rows["matrix-ns-unproved"][-1].split(", not proved")[0]
    assert "UNEXPECTED" not in done.stdout
    text = results.read_text()
    assert "### Machine" in text and "nproc" in text and "z3 " in text
    assert "benchmarks/run.py --sizes 2x3x6" in text
    assert "| 2x3x6: 6 pods, 12 policies | equiv |" in text
    assert "Beside network-config-analyzer" not in text


def test_runner_times_whole_processes(tmp_path):
    """--whole-process: the CLI commands as processes, beside what they print and the C
    loader's parse of their files."""
    results = tmp_path / "RESULTS.md"
    done = _run(
        "--sizes", "2x3x6", "--repeat", "1", "--phases", "none", "--whole-process",
        "--workdir", str(tmp_path / "work"), "--write", "--results", str(results),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(done.stdout, "2x3x6")
    assert set(rows) == {"prove", "equiv", "equiv --manifests"}
    for cells in rows.values():
        # size, command, printed, wall, outside the printed span, CPU, peak, parse, wall ÷ parse, runs, result
        assert len(cells) == 11, cells
        printed, wall, outside, cpu, peak, parse = (float(x) for x in cells[2:8])
        assert 0 < printed < wall and abs(wall - printed - outside) < 0.02, cells
        assert cpu > 0 and peak > 0 and parse >= 0  # a few tiny files: 0.00 s
    assert ", 0 unknown (exit " in rows["prove"][-1]
    assert rows["equiv"][-1] == rows["equiv --manifests"][-1] == "EQUIVALENT: 0 difference regions (exit 0)"
    text = results.read_text()
    assert "### Whole process" in text
    assert "python -m npverify.cli prove DATA/original/invariants.yaml" in text


def test_nca_output_is_read():
    """NCA's redundancy and connectivity output (2.1.0 format), read without NCA installed."""
    redundancy = "\n".join(
        [
            "Running query redundancy",
            "Redundancies found in original",
            "Policies that are redundant in original:",
            "a/default-deny, b/quarantine",
            "",
            "Ingress rules that are redundant in original:",
            "NetworkPolicy a/api, ingress rules indexes: 1, 3",
            "",
            "Egress rules that are redundant in original:",
            "NetworkPolicy b/web, egress rules indexes: 2",
        ]
    )
    assert nca_runner.redundancy_items(redundancy) == (
        {"a/default-deny", "b/quarantine"},
        {"a/api ingress[0]", "a/api ingress[2]", "b/web egress[1]"},
    )
    assert nca_runner.redundancy_items("No redundancy found in original") == (set(), set())
    assert nca_runner.redundancy_items("Error: something") is None
    connectivity = "\n".join(
        [
            "a/web-00[Deployment] => 0.0.0.0-9.255.255.255 : {protocols:TCP,dst_ports:443}",
            "a/web-00[Deployment] => a/db-02[StatefulSet] : {protocols:TCP,dst_ports:5432}",
            "monitoring/prometheus[Deployment] => a/db-02[StatefulSet] : All connections",
        ]
    )
    assert nca_runner.connectivity_lines(connectivity) == {
        ("a/Deployment/web-00", "a/StatefulSet/db-02"): "{protocols:TCP,dst_ports:5432}",
        ("monitoring/Deployment/prometheus", "a/StatefulSet/db-02"): "All connections",
    }


def test_runner_beside_nca(tmp_path):
    require(HAS_NCA, "network-config-analyzer", "network-config-analyzer is not installed (and NPVERIFY_NCA is not set)")
    saved = tmp_path / "nca.json"
    done = _run(
        "--sizes", "1x3x6", "--repeat", "1", "--phases", "matrix,matrix-unproved,equiv,redundancy", "--universe", "nca",
        "--nca", "--nca-check", "--nca-results", str(saved), "--workdir", str(tmp_path / "work"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    compared = _rows(done.stdout.split("| size | query |")[1], "1x3x6")
    assert {"connectivity", "equiv", "redundancy"} <= set(compared)
    for query in ("connectivity", "equiv", "redundancy"):
        cells = compared[query]
        assert len(cells) == 7, cells  # size, query, npverify s, NCA s, ratio, CPU ratio, answers
        float(cells[2]), float(cells[3])
        assert cells[4].endswith("×") and cells[5].endswith("×")
        assert "check: agree" in cells[6], cells
    assert "NCA: equivalent" in compared["equiv"][6]
    # The matrix without its proof is compared too, on a row of its own.
    unproved = compared["connectivity, matrix-unproved"]
    assert "npverify (matrix-unproved): " in unproved[6] and unproved[4].endswith("×")
    entry = json.loads(saved.read_text())["sizes"]["1x3x6"]
    assert entry["dims"] == [1, 3, 6] and set(entry["queries"]) == {"connectivity", "equiv", "redundancy"}

    # Later runs put the saved NCA figures beside new npverify figures, without NCA.
    results = tmp_path / "RESULTS.md"
    again = _run(
        "--sizes", "1x3x6", "--repeat", "1", "--phases", "equiv", "--nca-results", str(saved),
        "--workdir", str(tmp_path / "work"), "--write", "--results", str(results),
    )
    assert again.returncode == 0, again.stdout + again.stderr
    text = results.read_text()
    assert "### Beside network-config-analyzer" in text
    assert "nca --equiv -r DATA/rewrite/k8s -rb DATA/original/k8s" in text
    compared = _rows(text.split("### Beside network-config-analyzer")[1], "1x3x6")
    assert "npverify (matrix): not measured in this run" in compared["connectivity"][6]
    assert compared["connectivity"][4] == "—"
    assert compared["equiv"][4].endswith("×")


def test_startup_times_whole_processes(tmp_path):
    """benchmarks/startup.py: one row per command, with its exit code and its answer."""
    startup = os.path.join(REPO, "benchmarks", "startup.py")
    done = subprocess.run(
        [sys.executable, startup, "--runs", "1", "--size", "2x3x6", "--workdir", str(tmp_path), "--only", "python,npverify --help,prove (generated),equiv"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {cells[0]: cells for cells in (line.strip().strip("|").split("|") for line in done.stdout.splitlines() if line.startswith("| "))}
    rows = {label.strip(): [c.strip() for c in cells] for label, cells in rows.items()}
    assert set(rows) == {"command", "---", "python -c pass", "npverify --help", "prove (generated)", "equiv (generated)"}
    for label in ("npverify --help", "prove (generated)", "equiv (generated)"):
        float(rows[label][1]), float(rows[label][3])
    assert rows["prove (generated)"][5].startswith("10 invariants: ") and rows["prove (generated)"][4] in ("0", "1")
    assert rows["equiv (generated)"][5] == "EQUIVALENT: 0 difference regions" and rows["equiv (generated)"][4] == "0"
    assert "python -m npverify.cli equiv DATA/original/k8s DATA/rewrite/k8s" in done.stdout


def test_ipblocks_writes_one_rule_of_many_peers_some_redundant(tmp_path) -> None:
    """benchmarks/ipblocks.py: the same bytes for the same arguments, a rule of exactly
    --peers ipBlock peers (IPv4 and IPv6, some with excepts), some of them redundant."""
    from npverify.load import load_manifests
    from npverify.redundancy import find_redundancy

    script = os.path.join(REPO, "benchmarks", "ipblocks.py")
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for path in paths:
        command = [sys.executable, script, "--peers", "24", "--out", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert paths[0].read_bytes() == paths[1].read_bytes()
    cluster = load_manifests([paths[0]])
    [policy] = cluster.policies
    [rule] = policy.ingress
    assert len(rule.peers) == 24 and all(p.ip_block is not None for p in rule.peers)
    assert {p.ip_block.cidr.version for p in rule.peers} == {4, 6}
    assert any(p.ip_block.except_ for p in rule.peers)
    report = find_redundancy(cluster)
    redundant_peers = [r for r in report.redundant if r.item.kind == "peer"]
    assert 0 < len(redundant_peers) < 24 and not report.vacuous and not report.undecided


def _documents(path) -> list:
    import yaml

    with open(path, encoding="utf-8") as f:
        return list(yaml.safe_load_all(f))


def test_generate_cluster_policies_load_and_decide(tmp_path):
    """--cluster-policies: the tiers load as npverify reads them, the NetworkPolicies and
    workloads are those of the same sizes without it, the rewrite and the mutation keep
    the tiers, and the invariants the tiers decide are proved with them and refuted
    without them."""
    import npverify
    from npverify.model import Tier
    from npverify.results import Verdict

    for variant in ("original", "rewrite", "mutation"):
        _generate(tmp_path / variant, "--cluster-policies", "--variant", variant)
    _generate(tmp_path / "plain")
    original = tmp_path / "original"
    tiers = _documents(original / "k8s" / "cluster-policies.yaml")
    for variant in ("rewrite", "mutation"):
        assert _documents(tmp_path / variant / "k8s" / "cluster-policies.yaml") == tiers
    plain = {k: v.split(b"\n", 1)[1] for k, v in _files(tmp_path / "plain" / "k8s").items()}
    tiered = {k: v.split(b"\n", 1)[1] for k, v in _files(original / "k8s").items()}
    assert tiered.pop("cluster-policies.yaml") and tiered == plain  # the same documents under other headers

    cluster = npverify.load_manifests([original / "k8s"])
    assert {p.kind for p in cluster.cluster_policies} == {"ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
    assert [p.key for p in cluster.cluster_policies if p.tier is Tier.BASELINE] == ["banp/default"]
    assert not cluster.warnings
    report = npverify.prove(npverify.load_invariants(original / "invariants.yaml"), cluster=cluster)
    assert report.count(Verdict.UNKNOWN) == 0
    by_name = {r.invariant.name: r.verdict for r in report.results}
    decided = ["dev namespaces reach the internet only through the egress proxy", "prometheus never sends mail to the internet"]
    assert len(by_name) == 12 and all(by_name[name] is Verdict.PROVED for name in decided)
    # The same invariants on the NetworkPolicies alone: the Baseline decided prometheus's mail.
    without = npverify.prove(npverify.load_invariants(original / "invariants.yaml"), cluster=npverify.load_manifests([tmp_path / "plain" / "k8s"]))
    assert {r.invariant.name: r.verdict for r in without.results}[decided[1]] is Verdict.REFUTED


def test_generate_cluster_policies_scale_with_namespaces(tmp_path):
    """One namespace guardrail per 10 namespaces, in four shapes; every tenth shares its
    predecessor's priority (their subjects are pods of two namespaces)."""
    import npverify

    done = subprocess.run(
        [sys.executable, GENERATE, "--namespaces", "100", "--pods-per-namespace", "1", "--policies-per-namespace", "1",
         "--cluster-policies", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "17 Admin-tier and 1 Baseline-tier policies" in done.stderr
    text = (tmp_path / "k8s" / "cluster-policies.yaml").read_text()
    for construct in ("action: Accept", "action: Allow", "action: Deny", "action: Pass", "networks:", "destinationNamedPort:",
                      "namedPort:", "portRange:", "range:", "portNumber:", "kind: AdminNetworkPolicy", "tier: Admin"):
        assert construct in text, construct
    cluster = npverify.load_manifests([tmp_path / "k8s"])
    admin = [p for p in cluster.cluster_policies if p.tier.value == "Admin"]
    assert len(admin) == 17
    priorities = [p.priority for p in admin]
    shared = {p for p in priorities if priorities.count(p) > 1}
    assert shared == {50, 109}, priorities
    for priority in shared:
        first, second = (p for p in admin if p.priority == priority)
        assert first.subject != second.subject


def test_runner_tiered_beside_plain(tmp_path):
    """--cluster-policies: each phase on both clusters, the ratio table, the matrix of the
    tiered cluster shown as npverify answers it, and a section of its own in RESULTS.md."""
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- BEGIN GENERATED by benchmarks/run.py --write: this section is replaced on every run -->\nmain\n<!-- END GENERATED -->\n")
    done = _run(
        "--sizes", "2x3x6", "--repeat", "1", "--cluster-policies", "--phases", "prove,equiv,mutation-first,matrix-ns,equiv-no-context",
        "--workdir", str(tmp_path / "work"), "--write", "--results", str(results),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "work" / "2x3x6+tiers" / "original" / "k8s" / "cluster-policies.yaml").is_file()
    assert not (tmp_path / "work" / "2x3x6" / "original" / "k8s" / "cluster-policies.yaml").exists()
    tables = done.stdout.split("\n\n")
    ratios = _rows(tables[0], "2x3x6")
    assert set(ratios) == {"prove", "equiv", "mutation-first", "matrix-ns", "equiv-no-context"}
    for phase in ("prove", "equiv", "mutation-first", "equiv-no-context"):
        cells = ratios[phase]
        assert float(cells[3]) > 0 and cells[4].endswith("×") and cells[5].startswith(("yes", "**no**")), cells
    rows = _rows(tables[1], "2x3x6")
    # The same ten invariants on both; the tiers decide prometheus's scrape of the staging
    # api (allow-monitoring is the seventh NetworkPolicy shape, not generated at 6 per
    # namespace), and the two invariants of the tiered file's own are proved untimed.
    assert rows["prove"][-1] == "7 proved, 3 refuted, 0 unknown"
    verdict, detail = rows["prove +tiers"][-1].split(" (", 1)
    assert verdict == "8 proved, 2 refuted, 0 unknown"
    assert detail.startswith("the 2 invariants the tiers decide: 2 proved in ") and detail.endswith(" s more, not in the total)")
    # ... outside every figure of the row: z3 runs on one thread, so CPU time stays below wall time.
    load, encode, solve, report, total, cpu = (float(x) for x in rows["prove +tiers"][2:8])
    assert abs(load + encode + solve + report - total) < 0.05 and cpu <= total + 0.02, rows["prove +tiers"]
    assert rows["equiv +tiers"][-1] == rows["equiv-no-context +tiers"][-1] == "equivalent"
    assert rows["mutation-first +tiers"][-1].startswith("different (")
    # Until the matrix reads the tiers it says it cannot answer; after, it proves.
    matrix = rows["matrix-ns +tiers"][-1]
    assert matrix.endswith(" — not supported yet") and matrix.startswith("unknown: ") or matrix.split(" (")[0].endswith(", proved"), matrix
    assert "UNEXPECTED" not in done.stdout
    text = results.read_text()
    assert "\nmain\n" in text and "## Admin and Baseline tiers" in text and "| 2x3x6: 6 pods, 12 policies | prove +tiers |" in text
