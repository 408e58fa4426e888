"""rjsim: discrete-event simulation of restorative justice capacity in England and Wales."""

__version__ = "0.1.0"
