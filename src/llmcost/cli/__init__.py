"""The command line. The only code that imports typer or prints."""
