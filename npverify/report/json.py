"""JSON rendering of results: stable, versioned documents.

Schemas: specs/report.schema.json (prove), specs/comparison.schema.json (equiv, contains),
specs/redundancy.schema.json (redundant).
"""

from __future__ import annotations

import json
from typing import Any

from npverify.model import Endpoint, ExternalEndpoint, NodeEndpoint, Packet, PodEndpoint, SourceLocation
from npverify.results import InvariantResult, ProofReport, Verdict
from npverify.semantics import Decision, DirectionDecision

#: Bumped when a field changes meaning or disappears; adding fields keeps the version.
SCHEMA_VERSION = 1


def location_json(location: SourceLocation | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line, "column": location.column}


def unmodelled_json(obj) -> dict[str, Any]:
    return {
        "kind": obj.kind,
        "api_group": obj.api_group,
        "namespace": obj.namespace,
        "name": obj.name,
        "reach": obj.reach.value,
        "location": location_json(obj.location),
        "text": str(obj),
    }


def coverage_json(coverage) -> dict[str, Any]:
    """What the input held that npverify did not model (in force, ignored) or use (skipped)."""
    return {
        "unmodelled": [unmodelled_json(o) for o in coverage.unmodelled],
        "ignored": [unmodelled_json(o) for o in coverage.ignored],
        "skipped": [
            {"kind": d.kind, "name": d.name, "location": location_json(d.location), "note": d.note, "text": str(d)}
            for d in coverage.skipped
        ],
    }


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    if isinstance(endpoint, ExternalEndpoint):
        return {"kind": "external", "ip": str(endpoint.ip)}
    if isinstance(endpoint, NodeEndpoint):
        return {"kind": "node", "ip": str(endpoint.ip), "own_node": endpoint.own_node}
    assert isinstance(endpoint, PodEndpoint)
    return {
        "kind": "pod",
        "namespace": endpoint.namespace,
        "namespace_labels": dict(endpoint.namespace_labels),
        "labels": dict(endpoint.labels),
        "ip": str(endpoint.ip),
        "workload": endpoint.workload,
        "host_network": endpoint.host_network,
        "own_node": endpoint.own_node,
        "ports": [{"name": p.name, "port": p.port, "protocol": str(p.protocol)} for p in endpoint.ports],
    }


def packet_json(packet: Packet | None) -> dict[str, Any] | None:
    if packet is None:
        return None
    return {
        "protocol": str(packet.protocol),
        "port": packet.port,
        "source": endpoint_json(packet.src),
        "destination": endpoint_json(packet.dst),
    }


def _direction_json(decision: DirectionDecision) -> dict[str, Any]:
    return {
        "direction": str(decision.direction),
        "allowed": decision.allowed,
        "isolated": decision.isolated,
        "not_subject_to_policy": decision.unmanaged,
        "isolating_policies": [
            {"policy": p.key, "location": location_json(p.location)} for p in decision.isolating
        ],
        "matching_rules": [
            {
                "policy": m.policy.key,
                "rule_index": m.rule_index,
                "peer_index": m.peer_index,
                "port_index": m.port_index,
                "location": location_json(m.rule.location or m.policy.location),
            }
            for m in decision.matches
        ],
        "decided_by": decision.decided_by,
        "steps": [
            {"tier": step.tier, "action": step.action, "rule": step.rule or None, "location": location_json(step.location)}
            for step in decision.steps
        ],
    }


def decision_json(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "allowed": decision.allowed,
        "override": decision.override,
        "egress": _direction_json(decision.egress),
        "ingress": _direction_json(decision.ingress),
        "text": decision.describe(),
    }


def result_json(result: InvariantResult) -> dict[str, Any]:
    return {
        "name": result.invariant.name,
        "kind": str(result.invariant.kind),
        "verdict": result.verdict.value,
        "location": location_json(result.invariant.location),
        "counterexample": packet_json(result.counterexample),
        "witness": packet_json(result.witness),
        "example": packet_json(result.denied_example),
        "explanation": decision_json(result.decision),
        "reason": result.reason or None,
        "via": result.via or None,
        "note": result.note or None,
        "seconds": round(result.seconds, 6),
    }


def report_json(report: ProofReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "source": report.source,
        "results": [result_json(r) for r in report.results],
        "summary": {
            "total": len(report.results),
            "proved": report.count(Verdict.PROVED),
            "refuted": report.count(Verdict.REFUTED),
            "unknown": report.count(Verdict.UNKNOWN),
            "seconds": round(report.seconds, 6),
        },
        "skipped": list(report.skipped),
        "warnings": list(report.warnings),
        "coverage": coverage_json(report.coverage),
    }


