"""What the compiler's tests share: each test that asks for `writer` runs with each
writer this Python has (diffi/compile/bytecode.py assembles bytecode on CPython 3.11;
writers.CodeWriter writes source), so the two cannot drift apart."""
from __future__ import annotations

import pytest

from diffi.compile import bytecode, scalar


@pytest.fixture(params=["bytecode", "source"] if bytecode.SUPPORTED else ["source"])
def writer(request, monkeypatch):
    monkeypatch.setattr(scalar, "FORCE_SOURCE", request.param == "source")
    return request.param
