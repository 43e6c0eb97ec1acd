"""JSON rendering of results: a stable, versioned document (specs/report.schema.json)."""

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
        "explanation": decision_json(result.decision),
        "reason": result.reason or None,
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
    }


def render_report(report: ProofReport) -> str:
    return json.dumps(report_json(report), indent=2, sort_keys=False) + "\n"
