"""``python -m hyperselect``: the same CLI as the ``hyperselect`` command."""

from hyperselect.cli import main

if __name__ == "__main__":
    main()
