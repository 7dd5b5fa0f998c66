"""Base map presets (issue 17 item 5): the style a page gets (GET /api/v1/screen/config `basemap`, the CSP) carries
the preset's tile URLs when one is configured and none otherwise; a preset without what it needs stops the start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from command.core.settings import Settings
from command.demo.people import DEMO_PASSWORD
from command.reports import basemaps
from tests.environment import make_test_settings
from tests.helpers import app_client, login

TK = "0123456789abcdef0123456789abcdef"


async def _config(settings: Settings) -> tuple[dict, str]:
    async with app_client(settings) as client:
        config = (await client.get("/api/v1/screen/config",
                                   headers=await login(client, "operator", DEMO_PASSWORD))).json()
        csp = (await client.get("/screen")).headers["content-security-policy"]
    return config, csp


@pytest.mark.usefixtures("demo_db", "redis")
async def test_no_preset_no_base_map(settings) -> None:
    config, csp = await _config(settings)
    assert config["basemap"] is None and config["basemap_url"] is None
    assert "http" not in csp


@pytest.mark.usefixtures("demo_db", "redis")
async def test_tianditu_preset_serves_vector_and_annotation_with_the_key(settings) -> None:
    config, csp = await _config(settings.model_copy(update={"basemap_preset": "tianditu", "tianditu_tk": TK}))
    base = config["basemap"]
    assert base["preset"] == "tianditu" and base["crs"] == "wgs84" and "天地图" in base["attribution"]
    vec, cva = base["layers"]
    assert (vec["id"], vec["labels"], cva["id"], cva["labels"]) == ("tianditu-vec", False, "tianditu-cva", True)
    assert len(vec["tiles"]) == 8
    assert vec["tiles"][0] == ("https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                               "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
                               f"&TILECOL={{x}}&tk={TK}")
    assert all("/cva_w/wmts?" in u and "LAYER=cva" in u and u.endswith(f"tk={TK}") for u in cva["tiles"])
    assert config["basemap_url"] == vec["tiles"][0]
    for i in range(8):
        assert f"https://t{i}.tianditu.gov.cn" in csp
    imagery = basemaps.describe(settings.model_copy(update={"basemap_preset": "tianditu-img", "tianditu_tk": TK}))
    assert imagery is not None and [b["id"] for b in imagery["layers"]] == ["tianditu-img", "tianditu-cia"]


@pytest.mark.usefixtures("demo_db", "redis")
async def test_intranet_preset_serves_its_xyz_source_in_its_datum(settings) -> None:
    url = "http://tiles.intranet.gov:8080/osm/{z}/{x}/{y}.png"
    config, csp = await _config(settings.model_copy(update={
        "basemap_preset": "intranet", "basemap_url": url, "basemap_crs": "gcj02"}))
    assert config["basemap"] == {"preset": "intranet", "crs": "gcj02", "attribution": None,
                                 "layers": [{"id": "basemap", "tiles": [url], "labels": False}]}
    assert "img-src 'self' data: blob: http://tiles.intranet.gov:8080;" in csp
    assert "tianditu" not in csp


@pytest.mark.parametrize(("env", "message"), [
    ({"basemap_preset": "google"}, "must be one of"),
    ({"basemap_preset": "tianditu"}, "GRIDCMD_TIANDITU_TK"),
    ({"basemap_preset": "intranet"}, "GRIDCMD_BASEMAP_URL"),
])
def test_a_preset_without_what_it_needs_stops_the_start(env: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_test_settings(**env)
