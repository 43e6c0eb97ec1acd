"""YAML -> model: Kubernetes manifests, validated and defaulted as the API server does.

Every error is an InputError whose diagnostics carry file:line:col and the field path.
"""

from npverify.load.manifests import load_manifests, load_text

__all__ = ["load_manifests", "load_text"]
