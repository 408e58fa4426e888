"""The command line: parses arguments, calls :mod:`rjsim.app`, prints what it returns, and maps
errors to exit codes. No model logic lives here.

May import: any layer up to ``app``.
"""
