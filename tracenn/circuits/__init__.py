"""Circuits: backpropagation on a scalar expression, gate by gate (`tracenn graph`).

parse.py reads an expression or a micrograd-style program of assignments with Python's `ast`
(never eval or exec) into gates; trace.py holds the trace as plain data; backward.py runs the
forward and backward passes; check.py verifies the gradient with SymPy and a central
difference; neuron.py writes one neuron of a network's step as a circuit; text.py prints it.
"""
