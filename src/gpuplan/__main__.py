"""``python -m gpuplan`` runs the CLI."""

from gpuplan.cli import main

main()
