"""The engine: activations and losses, the network, one step of backprop, the optimizers,
the mistake catalogue and the training loop.  It imports no renderer, no SymPy, no click and no
display names."""
