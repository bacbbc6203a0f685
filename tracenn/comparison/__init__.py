"""A learner's numbers against a correct trace: the first one that is wrong, why, and which
classic mistake (engine/mistakes.py) produces exactly those numbers.  `tracenn compare` and
`tracenn grade` both stand on it.

- reading.py     the learner's file as people write it (JSON, CSV, decimal commas, loose names)
- tolerance.py   when a number counts as right (by default: the decimals it is written with)
- walk.py        each number judged in computation order: right, wrong, or following from an
                 earlier error of the learner's own (the formula with the learner's numbers)
- convention.py  the (t − o) sign convention of Mitchell and Han, Kamber & Pei, recognised
- core.py        compare (the first wrong number with its formula) and diagnose (the mistake)

Names follow the quantities module: net_h1, out_h1, E_o1, E_total, dE/dout_h1, delta_h1,
dE/dw5 (also dE_dw5, grad_w5, ∂E/∂w5), w5+ (also w5, w5_new: the value after the update),
"E_total after", dE/di1 (the gradient at an input).
"""

from .convention import Convention
from .core import (Comparison, Diagnosis, Mismatch, compare, compare_values, diagnose,
                   explained, learner_answers, mismatch, mistaken_steps)
from .reading import Answers, Written, canonical_name, parse_number, read_answers
from .tolerance import DEFAULT_TOLERANCE, Tolerance, as_tolerance, close
from .walk import FOLLOWS, RIGHT, WRONG, Verdict, walk

__all__ = [
    "Answers", "Comparison", "Convention", "DEFAULT_TOLERANCE", "Diagnosis", "FOLLOWS",
    "Mismatch", "RIGHT", "Tolerance", "Verdict", "WRONG", "Written", "as_tolerance",
    "canonical_name", "close", "compare", "compare_values", "diagnose", "explained", "learner_answers",
    "mismatch",
    "mistaken_steps", "parse_number", "read_answers", "walk",
]