def render_report(report: ProofReport) -> str:
    return json.dumps(report_json(report), indent=2, sort_keys=False) + "\n"


def region_json(region) -> dict[str, Any]:
    def endpoint(e) -> dict[str, Any]:
        return {
            "kind": e.kind,
            "namespace": e.namespace,
            "unnamed_namespace": e.unnamed_namespace,
            "namespace_labels": [str(c) for c in e.namespace_labels],
            "labels": [str(c) for c in e.labels],
            "workload": e.workload,
            "workloads": list(e.workloads),
            "not_workloads": e.not_workloads,
            "cidr": None if e.cidr is None else str(e.cidr),
            "host_network": e.host_network,
            "ports": list(e.ports),
            "text": str(e),
        }

    return {
        "source": endpoint(region.src),
        "destination": endpoint(region.dst),
        "protocols": [str(p) for p in region.protocols],
        "ports": {"low": region.ports.low, "high": region.ports.high},
        "text": str(region),
        "packet": packet_json(region.packet),
    }


def comparison_json(comparison) -> dict[str, Any]:
    def side(diffs):
        if diffs is None:
            return None
        return [
            {"region": region_json(d.region), "left": decision_json(d.left), "right": decision_json(d.right)}
            for d in diffs
        ]

    return {
        "schema_version": SCHEMA_VERSION,
        "left": comparison.left_name,
        "right": comparison.right_name,
        "same": comparison.same,
        "only_left": side(comparison.only_left),
        "only_right": side(comparison.only_right),
        "left_complete": comparison.left_complete,
        "right_complete": comparison.right_complete,
        "reason": comparison.reason or None,
        "seconds": round(comparison.seconds, 6),
        "coverage": coverage_json(comparison.coverage),
    }


def item_json(item) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "policy": item.policy.key,
        "tier": item.tier,
        "direction": None if item.direction is None else str(item.direction),
        "rule_index": item.rule_index,
        "peer_index": item.peer_index,
        "port_index": item.port_index,
        "location": location_json(item.location),
        "text": str(item),
    }


def redundancy_json(report) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "items_checked": report.items_checked,
        "redundant": [
            {
                "item": item_json(r.item),
                "covered_by": [item_json(c) for c in r.covered_by],
                "why": r.why,
                "reason": r.reason,
                "example": None if r.example is None else {"packet": packet_json(r.example.packet), "decision": decision_json(r.example)},
            }
            for r in report.redundant
        ],
        "vacuous": [{"item": item_json(v.item), "reason": v.reason} for v in report.vacuous],
        "undecided": [{"item": item_json(u.item), "reason": u.reason} for u in report.undecided],
        "seconds": round(report.seconds, 6),
        "coverage": coverage_json(report.coverage),
    }


def render_comparison(comparison) -> str:
    return json.dumps(comparison_json(comparison), indent=2) + "\n"


def render_redundancy(report) -> str:
    return json.dumps(redundancy_json(report), indent=2) + "\n"


# --- explain (specs/explain.schema.json) -------------------------------------------------


def _explanation_universe_json(explanation) -> dict[str, Any] | None:
    universe = explanation.universe
    if universe is None:
        return None
    return {
        "namespaces": universe.namespaces,
        "pods": universe.pods,
        "pod_cidrs": [str(c) for c in universe.pod_cidrs],
        "host_network": universe.host_network,
        "node_traffic": universe.node_traffic,
        "self_traffic": universe.self_traffic,
        "inside": explanation.outside_universe is None,
        "problem": explanation.outside_universe,
    }


def explanation_json(explanation) -> dict[str, Any]:
    """``npverify explain --format json``: the packet, the evaluator's decision, every rule and the sentences."""
    universe = _explanation_universe_json(explanation)
    return {
        "schema_version": SCHEMA_VERSION,
        "allowed": explanation.allowed,
        "verdict": ("allowed" if explanation.allowed else "denied") if explanation.known else "unknown",
        "undecided_by": [unmodelled_json(o) for o in explanation.undecided_by],
        "coverage": coverage_json(explanation.coverage),
        "packet": packet_json(explanation.packet),
        "decision": decision_json(explanation.decision),
        "semantics": {
            "ip_block_matches_pods": explanation.semantics.ip_block_matches_pods,
            "self_traffic_allowed": explanation.semantics.self_traffic_allowed,
            "own_node_traffic_allowed": explanation.semantics.own_node_traffic_allowed,
        },
        "rules": [
            {
                "policy": r.policy.key,
                "direction": str(r.direction),
                "rule_index": r.rule_index,
                "matched": r.matched,
                "peer_index": r.peer_index,
                "port_index": r.port_index,
                "location": location_json(r.location),
                "text": r.text,
            }
            for r in explanation.rules
        ],
        "sentences": [
            {"topic": s.topic, "detail": s.detail, "text": s.text, "location": location_json(s.location)}
            for s in explanation.sentences
        ],
        **({"universe": universe} if universe is not None else {}),
    }


