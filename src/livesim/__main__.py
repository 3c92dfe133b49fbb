"""``python -m livesim`` is the ``livesim`` command."""

from livesim.cli import main

if __name__ == "__main__":
    main()
