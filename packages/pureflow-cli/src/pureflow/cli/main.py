"""The ``pureflow`` console entry point."""


def main() -> None:
    raise SystemExit("pureflow: the CLI is being built")
