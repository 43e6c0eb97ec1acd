"""Manifests read from git revisions (REV:path) without a checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from npverify.errors import InputError
from npverify.load import load_manifests

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: prod}
spec: {podSelector: {}}
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deny.yaml").write_text(POLICY)
    (tmp_path / "k8s" / "README.md").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "keep").write_text("")
    git("add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    (tmp_path / "k8s" / "deny.yaml").write_text("")  # the working tree changes; the revision does not
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_revision_folder_is_read_with_revision_locations(repo):
    cluster = load_manifests(["HEAD:k8s/"])
    assert [p.key for p in cluster.policies] == ["prod/deny"]
    assert str(cluster.policies[0].location) == "HEAD:k8s/deny.yaml:1:1"


def test_revision_paths_start_at_the_top_level_even_from_a_subfolder(repo, monkeypatch):
    monkeypatch.chdir(repo / "sub")
    assert [p.key for p in load_manifests(["HEAD:k8s"]).policies] == ["prod/deny"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("HEAD:nope", "HEAD:nope: not a file or folder of a git revision"),
        ("no-such-branch:k8s", "no-such-branch:k8s: not a file or folder of a git revision"),
        ("HEAD:sub", "HEAD:sub: the folder has no .yaml, .yml or .json files at that revision"),
    ],
)
def test_bad_revisions_are_input_errors(repo, spec, message):
    with pytest.raises(InputError) as caught:
        load_manifests([spec])
    assert message in str(caught.value)
