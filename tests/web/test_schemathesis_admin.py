"""Schemathesis over every operation as admin (tests/web/schemathesis_kit.py says what passes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.schemathesis_kit import fuzz_as, server  # noqa: F401 (server: the module's fixture)

pytestmark = pytest.mark.timeout(900)


async def test_every_operation_answers_only_documented_statuses_and_never_5xx(server: tuple, tmp_path: Path) -> None:  # noqa: F811
    await fuzz_as(server, "admin", tmp_path)
