"""Objects read live from a cluster (``cluster:`` / ``cluster:CONTEXT``), through kubectl.

``npverify equiv cluster: k8s/`` asks whether what is deployed is what the repository
says. We run the user's own ``kubectl`` (so its authentication, proxies and exec plugins
keep working, and npverify needs no Kubernetes client library): ``api-resources`` says
which resource types the cluster serves (a kind whose CRD is not installed is simply
absent), then one ``get RESOURCE --all-namespaces -o json`` per type npverify reads or
knows it does not model. A missing kubectl, an unreachable cluster or a forbidden type is
an InputError carrying kubectl's own message: an answer about part of a cluster would not
fail closed.

Each object becomes its own document, named by its identity
(``cluster:CONTEXT/Kind/namespace/name``) and written as ``kubectl get KIND -n NAMESPACE
NAME -o json`` prints it (keys sorted, four-space indent), so a location's line is the
line of that command's output. Pods, ReplicaSets and Jobs that a controller read here
made, and that hold the same pods as its template, count once, as that controller.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from typing import Any

import attrs

from npverify.coverage import UNMODELLED_KINDS
from npverify.errors import InputError
from npverify.model import Diagnostic, Severity

#: How a manifests path names a live cluster: ``cluster:`` (kubectl's current context) or
#: ``cluster:CONTEXT``.
CLUSTER_PREFIX = "cluster:"

#: Seconds each kubectl call may take before the read fails.
KUBECTL_TIMEOUT = 300

#: The resource types npverify reads, as ``kubectl api-resources -o name`` writes them.
READ_RESOURCES = (
    "namespaces",
    "nodes",
    "networkpolicies.networking.k8s.io",
    "clusternetworkpolicies.policy.networking.k8s.io",
    "adminnetworkpolicies.policy.networking.k8s.io",
    "baselineadminnetworkpolicies.policy.networking.k8s.io",
    "services",
    "pods",
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "cronjobs.batch",
)

#: Controllers whose children (kind -> the owner kinds it counts as) are dropped when they
#: hold the same pods as the owner's template.
_OWNER_KINDS = {
    "Pod": ("ReplicaSet", "StatefulSet", "DaemonSet", "Job"),
    "ReplicaSet": ("Deployment",),
    "Job": ("CronJob",),
}

#: Labels a controller stamps on the pods (or ReplicaSets, Jobs) it makes with a hash or
#: a generated value, which its template cannot say. Labels a policy may select one pod by
#: (statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index) are not among them:
#: a pod carrying one differs from its template and counts as itself.
GENERATED_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
        "job-name",
        "batch.kubernetes.io/job-name",
    }
)

#: The pod phases of pods that have ended: they hold no IP any more (it can be reused).
_ENDED_PHASES = ("Succeeded", "Failed")


def is_cluster_spec(spec: str) -> bool:
    """Does a manifests path name a live cluster (``cluster:`` or ``cluster:CONTEXT``)?"""
    return spec.startswith(CLUSTER_PREFIX)


def context_of(spec: str) -> str | None:
    """The kubectl context a ``cluster:`` path names; None: the current one."""
    return spec[len(CLUSTER_PREFIX):] or None


def resource_name(group: str, kind: str) -> str:
    """``kubectl api-resources -o name`` of a kind: its lower-case plural, dot group."""
    lower = kind.lower()
    plural = lower[:-1] + "ies" if lower.endswith("y") else lower + "s"
    return f"{plural}.{group}" if group else plural


def wanted_resources() -> tuple[str, ...]:
    """Every resource type a cluster read asks for, when the cluster serves it."""
    unmodelled = (resource_name(k.api_group, k.kind) for k in UNMODELLED_KINDS)
    return tuple(dict.fromkeys((*READ_RESOURCES, *unmodelled)))


@attrs.frozen
class LiveDocument:
    """One object read from a cluster: its identity (the file name locations show) and text."""

    name: str
    text: str


@attrs.frozen
class LiveRead:
    """What ``read_cluster`` found: one document per object, and warnings."""

    documents: tuple[LiveDocument, ...]
    warnings: tuple[Diagnostic, ...] = ()


class _Kubectl:
    """Runs ``kubectl [--context NAME] ...`` and returns its standard output."""

    def __init__(self, context: str | None) -> None:
        self.context = context
        self.path = shutil.which("kubectl")
        if self.path is None:
            raise InputError(
                Diagnostic(f"reading {_described(context)} needs the kubectl command, which is not on PATH")
            )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [self.path, *(("--context", self.context) if self.context else ()), *args]
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, check=False, timeout=KUBECTL_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            raise InputError(Diagnostic(f"{self.describe(args)} did not finish within {KUBECTL_TIMEOUT} s")) from None
        except OSError as exc:
            raise InputError(Diagnostic(f"{self.describe(args)}: cannot run kubectl: {exc.strerror or exc}")) from None
        if check and done.returncode != 0:
            raise InputError(Diagnostic(f"{self.describe(args)} failed: {_message(done.stderr)}"))
        return done

    def describe(self, args: Iterable[str]) -> str:
        return " ".join(["kubectl", *(("--context", self.context) if self.context else ()), *args])


def _spec(context: str | None) -> str:
    return CLUSTER_PREFIX + (context or "")


def _described(context: str | None) -> str:
    return f"the cluster of kubectl context {context!r}" if context else "the cluster of kubectl's current context"


def _message(stderr: bytes) -> str:
    """kubectl's own message, on one line when it is short."""
    text = stderr.decode("utf-8", "replace").strip()
    return text or "exit status non-zero, no message"


