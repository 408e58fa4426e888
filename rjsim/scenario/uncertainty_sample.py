"""Drawing parameter sets: a space-filling design on the unit cube (:mod:`scipy.stats.qmc`,
Latin hypercube or scrambled Sobol'), columns correlated through a Gaussian copula where
declared, each mapped through its parameter's quantile function."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rjsim.scenario.uncertainty import Declaration, correlation_matrix

if TYPE_CHECKING:  # SciPy is imported where it is used: reading scenarios stays quick
    from scipy.stats import qmc


def unit_sample(d: int, n: int, method: str, seed: int) -> np.ndarray:
    """``n`` points of a space-filling design on the unit cube ``[0, 1)^d``."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0))
    engine: qmc.QMCEngine = (qmc.Sobol(d, scramble=True, seed=seed) if method == "sobol"
                             else qmc.LatinHypercube(d, seed=seed))
    return np.asarray(engine.random(n), dtype=float)


def correlate(u: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Impose a Gaussian copula with correlation ``matrix`` on uniform columns ``u``."""
    from scipy import stats

    if u.shape[1] == 0 or np.allclose(matrix, np.eye(len(matrix))):
        return u
    z = stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
    z = z @ np.linalg.cholesky(matrix).T
    return np.asarray(stats.norm.cdf(z), dtype=float)


def to_values(decl: Declaration, u: np.ndarray) -> np.ndarray:
    """Unit-cube points to parameter values (column per parameter, whole numbers rounded)."""
    out = np.empty_like(u)
    for j, p in enumerate(decl.parameters):
        if p.distribution is None:
            raise ValueError(f"{p.key}: values from a sample file have no distribution")
        col = p.distribution.ppf(u[:, j])
        out[:, j] = np.round(col) if p.integer else col
    return out


def sample(decl: Declaration, seed: int) -> np.ndarray:
    """The declared sample: ``settings.samples`` rows, one column per parameter (or the sample
    file's parameter sets)."""
    if decl.file_values is not None:
        return decl.file_values.copy()
    s = decl.settings
    u = unit_sample(len(decl.parameters), s.samples, s.method, seed)
    u = correlate(u, correlation_matrix(decl.keys, s.correlations))
    return to_values(decl, u)

