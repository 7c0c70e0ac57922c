"""`python -m monitor.cli`: the same command line as the `onestop` script."""

from monitor.cli.main import main

if __name__ == "__main__":
    main()
