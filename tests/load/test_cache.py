"""The load cache gives exactly what reading the files gives, and never a stale or damaged answer."""

from __future__ import annotations

import enum
import os
import shutil
import stat
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.errors import InputError
from npverify.load import cache as cache_module
from npverify.load import load_manifests
from npverify.load.cache import LoadCache

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"
#: Manifests of every kind npverify reads, with warnings, unmodelled and skipped documents.
MANIFESTS = [
    [EXAMPLES / "shop" / "k8s"],
    [EXAMPLES / "tiers" / "cluster.yaml", EXAMPLES / "tiers" / "policies.yaml"],
    [ROOT / "tests" / "data" / "manifests"],
    [ROOT / "tests" / "data" / "tiers"],
    [ROOT / "tests" / "data" / "netpol_analyzer" / "tests"],
]

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: api, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: {app}}}}}
  ingress:
  - from: [{{podSelector: {{}}}}]
    ports: [{{port: 8080}}]
"""


def same(a, b, path="cluster"):
    """Deep equality over every field, including those equality ignores (locations)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            if field.init:
                same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (frozenset, set)):
        assert a == b, path
    else:
        assert a == b or (isinstance(a, enum.Enum) and a is b), f"{path}: {a!r} != {b!r}"


@pytest.fixture
def cache(tmp_path):
    return LoadCache(tmp_path / "cache")


@pytest.mark.parametrize("manifests", MANIFESTS, ids=lambda paths: paths[0].relative_to(ROOT).as_posix())
def test_a_warm_load_is_the_cold_load_and_the_uncached_load(manifests, cache):
    paths = [str(p) for p in manifests]
    try:
        plain = load_manifests(paths)
    except InputError as error:  # a folder of bad inputs: the same errors, and nothing kept
        with pytest.raises(InputError) as cold:
            load_manifests(paths, cache=cache)
        assert str(cold.value) == str(error)
        return
    cold = load_manifests(paths, cache=cache)
    assert cache.hits == 0 and cache.misses > 0
    warm = load_manifests(paths, cache=cache)
    assert cache.hits == cache.misses
    same(plain, cold)
    same(plain, warm)


def test_a_changed_file_is_read_again(tmp_path, cache):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api"))
    first = load_manifests([str(policy)], cache=cache)
    policy.write_text(POLICY.format(app="web"))
    second = load_manifests([str(policy)], cache=cache)
    assert first.policies[0].pod_selector != second.policies[0].pod_selector
    assert cache.hits == 0


def test_the_key_holds_the_name_the_options_and_the_code(tmp_path, cache, monkeypatch):
    data = POLICY.format(app="api").encode()
    keys = {
        cache.key("a.yaml", data, ("limits", None)),
        cache.key("b.yaml", data, ("limits", None)),
        cache.key("a.yaml", data, ("limits", "other")),
    }
    monkeypatch.setattr(cache_module, "_code_fingerprint", b"another npverify")
    keys.add(cache.key("a.yaml", data, ("limits", None)))
    assert len(keys) == 4


def test_the_default_namespace_is_part_of_what_is_kept(tmp_path, cache):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api").replace("namespace: shop", "labels: {}"))
    first = load_manifests([str(policy)], cache=cache, default_namespace="one")
    second = load_manifests([str(policy)], cache=cache, default_namespace="two")
    assert (first.policies[0].namespace, second.policies[0].namespace) == ("one", "two")


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # a flipped bit
        lambda blob: b"",  # empty
        lambda blob: b"not a cache entry at all",
    ],
)
def test_a_damaged_entry_is_removed_and_the_file_read_again(tmp_path, cache, damage):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api"))
    plain = load_manifests([str(policy)])
    load_manifests([str(policy)], cache=cache)
    (entry,) = cache.entries()
    entry.write_bytes(damage(entry.read_bytes()))
    again = load_manifests([str(policy)], cache=cache)
    same(plain, again)
    assert cache.hits == 0
    (rewritten,) = cache.entries()  # read again, and kept again
    assert load_manifests([str(policy)], cache=cache) == plain and cache.hits == 1
    assert rewritten.read_bytes().startswith(cache_module.MAGIC)