def render_explanation(explanation) -> str:
    return json.dumps(explanation_json(explanation), indent=2) + "\n"


# --- connectivity matrix (npverify matrix) ----------------------------------------------


def _port_set_json(ports) -> dict[str, list[list[int]]]:
    from npverify.matrix import PROTOCOLS

    return {p.value: [[lo, hi] for lo, hi in ports.intervals(p)] for p in PROTOCOLS if ports.intervals(p)}


def _cell_json(matrix, i: int, j: int, cell) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": matrix.rows[i],
        "destination": matrix.columns[j],
        "may": _port_set_json(cell.may),
        "always": _port_set_json(cell.always),
        "text": cell.text(),
    }
    if not cell.unknown.is_empty:
        out["unknown"] = _port_set_json(cell.unknown)
    reasons = matrix.reasons.get((i, j)) if matrix.reasons is not None else None
    if reasons is not None:
        out["rules"] = [
            {
                "policy": r.policy,
                "direction": str(r.direction),
                "rule": r.rule,
                "location": location_json(r.location),
                "example": {"protocol": r.protocol.value, "port": r.port},
            }
            for r in reasons.rules
        ]
        out["isolated_by"] = [
            {"policy": p.policy, "direction": str(p.direction), "location": location_json(p.location)}
            for p in reasons.isolated_by
        ]
        if reasons.tier_rules:
            out["tier_rules"] = [
                {
                    "tier": r.tier,
                    "policy": r.policy,
                    "direction": str(r.direction),
                    "rule": r.rule,
                    "name": r.name,
                    "action": r.action,
                    "description": r.description,
                    "location": location_json(r.location),
                    "example": {"protocol": r.protocol.value, "port": r.port},
                }
                for r in reasons.tier_rules
            ]
    return out


def matrix_json(matrix) -> dict[str, Any]:
    """A connectivity matrix as a JSON value (specs/matrix.schema.json)."""
    verdict = "not_proved" if matrix.verdict is None else matrix.verdict.value
    return {
        "schema_version": SCHEMA_VERSION,
        "by": matrix.by,
        "rows": list(matrix.rows),
        "columns": list(matrix.columns),
        "verdict": verdict,
        "reason": matrix.reason,
        "witnesses": matrix.witnesses,
        "cells": [_cell_json(matrix, i, j, matrix.cells[(i, j)]) for i, j in sorted(matrix.cells)],
        "void": [
            {"source": matrix.rows[i], "destination": matrix.columns[j]} for i, j in sorted(matrix.void)
        ],
        "notes": list(matrix.notes),
        "coverage": coverage_json(matrix.coverage),
        "seconds": round(matrix.seconds, 6),
        "proof_seconds": round(matrix.proof_seconds, 6),
    }


def render_matrix_json(matrix) -> str:
    return json.dumps(matrix_json(matrix), indent=2) + "\n"


# --- lint (specs/lint.schema.json) -----------------------------------------------------


def _lint_finding_json(f) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "location": location_json(f.location),
        "object": {"kind": f.object.kind, "namespace": f.object.namespace, "name": f.object.name},
        "about": [{"kind": r.kind, "namespace": r.namespace, "name": r.name} for r in f.about],
        "details": list(f.details),
        "packet": packet_json(f.packet),
        "decision": decision_json(f.decision),
    }


def lint_json(report) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "rules": list(report.rules),
        "fail_on": report.fail_on.value,
        "failed": report.failed,
        "findings": [_lint_finding_json(f) for f in report.findings],
        "silenced": [_lint_finding_json(f) for f in report.silenced],
        "undecided": [
            {"rule": u.rule, "reason": u.reason, "location": location_json(u.location), "subject": u.subject} for u in report.undecided
        ],
        "skipped": [{"rule": s.rule, "reason": s.reason} for s in report.skipped],
        "warnings": list(report.warnings),
        "seconds": round(report.seconds, 6),
        "coverage": coverage_json(report.coverage),
    }


def render_lint(report) -> str:
    return json.dumps(lint_json(report), indent=2) + "\n"
