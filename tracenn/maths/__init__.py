"""Mathematics beside the engine: the network as SymPy expressions, each quantity's formula,
the three-way gradient check, the identities behind backprop and high-precision recomputation.
The only room that imports SymPy."""

# The largest networks `tracenn verify` checks unless told otherwise.  Its time grows with the
# parameters (about 1.5 ms each: evaluation, finite differences, the chain-rule column, the
# update's check) and with the size of the loss written out as an expression in one parameter
# (about 0.08 ms per operation: SymPy's differentiation and lambdify), which multiplies with
# every layer's width; tests/benchmarks/verify.py measures both.  At either limit a verify
# takes about 8 s (5,239 parameters) and 15 s (4-10-10-10-10-3: 181,000 operations) of CPU.
# Kept here, apart from the SymPy modules, so that the command line can show them and refuse a
# network before importing SymPy.
VERIFY_MAX_PARAMETERS = 5000
VERIFY_MAX_SIZE = 200_000


def check_verify_limit(labels, max_parameters: int | None) -> None:
    """Refuse a network (its `Labels`) with more than `max_parameters` parameters (None: no
    limit).  Raises UnsupportedError."""
    from ..errors import UnsupportedError

    n = len(labels.parameter_names())
    if max_parameters is not None and n > max_parameters:
        raise UnsupportedError(
            f"this network has {n:,} parameters, more than verify's limit of "
            f"{max_parameters:,} (each is a row of the table; about 8 s at the default "
            f"{VERIFY_MAX_PARAMETERS:,}); raise the limit with --max-parameters {n} "
            f"(max_parameters={n} in Python)")