def read_cluster(context: str | None) -> LiveRead:
    """The objects of the cluster of ``context`` (None: kubectl's current context)."""
    kubectl = _Kubectl(context)
    name = context or _current_context(kubectl)
    served, warnings = _served_resources(kubectl)
    objects: list[dict[str, Any]] = []
    for resource in wanted_resources():
        if resource in served:
            objects += _get(kubectl, resource)
    kept = _count_once(objects)
    documents = tuple(
        LiveDocument(_identity(name, obj), json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n")
        for obj in kept
    )
    return LiveRead(documents, tuple(warnings))


def _current_context(kubectl: _Kubectl) -> str:
    """The name of the current context, for identities; "" when kubectl has none (in a pod)."""
    done = kubectl.run("config", "current-context", check=False)
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""


#: What kubectl writes when an aggregated API (often metrics.k8s.io) does not answer
#: discovery: the other types are still listed.
_PARTIAL_DISCOVERY = "unable to retrieve the complete list of server APIs"
_FAILED_GROUP = re.compile(r"([a-z0-9][a-z0-9.-]*)/v[0-9][a-z0-9]*:")


def _served_resources(kubectl: _Kubectl) -> tuple[frozenset[str], list[Diagnostic]]:
    """The resource types the cluster lists; a group that failed discovery is an error
    when npverify wants a type of it (its objects could change the answers)."""
    args = ("api-resources", "--verbs=list", "-o", "name")
    done = kubectl.run(*args, check=False)
    served = frozenset(line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip())
    if done.returncode == 0:
        return served, []
    message = _message(done.stderr)
    if not served or _PARTIAL_DISCOVERY not in message:
        raise InputError(Diagnostic(f"{kubectl.describe(args)} failed: {message}"))
    failed = set(_FAILED_GROUP.findall(message))
    wanted_groups = {r.partition(".")[2] for r in wanted_resources()}
    if failed & wanted_groups or not failed:
        raise InputError(Diagnostic(f"{kubectl.describe(args)} failed: {message}"))
    return served, [
        Diagnostic(
            f"{_spec(kubectl.context)}: the cluster did not list the types of {', '.join(sorted(failed))}, "
            "which npverify does not read: " + message,
            severity=Severity.WARNING,
        )
    ]


def _get(kubectl: _Kubectl, resource: str) -> list[dict[str, Any]]:
    """The objects of one resource type, in every namespace, with their kind and apiVersion."""
    args = ("get", resource, "--all-namespaces", "-o", "json")
    done = kubectl.run(*args)
    try:
        listed = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError as exc:
        raise InputError(Diagnostic(f"{kubectl.describe(args)}: the output is not JSON ({exc})")) from None
    if not isinstance(listed, dict) or not isinstance(listed.get("items", []), list):
        raise InputError(Diagnostic(f"{kubectl.describe(args)}: the output is not a Kubernetes list"))
    kind = str(listed.get("kind", ""))
    item_kind = kind[: -len("List")] if kind.endswith("List") and kind != "List" else ""
    objects = []
    for item in listed.get("items") or ():
        if not isinstance(item, dict):
            raise InputError(Diagnostic(f"{kubectl.describe(args)}: an item of the list is not an object"))
        item = dict(item)
        # Items of a typed list may leave out their kind and apiVersion, as API responses do.
        if item_kind:
            item.setdefault("kind", item_kind)
        if "apiVersion" in listed:
            item.setdefault("apiVersion", listed["apiVersion"])
        objects.append(_trimmed(item))
    return objects


def _trimmed(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as ``kubectl get -o json`` shows it: without managedFields (kubectl hides
    them too), and without a workload's status but for a Pod's phase and IPs."""
    obj = dict(obj)
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    status = obj.get("status")
    if obj.get("kind") == "Pod" and isinstance(status, dict):
        obj["status"] = {k: v for k, v in status.items() if k in ("phase", "podIP", "podIPs")}
    return obj


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _key(kind: str, namespace: str, name: str) -> tuple[str, str, str]:
    return (kind, namespace, name)


def _key_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = _meta(obj)
    return _key(str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _count_once(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objects`` without ended pods, without a Deployment's ReplicaSets scaled to zero,
    and without the pods, ReplicaSets and Jobs whose controller was read and holds the same
    pods: they count once, as that controller.

    A child that differs from its controller's template (an old ReplicaSet during a
    rollout, a relabelled pod, a StatefulSet pod with its pod-name label) is kept: the
    pods it holds run as they are, whatever the template now says.
    """
    read = {_key_of(obj): obj for obj in objects}
    # A Deployment keeps its old ReplicaSets, scaled to zero, for rollbacks: they hold no
    # pods. They are not owners either, so a pod still naming one counts as itself.
    for obj in objects:
        if _scaled_to_zero(obj) and _controller(obj, read) is not None:
            del read[_key_of(obj)]
    kept = []
    for obj in objects:
        if _key_of(obj) not in read or _ended(obj):
            continue
        owner = _controller(obj, read)
        if owner is not None and _pod_facts(obj) == _pod_facts(owner):
            continue
        kept.append(obj)
    return kept


def _ended(obj: dict[str, Any]) -> bool:
    """A Pod that has ended: it holds no IP any more (it can be reused)."""
    status = obj.get("status")
    return obj.get("kind") == "Pod" and isinstance(status, dict) and status.get("phase") in _ENDED_PHASES


def _scaled_to_zero(obj: dict[str, Any]) -> bool:
    """A ReplicaSet that wants no pods and has none."""
    spec, status = obj.get("spec"), obj.get("status")
    return (
        obj.get("kind") == "ReplicaSet"
        and isinstance(spec, dict)
        and spec.get("replicas") == 0
        and (not isinstance(status, dict) or not status.get("replicas"))
    )


def _controller(obj: dict[str, Any], read: dict[tuple[str, str, str], dict[str, Any]]) -> dict[str, Any] | None:
    """The controller of ``obj`` (ownerReferences[].controller) when it was read, else None."""
    kinds = _OWNER_KINDS.get(str(obj.get("kind", "")), ())
    meta = _meta(obj)
    for ref in meta.get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller") is True and ref.get("kind") in kinds:
            owner = read.get(_key(ref["kind"], str(meta.get("namespace") or ""), str(ref.get("name") or "")))
            if owner is not None and (not ref.get("uid") or not _meta(owner).get("uid") or ref["uid"] == _meta(owner)["uid"]):
                return owner
    return None


def _pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod (metadata and spec) an object makes: a Pod itself, else its pod template."""
    kind = obj.get("kind")
    path = {"Pod": (), "CronJob": ("spec", "jobTemplate", "spec", "template")}.get(str(kind), ("spec", "template"))
    found: Any = obj
    for step in path:
        found = found.get(step) if isinstance(found, dict) else None
    return found if isinstance(found, dict) else {}


def _pod_facts(obj: dict[str, Any]) -> tuple:
    """What npverify reads of the pods an object makes: labels (but the generated ones),
    hostNetwork and container ports. Equal facts: the same pods, as far as policies see."""
    pod = _pod_template(obj)
    labels = _meta(pod).get("labels") or {}
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    ports = []
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or ():
            if isinstance(container, dict):
                ports.append((key, container.get("name"), json.dumps(container.get("ports") or [], sort_keys=True)))
    return (
        {k: v for k, v in labels.items() if k not in GENERATED_LABELS} if isinstance(labels, dict) else labels,
        bool(spec.get("hostNetwork")),
        sorted(ports, key=repr),
    )


def _identity(context: str, obj: dict[str, Any]) -> str:
    """``cluster:CONTEXT/Kind/namespace/name`` (no namespace for cluster-scoped kinds)."""
    kind, namespace, name = _key_of(obj)
    parts = [kind, *([namespace] if namespace else []), name]
    return CLUSTER_PREFIX + "/".join([context, *parts] if context else parts)


__all__ = ["CLUSTER_PREFIX", "LiveDocument", "LiveRead", "context_of", "is_cluster_spec", "read_cluster", "resource_name", "wanted_resources"]
