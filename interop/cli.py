"""The entry point the interop scripts share: run main, exit with its code, report failures."""

import sys


def run(name, main):
    """Run main(argv) as a command named name: its return value is the exit code;
    Ctrl-C exits 130; any other exception is reported on stderr and exits 1."""
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - a CLI: report and fail
        print(f"{name}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
