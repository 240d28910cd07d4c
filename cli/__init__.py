"""The `studyledger` command line (click). The command path is the file path:
`studyledger review approve` lives in `cli/review.py`. Commands parse, call the ledger and
print; errors are turned into exit codes and one sentence in `cli.main` alone.
"""
