"""Parameter uncertainty: propagating the declared parameter distributions through the model
(parameter sets x replications on common random numbers), the split of each KPI's variance
into parameter uncertainty and simulation noise, global sensitivity (SALib), and the capacity
test under uncertainty.

May import: any layer up to ``planning``.
"""
