"""The command line: `python main.py …` and the demo data."""
