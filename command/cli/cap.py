"""`gridcmd cap-category-set`, `cap-category-remove`, `cap-categories`: the admin's table from CAP event/category
to a gridcmd category (command.intake.channels.cap_categories; the admin API is /api/v1/admin/cap-categories)."""

from __future__ import annotations

import argparse

from command.cli.devices import in_transaction
from command.cli.spec import Arg, Command
from command.core.errors import NotFound
from command.core.settings import Settings
from command.intake.channels import cap_categories


def _set(args: argparse.Namespace, settings: Settings) -> int:
    m = in_transaction(settings, lambda s: cap_categories.put(s, kind=args.kind, value=args.value,
                                                              category_code=args.category, priority=args.priority))
    print(f"CAP {m.kind} {m.value!r} → {m.category_code}" + (f" (priority {m.priority})" if m.priority else ""))
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    try:
        in_transaction(settings, lambda s: cap_categories.remove(s, kind=args.kind, value=args.value))
    except NotFound as exc:
        print(f"error: {exc.message}")
        return 1
    print(f"CAP {args.kind} {args.value!r}: mapping removed")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    for m in in_transaction(settings, cap_categories.list_all):
        print(f"{m.kind}\t{m.value}\t{m.category_code}\t{m.priority or ''}")
    return 0


_KIND = Arg("kind", choices=cap_categories.KINDS, help="event (checked first) or category")
_VALUE = Arg("value", help="the CAP <event> text, or a CAP 1.2 <category> (Met, Geo, Fire, …)")
SET = Command("cap-category-set", "map a CAP event or category to a gridcmd category", _set,
              (_KIND, _VALUE, Arg("category", help="gridcmd category code"),
               Arg("--priority", type=int, choices=[1, 2, 3, 4], help="otherwise from CAP severity")))
REMOVE = Command("cap-category-remove", "remove a CAP category mapping", _remove, (_KIND, _VALUE))
LIST = Command("cap-categories", "list the CAP category mappings (kind, value, category, priority)", _list)
COMMANDS = (SET, REMOVE, LIST)
