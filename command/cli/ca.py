"""`gridcmd ca init` and `gridcmd ca issue --name … --ip …`: the local certificate authority (command.ops.ca)."""

from __future__ import annotations

import argparse
import sys

from command.cli.spec import Arg, Command
from command.core.settings import Settings


def _ca(args: argparse.Namespace, settings: Settings) -> int:
    from command.ops.ca import CaError, fingerprint, init_ca, issue

    directory = args.dir or settings.ca_dir
    try:
        if args.action == "init":
            path = init_ca(directory, common_name=args.cn, force=args.force)
            print(f"CA certificate: {path}\nSHA-256 fingerprint: {fingerprint(path.read_bytes())}\n"
                  "Phones install it from https://<server>/ca (or http:// on first contact).")
        else:
            done = issue(directory, names=args.name or [], ips=args.ip or [], days=args.days)
            print(f"certificate: {done.cert}\nkey: {done.key}\nfor: {', '.join(done.names + done.ips)}\n"
                  f"valid until: {done.not_after:%Y-%m-%d}\n"
                  f"serve with: GRIDCMD_TLS_CERT_FILE={done.cert} GRIDCMD_TLS_KEY_FILE={done.key} gridcmd serve")
    except CaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


CA = Command(
    "ca", "local certificate authority: `ca init`, then `ca issue --name HOST --ip ADDR` for HTTPS", _ca,
    (Arg("action", choices=["init", "issue"]),
     Arg("--name", action="append", help="DNS name of the server (repeatable)"),
     Arg("--ip", action="append", help="IP address of the server (repeatable)"),
     Arg("--days", type=int, default=825, help="server certificate lifetime (at most 825 days)"),
     Arg("--cn", default="gridcmd local CA", help="the CA's name (ca init)"),
     Arg("--force", action="store_true", help="replace an existing CA (ca init)"),
     Arg("--dir", help="CA directory (default GRIDCMD_CA_DIR)")),
)
COMMANDS = (CA,)
