"""Mathematics beside the engine: the network as SymPy expressions, each quantity's formula,
the three-way gradient check, the identities behind backprop and high-precision recomputation.
The only room that imports SymPy."""
