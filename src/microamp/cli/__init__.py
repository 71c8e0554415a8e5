"""The command-line interface: Typer and Rich; the only layer that prints."""
