"""``python -m sandbox {cabinet|registers} ...``: dispatch to the part's own command line.

Each part is imported only when asked for, so ``cabinet`` works without the registers package and the
other way round (and neither pays for the other's imports).
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m sandbox {cabinet,registers} ...

  cabinet start|stop|serve|status --data-dir D ...   the cabinet API emulator
  registers start|stop|status --data-dir D ...       register hosts (sshd + agent)

Run 'python -m sandbox cabinet --help' for the options of a part."""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    part, rest = argv[0], argv[1:]
    if part == "cabinet":
        from sandbox.cabinet.cli import main as part_main
    elif part == "registers":
        from sandbox.registers.cli import main as part_main
    else:
        print("unknown part %r\n%s" % (part, USAGE), file=sys.stderr)
        return 2
    result = part_main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
