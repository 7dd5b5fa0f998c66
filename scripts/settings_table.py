"""Print (or, with --write, refresh in README.md) the configuration table: every field of command/core/settings.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from command.core.settings import Settings  # noqa: E402

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"GRIDCMD_{field.upper()}"


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, f in Settings.model_fields.items():
        default = f.default
        shown = "(empty)" if default == "" else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `{env_name(name)}` | `{shown}` | {(f.description or '').replace('|', '/')} |")
    return "\n".join(rows)


def refresh(readme: str) -> str:
    return re.sub(f"{re.escape(START)}.*?{re.escape(END)}", f"{START}\n{table()}\n{END}", readme, flags=re.S)


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "README.md"
        path.write_text(refresh(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
