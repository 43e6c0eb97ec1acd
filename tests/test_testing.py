"""npverify.testing: the assertion helpers teams use in their own pytest suites.

Verdicts here were worked out from the shop example's policies by hand (see the comments);
the helpers must pass on what holds, fail with the counterexample on what does not, and
never pass on an undecided answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from npverify import load_manifests
from npverify.errors import InputError
from npverify.invariants.model import Scope
from npverify.model import LabelSelector, PolicyPort, Protocol
from npverify.results import Verdict
from npverify.testing import assert_allowed, assert_equivalent, assert_isolated, assert_reachable

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "specs" / "examples" / "shop" / "k8s"
TUTORIAL = ROOT / "docs" / "tutorial"
CONTEXT = [SHOP / "namespaces.yaml", SHOP / "workloads.yaml"]
#: As in the shop's invariants file: pods inside, the internet outside.
POD_CIDR = {"podCIDRs": ["10.244.0.0/16"]}
GATEWAY = {"namespace": "payments", "workload": "gateway"}


@pytest.fixture(scope="module")
def shop():
    return load_manifests([SHOP])


# --- assert_isolated ---------------------------------------------------------------------


def test_isolated_passes_when_no_packet_is_allowed(shop):
    # dev's only egress goes to env=dev namespaces and to IPs outside 10.0.0.0/8.
    result = assert_isolated(shop, {"namespace": "dev"}, {"namespace": {"matchLabels": {"env": "prod"}}}, universe=POD_CIDR)
    assert result.verdict is Verdict.PROVED


def test_isolated_fails_with_the_counterexample_and_the_rule_in_the_message(shop):
    # The gateway admits any pod of a team=shop namespace on 8443 (payments-policies.yaml:17).
    with pytest.raises(AssertionError) as failure:
        assert_isolated(shop, {"namespace": "shop-staging"}, GATEWAY, universe=POD_CIDR)
    message = str(failure.value)
    assert message.startswith("REFUTED  from namespace shop-staging to namespace payments, workload gateway  (isolated)")
    assert "counterexample: TCP port 8443" in message
    assert "from pod in namespace shop-staging" in message
    assert "to   pod of Deployment payments/gateway" in message
    assert "payments/gateway ingress[0].from[0] ports[0] (" in message
    assert "payments-policies.yaml:17:11)" in message


def test_isolated_reads_paths_and_ports(shop):
    # Staging reaches the gateway on 8443/TCP only: on 443 it is isolated.
    result = assert_isolated(str(SHOP), {"namespace": "shop-staging"}, GATEWAY, [{"protocol": "TCP", "port": 443}], universe=POD_CIDR)
    assert result.verdict is Verdict.PROVED
    with pytest.raises(AssertionError, match="counterexample: TCP port 8443"):
        assert_isolated([SHOP], {"namespace": "shop-staging"}, GATEWAY, [{"port": 8443}])


def test_isolated_takes_scope_and_port_objects(shop):
    staging = Scope(namespace="shop-staging", pod=LabelSelector({"app": "anything"}))
    with pytest.raises(AssertionError, match="counterexample: TCP port 8443"):
        assert_isolated(shop, staging, Scope(namespace="payments"), [PolicyPort(Protocol.TCP, 8443)], name="staging to payments")
    # A mixed list: objects and mappings keep their order.
    result = assert_isolated(shop, staging, Scope(namespace="payments"), [PolicyPort(Protocol.UDP, 8443), {"protocol": "SCTP", "port": 8443}])
    assert [(p.protocol, p.port) for p in result.invariant.ports] == [(Protocol.UDP, 8443), (Protocol.SCTP, 8443)]


# --- assert_reachable and assert_allowed -------------------------------------------------------


def test_reachable_passes_with_a_witness(shop):
    result = assert_reachable(
        shop, {"namespace": "monitoring", "workload": "prometheus"}, {"namespace": "shop", "workload": "api"}, [{"port": "metrics"}]
    )
    assert result.witness is not None and result.witness.port == 9090


def test_reachable_fails_when_everything_is_denied(shop):
    # The shop's default deny admits nothing from dev, and dev's egress excludes 10.0.0.0/8.
    with pytest.raises(AssertionError) as failure:
        assert_reachable(shop, {"namespace": "dev"}, {"namespace": "shop", "workload": "postgres"}, universe=POD_CIDR)
    assert "REFUTED" in str(failure.value)
    assert "every packet from 'from' to 'to' on the given ports is denied" in str(failure.value)


def test_allowed_passes_when_every_packet_is_allowed(shop):
    # frontend egress: api on 8080; api ingress: frontend on its http port (8080).
    assert_allowed(shop, {"namespace": "shop", "workload": "frontend"}, {"namespace": "shop", "workload": "api"}, [{"protocol": "TCP", "port": 8080}])


def test_allowed_fails_with_a_denied_packet(shop):
    # postgres takes only the api: the frontend is denied.
    with pytest.raises(AssertionError) as failure:
        assert_allowed(shop, {"namespace": "shop", "workload": "frontend"}, {"namespace": "shop", "workload": "postgres"})
    message = str(failure.value)
    assert "counterexample:" in message and "denied because:" in message
    assert "to   pod of StatefulSet shop/postgres" in message


def test_unknown_is_never_a_pass(shop):
    with pytest.raises(AssertionError) as failure:
        assert_isolated(shop, {"namespace": "dev"}, {"namespace": "shop"}, rlimit=1)
    message = str(failure.value)
    assert message.startswith("UNKNOWN")
    assert "unknown is never a pass" in message


# --- assert_equivalent ---------------------------------------------------------------------------


def test_equivalent_passes_on_a_rewrite():
    comparison = assert_equivalent(SHOP / "payments-policies.yaml", TUTORIAL / "payments-rewrite.yaml", CONTEXT)
    assert comparison.same is True


def test_equivalent_fails_with_the_regions_in_the_message():
    # The fix takes away what the bug let in: staging (among others) no longer reaches the gateway.
    with pytest.raises(AssertionError) as failure:
        assert_equivalent(load_manifests([SHOP / "payments-policies.yaml"]), TUTORIAL / "payments-fixed.yaml", load_manifests(CONTEXT), max_diffs=20)
    message = str(failure.value)
    assert message.startswith("the policies are not equivalent")
    assert "only left allows: 9 regions" in message
    assert f"only {TUTORIAL / 'payments-fixed.yaml'} allows: 0 regions" in message
    assert "TCP 8443 from pods in namespace shop-staging to pods {app=gateway} in namespace payments" in message
    assert "DIFFERENT: 9 difference regions" in message


def test_equivalent_undecided_fails():
    with pytest.raises(AssertionError, match="undecided"):
        assert_equivalent(SHOP / "payments-policies.yaml", TUTORIAL / "payments-fixed.yaml", CONTEXT, rlimit=1)


# --- bad arguments are InputErrors naming the argument ------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"src": {"namespce": "dev"}}, "error: src.namespce: unknown field 'namespce'; did you mean 'namespace'?"),
        ({"dst": {"pod": {"matchLabels": {"app": 5}}}}, "error: dst.pod.matchLabels.app: must be a string, got integer 5"),
        ({"ports": [8080]}, "error: ports[0]: must be a mapping such as {protocol: TCP, port: 8080}, got integer 8080"),
        ({"ports": 8080}, "error: ports: must be a list of ports"),
        ({"src": "dev"}, "error: src: must be a Scope or Mapping (or None), got str 'dev'"),
        ({"universe": {"pods": "some"}}, "error: universe.pods: must be 'any' or 'workloads', got 'some'"),
        ({"dst": {"workload": "nope"}}, "error: dst.workload: workload 'nope' was not loaded"),
    ],
)
def test_bad_arguments_raise_input_errors_naming_the_argument(shop, arguments, expected):
    call = {"src": None, "dst": None, **arguments}
    with pytest.raises(InputError) as failure:
        assert_isolated(shop, **call)
    assert str(failure.value).startswith(expected)


def test_bad_manifests_argument():
    with pytest.raises(InputError, match="manifests must be a path, a list of paths or a Cluster, got int 3"):
        assert_isolated(3, None, None)


def test_a_scope_no_endpoint_matches_warns(shop):
    # 192.168.0.0/16 lies outside the pod CIDR: no pod has such an IP, so isolation is vacuous.
    with pytest.warns(UserWarning, match="src.ipBlock: no endpoint matches"):
        assert_isolated(shop, {"namespace": "dev", "ipBlock": {"cidr": "192.168.0.0/16"}}, None, universe=POD_CIDR)


# --- pytest shows the user's line, not the helper's frames ----------------------------------------------


def test_pytest_traceback_hides_the_helpers_frames(pytester):
    pytester.makepyfile(
        test_policies=f"""
        from npverify.testing import assert_isolated

        def test_staging_cannot_reach_the_gateway():
            assert_isolated({str(SHOP)!r}, {{"namespace": "shop-staging"}}, {{"namespace": "payments", "workload": "gateway"}})  # the user's line
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.lines
    assert any("# the user's line" in line for line in output), result.stdout.str()
    assert any("counterexample: TCP port 8443" in line for line in output)
    assert any(re.match(r"E\s+AssertionError: REFUTED", line) for line in output)
    assert any(re.match(r"test_policies.py:\d+: AssertionError", line) for line in output)
    # No frame, source line or location of npverify/testing.py: pytest hid them all.
    testing_py = str(ROOT / "npverify" / "testing.py")
    assert not [line for line in output if "testing.py" in line or testing_py in line or "_assert_flow" in line or "_raise_unless_proved" in line]
