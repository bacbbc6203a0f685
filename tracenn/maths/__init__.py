"""Mathematics beside the engine: the network as SymPy expressions, each quantity's formula,
the three-way gradient check, the identities behind backprop and high-precision recomputation.
The only room that imports SymPy."""

# The largest networks `tracenn verify` checks unless told otherwise.  Its time grows with the
# parameters (about 0.7 ms each: evaluation, finite differences, the chain-rule column) and with
# the size of the loss written out as an expression in one parameter (about 0.07 ms per
# operation: SymPy's differentiation and lambdify), which multiplies with every layer's width;
# tests/benchmarks/verify.py measures both.  At these limits a verify takes about 4 s and 15 s.
# Kept here, apart from the SymPy modules, so that the command line can show them and refuse a
# network before importing SymPy.
VERIFY_MAX_PARAMETERS = 5000
VERIFY_MAX_SIZE = 200_000


def check_parameters(labels, max_parameters: int | None) -> None:
    """Refuse a network (its `Labels`) with more than `max_parameters` parameters (None: no
    limit).  Raises UnsupportedError."""
    from ..errors import UnsupportedError

    n = len(labels.parameter_names())
    if max_parameters is not None and n > max_parameters:
        raise UnsupportedError(
            f"this network has {n:,} parameters, more than verify's limit of "
            f"{max_parameters:,} (each is a row of the table; about 4 s at the default "
            f"{VERIFY_MAX_PARAMETERS:,}); raise the limit with --max-parameters {n} "
            f"(max_parameters={n} in Python)")
