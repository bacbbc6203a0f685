"""Circuits: backpropagation on a scalar expression, gate by gate (`tracenn graph`).

parse.py reads an expression or a micrograd-style program of assignments with Python's `ast`
(never eval or exec) into gates; trace.py holds the trace as plain data; backward.py runs the
forward and backward passes; check.py verifies the gradient with SymPy and a central
difference; neuron.py writes one neuron of a network's step as a circuit; text.py prints it.
"""


def graph(target, values=None, **options):
    """A scalar expression, a program file (FILE.py) or, with neuron="o1" and a spec, one
    neuron of a network's step, traced gate by gate: graph("(x + y) * z", x=-2, y=5, z=-4).
    Options: output (the variable traced), neuron, step, verify (SymPy and a central
    difference, default True); build.graph says more.  The circuit modules load on first
    use, so `tracenn mazur` does not pay for them."""
    from .build import graph as traced

    return traced(target, values, **options)
