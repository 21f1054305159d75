"""PyInstaller entry point: the same `main()` as the `workbench` console script."""

from workbench.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
