"""The vocabulary every layer shares: errors and problems, the schema helpers behind scenario
validation, outcome and mode codes, named random-number streams, small statistics (the one
t-quantile), the package version.

Owns no model, file format or command. May import: nothing from rjsim.
"""
