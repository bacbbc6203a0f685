"""The engine: activations and losses, the network, one step of backprop, the optimizers,
the mistake catalogue, the training loop and the window its hot path writes steps into.  It
imports no renderer, no SymPy, no click and no display names."""
