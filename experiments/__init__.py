"""Experiments: scripts with ``main(argv)`` that only call the library; run them from the repository
root as ``python -m experiments.<name>`` (or ``python experiments/<name>.py``)."""
