"""Bridges to other frameworks.  `torch` turns a learner's PyTorch model into a spec and checks
their training step against tracenn's; `torch_check` records that step; `torch_files` reads a
saved model.  PyTorch is an optional extra (`pip install '.[torch]'` in the checkout): it is imported only
when one of these modules is, and `require_torch` says in one line how to install it."""

from __future__ import annotations

from ..errors import UnsupportedError

# The torch losses the bridge pairs with a model's output (torch_loss.py has the pairings).
TORCH_LOSSES = ("MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss")
# tracenn is installed from its checkout (it is not on PyPI), so the extra is named by the path
INSTALL_TORCH = ("PyTorch is not installed; install it from tracenn's checkout with "
                 "pip install '.[torch]' (or pip install torch)")


def require_torch() -> None:
    """Raise UnsupportedError, in one line, when PyTorch cannot be imported."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UnsupportedError(INSTALL_TORCH) from None
