"""The README's configuration table lists every setting; docker-compose.yml has what the README promises."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from command.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _settings_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tool = _settings_table()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.M))
    expected = {tool.env_name(name) for name in Settings.model_fields}
    assert expected - documented == set(), "run: python scripts/settings_table.py --write"
    assert tool.refresh(readme) == readme, "the table is stale: run python scripts/settings_table.py --write"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:400]
    assert "make demo" in head and "make test" in head
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)


def test_compose_runs_postgis_redis_and_the_app_with_healthchecks() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"] == "postgis/postgis:15-3.4"
    assert services["redis"]["image"].startswith("redis:")
    for name in ("db", "redis", "app"):
        assert services[name]["healthcheck"]["test"], name
    app = services["app"]
    assert app["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    assert "gridcmd migrate && exec gridcmd demo --serve --host 0.0.0.0" in " ".join(app["command"])
    env = app["environment"]
    assert env["DATABASE_URL"].endswith("@db:5432/gridcmd") and env["REDIS_URL"].startswith("redis://redis:")


def test_make_test_type_checks_the_core_packages_strictly() -> None:
    """`make test` (CI) runs mypy on geo, dispatch and command, strict by the configuration alone."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert ".venv/bin/mypy geo dispatch command" in target
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    for override in mypy.get("overrides", []):  # per-module settings only for third-party libraries
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not any(m.split(".")[0] in ("geo", "dispatch", "command") for m in modules), override
