"""``python -m sandbox registers start|stop|status``: the register hosts' command line.

``main(argv)`` takes the arguments after the word ``registers`` and returns the exit code: 0 done,
1 failed (the reason on stderr), 2 usage. Every command prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from sandbox.registers.hosts import DEFAULT_BASE_PORT, RegistersError, Sandbox


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox registers",
                                     description="Register hosts: one sshd per register, with the agent.")
    sub = parser.add_subparsers(dest="command", required=True)

    start = sub.add_parser("start", help="start the register hosts (idempotent) and write the inventory")
    start.add_argument("--data-dir", required=True, help="the sandbox data dir (state lives in D/registers)")
    start.add_argument("--count", type=int, help="how many registers: reg01..regNN (default: as last time)")
    start.add_argument("--cabinet-url", help="the cabinet the agents talk to (default: as last time)")
    start.add_argument("--inventory", help="where to write the YAML inventory (default: "
                                           "inventories/sandbox/registers.generated.yml, or as last time)")
    start.add_argument("--base-port", type=int,
                       help="first port of the free-port search (default %d)" % DEFAULT_BASE_PORT)
    start.add_argument("--only", metavar="NAME", help="start just this register (e.g. reg02)")

    stop = sub.add_parser("stop", help="stop the register hosts and end their SSH sessions")
    stop.add_argument("--data-dir", required=True)
    stop.add_argument("--only", metavar="NAME", help="stop just this register")

    status = sub.add_parser("status", help="which registers run")
    status.add_argument("--data-dir", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:   # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if getattr(args, "count", None) is not None and args.count < 1:
        parser.print_usage(sys.stderr)
        print("--count must be at least 1", file=sys.stderr)
        return 2
    try:
        with Sandbox(args.data_dir) as sandbox:
            if args.command == "start":
                result = sandbox.start(args.count, args.cabinet_url, inventory=args.inventory,
                                       base_port=args.base_port, only=args.only)
            elif args.command == "stop":
                result = sandbox.stop(only=args.only)
            else:
                result = sandbox.status()
    except RegistersError as exc:
        print("registers %s: %s" % (args.command, exc), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