def test_a_payload_that_is_not_ours_is_never_an_answer(tmp_path, cache):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api"))
    load_manifests([str(policy)], cache=cache)
    (entry,) = cache.entries()
    payload = b"\x80\x05garbage"  # a pickle header, then nonsense; its digest is right
    import hashlib

    entry.write_bytes(cache_module.MAGIC + hashlib.sha256(payload).digest() + payload)
    assert load_manifests([str(policy)], cache=cache) == load_manifests([str(policy)])
    assert cache.hits == 0


def test_a_file_with_an_error_is_never_kept(tmp_path, cache):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api").replace("port: 8080", "port: 99999"))
    for _ in range(2):
        with pytest.raises(InputError) as error:
            load_manifests([str(policy)], cache=cache)
        assert "policy.yaml:8" in str(error.value)
    assert list(cache.entries()) == []


def test_an_object_defined_in_two_cached_files_is_still_an_error(tmp_path, cache):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(POLICY.format(app="api"))
    both = [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    with pytest.raises(InputError) as uncached:
        load_manifests(both)
    load_manifests(both[:1], cache=cache)
    load_manifests(both[1:], cache=cache)
    with pytest.raises(InputError) as error:
        load_manifests(both, cache=cache)
    assert cache.hits == 2
    assert str(error.value) == str(uncached.value)
    assert "b.yaml:3:18: error: metadata.name: NetworkPolicy shop/api is already defined at" in str(error.value)


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_a_directory_others_can_write_is_not_used(tmp_path):
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o777)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api"))
    cache = LoadCache(directory)
    cluster = load_manifests([str(policy)], cache=cache)
    assert any("load cache not used" in str(w) and "written by others" in str(w) for w in cluster.warnings)
    assert list(cache.entries()) == []


def test_a_new_cache_directory_is_its_owners_only(tmp_path):
    cache = LoadCache(tmp_path / "new" / "cache")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(app="api"))
    load_manifests([str(policy)], cache=cache)
    if os.name == "posix":
        assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700


def test_pruning_removes_the_oldest_entries(tmp_path):
    cache = LoadCache(tmp_path / "cache", max_bytes=1)
    for app in ("a", "b", "c"):
        policy = tmp_path / f"{app}.yaml"
        policy.write_text(POLICY.format(app=app))
        load_manifests([str(policy)], cache=cache)
    cache.prune()
    assert list(cache.entries()) == []


def test_the_environment_turns_the_default_cache_off(monkeypatch):
    monkeypatch.setenv("NPVERIFY_NO_CACHE", "1")
    assert LoadCache.default() is None
    monkeypatch.setenv("NPVERIFY_NO_CACHE", "0")
    assert LoadCache.default() is not None


def test_the_cli_fills_the_cache_unless_told_not_to_and_reports_it(tmp_path, monkeypatch):
    directory = tmp_path / "cli-cache"
    monkeypatch.setenv("NPVERIFY_CACHE_DIR", str(directory))
    shop = shutil.copytree(EXAMPLES / "shop", tmp_path / "shop")
    runner = CliRunner()
    uncached = runner.invoke(main, ["prove", str(shop / "invariants.yaml"), "--no-cache"])
    assert uncached.exit_code == 1, uncached.output
    assert not directory.exists() or list(LoadCache(directory).entries()) == []
    cold = runner.invoke(main, ["prove", str(shop / "invariants.yaml")])
    warm = runner.invoke(main, ["prove", str(shop / "invariants.yaml")])
    count = len(list(LoadCache(directory).entries()))
    assert count > 0
    strip = lambda text: text.rsplit("(", 1)[0]  # noqa: E731 - the timing differs
    assert strip(cold.output) == strip(warm.output) == strip(uncached.output)
    shown = runner.invoke(main, ["cache"])
    assert shown.exit_code == 0 and str(directory) in shown.output and f"entries: {count} " in shown.output
    cleared = runner.invoke(main, ["cache", "--clear"])
    assert cleared.output.startswith(f"removed {count} entries")
    assert list(LoadCache(directory).entries()) == []
