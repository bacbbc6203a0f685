"""tracenn: backpropagation made visible, number by number.

The library behind the `tracenn` command.  A spec describes a network exactly (a preset —
"mazur", "xor", "softmax" — a TOML file, or TOML text); the functions below train a copy of it
and return plain records that show every number:

    import tracenn
    spec = tracenn.load("mazur")
    run = tracenn.trace(spec, steps=1)
    step = run.steps[0]
    step["out_o1"], step["delta_o1"], step["dE/dw5"], step["w5+"]    # by display name
    step.layers[1].delta                                               # by layer: (samples, neurons)
    tracenn.verify(spec).ok                                            # SymPy, backprop, finite diff.
    tracenn.compare(spec, {"delta_h1": 0.0088}).first                  # the first wrong number
    print(tracenn.walkthrough(spec))                                   # a Markdown textbook page
    tracenn.draw(spec, view="backward")                                # the picture, as SVG
    tracenn.html("xor", steps=2000)                                    # the step player's page
    tracenn.exercise("mazur", 30, seed=1, output="ex")                 # a class's worksheets
    tracenn.grade("ex").summary()                                      # … and their grades
    tracenn.graph("(x + y) * z", x=-2, y=5, z=-4).grads                # a circuit, gate by gate

In a notebook, runs, steps, verifications and comparisons display themselves as tables; a step
also shows its picture, and a spec the picture of its network.

Functions: load, trace, iter_trace, step, verify, compare, walkthrough, draw, html, xor,
exercise, grade, graph (a scalar expression or one neuron as a circuit); `tracenn.mnist.train` for MNIST; from_torch, check_torch and load_torch for
a learner's PyTorch model (with the `torch` extra).  Errors: TracennError and its kinds
SpecError, ValuesError, DataError, TrainingDiverged, OptionError, UnsupportedError,
OutputError.  MISTAKES is the catalogue of classic mistakes (name → description) that
`mistakes=` switches on and `compare` recognises.

Conventions: layers are numbered 1..L after the input (layer 0); `W[j][k]` connects input k to
neuron j, so row j of W holds the weights into neuron j; arrays hold samples in rows; δ = ∂E/∂z;
the loss of a batch is the mean of its samples' losses.
"""

from .api import (check_torch, compare, decision_maps, draw, exercise, from_torch, grade, graph,
                  html, iter_trace, load, load_torch, step, trace, verify, walkthrough, xor)
from .engine.mistakes import MISTAKES
from .errors import (CircuitError, DataError, OptionError, OutputError, SpecError, TracennError,
                     TrainingDiverged, UnsupportedError, ValuesError)
from .record.labels import Labels
from .record.trace import LayerTrace, Run, Step, StepSummary
from .spec import PRESETS, Spec
from .api import check_arrays, checker, from_arrays  # a learner's own NumPy arrays

__version__ = "0.2.0"


def __getattr__(name: str):
    # tracenn.mnist is loaded on first use: `tracenn mazur` never pays for the MNIST code.
    if name == "mnist":
        import importlib

        return importlib.import_module(".mnist", __name__)
    raise AttributeError(f"module 'tracenn' has no attribute {name!r}")

__all__ = [
    "load", "trace", "iter_trace", "step", "verify", "compare", "walkthrough", "xor", "draw", "html",
    "graph", "CircuitError", "decision_maps",
    "from_torch", "check_torch", "load_torch",
    "exercise", "grade",
    "Spec", "Run", "Step", "StepSummary", "LayerTrace", "Labels", "PRESETS", "MISTAKES",
    "TracennError", "SpecError", "ValuesError", "DataError", "TrainingDiverged", "OptionError",
    "UnsupportedError", "OutputError", "mnist",
    "check_arrays", "checker", "from_arrays",
]
