"""Regression checks of scenario outputs for CI: committed references, exact and statistical
comparison, and their text.

May import: any layer up to ``report``.
"""
