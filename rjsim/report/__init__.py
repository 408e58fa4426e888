"""What people read: the HTML report, figures, the spreadsheet, the capacity map and the text
summaries printed by commands, all built from results directories or experiment objects.

May import: any layer up to ``uncertainty``.
"""
