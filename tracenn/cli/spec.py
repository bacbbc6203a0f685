"""tracenn spec: a spec written out as TOML — a learner's PyTorch model converted, or a preset or
spec file with every weight and setting made explicit."""

from __future__ import annotations

import click

from .. import api
from ..bridges import TORCH_LOSSES
from ..engine.functions import LOSSES
from ..engine.optim import OPTIMIZERS
from ..spec.writer import spec_to_toml
from .files import write_output
from .options import TARGET, lr_option, output_file_option

LOSS_CHOICES = list(TORCH_LOSSES) + list(dict.fromkeys(loss.name for loss in LOSSES.values()))
COMMENT = ("The weights of {path}, traced as tracenn traces: W<l>[j,k] is weight[j-1][k-1] of the\n"
           "model's l-th Linear layer, b<l>[j] its bias[j-1] (tracenn counts from 1).")


@click.command()
@click.argument("target", required=False, metavar=TARGET)
@click.option("--from-torch", "model_path", metavar="MODEL.pt",
              help="A model saved with torch.save: a whole nn.Sequential of torch.nn modules, or "
              "its state dict (with --activations). Loaded with weights_only=True: a file that "
              "would run code of its own when loaded is refused.")
@click.option("--inputs", metavar="ROWS|FILE",
              help="The samples, one row each: JSON such as '[[0.05, 0.1]]', or a .csv, .json, "
              ".npy or .pt (a saved tensor) file.")
@click.option("--targets", metavar="ROWS|FILE",
              help="One row of targets per sample, or one class index per sample for "
              "CrossEntropyLoss and NLLLoss; given as --inputs.")
@click.option("--loss", type=click.Choice(LOSS_CHOICES),
              help="The loss the model is trained with: a torch loss (reduction='mean', "
              "CrossEntropyLoss and BCEWithLogitsLoss on the model's logits, NLLLoss after "
              "LogSoftmax, BCELoss after Sigmoid) or a tracenn loss on the model's outputs.")
@click.option("--activations", metavar="LIST",
              help="For a state dict: the activation after each Linear layer, comma-separated: "
              "sigmoid, tanh, relu, identity; softmax or log-softmax last (e.g. sigmoid,identity).")
@click.option("--from-npz", "npz_path", metavar="FILE.npz",
              help="Your NumPy network from an np.savez file: W1, b1, W2, … in your layout "
              "(found from the shapes), X and Y with samples in rows or columns; give "
              "--activations and --loss (a tracenn loss). With -o, a layer of more than 10000 "
              "weights goes to an .npy file beside the spec, and large data to an .npz.")
@lr_option("0.1")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default="sgd",
              show_default=True, help="The optimizer the spec trains with, with torch.optim's "
              "defaults (edit [training] in the written spec to change them).")
@output_file_option
def spec(target, model_path, inputs, targets, loss, activations, lr, optimizer, output,
         npz_path=None):
    """Write a spec as TOML: a PyTorch model converted, or a spec made explicit.

    With --from-torch MODEL.pt --inputs … --targets … --loss …, the spec of a learner's
    nn.Sequential of Linear layers and activations (Sigmoid, Tanh, ReLU, Identity; Softmax or
    LogSoftmax last) with its saved weights, ready for tracenn trace, verify, compare and
    walkthrough. Needs PyTorch (in tracenn's checkout: pip install '.[torch]'). With a TARGET
    instead, that preset or spec file is written back with every weight, name and setting
    explicit.
    """
    if npz_path is not None:
        return _from_npz(npz_path, target, model_path, loss, activations, lr, optimizer, output)
    if (target is None) == (model_path is None):
        raise click.UsageError("give a spec (mazur, xor, softmax or SPEC.toml) or "
                               "--from-torch MODEL.pt, not both")
    if target is not None:
        given = [f"--{n}" for n, v in (("inputs", inputs), ("targets", targets), ("loss", loss),
                                       ("activations", activations)) if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} go with --from-torch")
        write_output(output, spec_to_toml(api.load(target)))
        return
    missing = [f"--{n}" for n, v in (("inputs", inputs), ("targets", targets), ("loss", loss))
               if v is None]
    if missing:
        raise click.UsageError(f"--from-torch needs {', '.join(missing)}")
    model = api.load_torch(model_path, activations=activations)
    from ..bridges.torch_files import read_array

    settings = {"optimizer": optimizer, "lr": lr if lr is not None else 0.1}
    result = api.from_torch(model, read_array(inputs, "inputs"), read_array(targets, "targets"),
                            loss=loss, optimizer=settings, source=model_path)
    write_output(output, spec_to_toml(result, comment=COMMENT.format(path=model_path)))


WIDE = 10000  # more numbers than this in a layer's weights (or the data): a file beside the spec


def _from_npz(path, target, model_path, loss, activations, lr, optimizer, output):
    if target is not None or model_path is not None:
        raise click.UsageError("--from-npz goes without a spec or --from-torch")
    if loss is None or activations is None:
        raise click.UsageError("--from-npz needs --loss and --activations (e.g. "
                               "--activations sigmoid,softmax --loss cross-entropy)")
    from ..spec.arrays import arrays_of_npz

    Ws, bs, X, T = arrays_of_npz(path)
    result = api.from_arrays(Ws, bs, activations=activations.split(","), loss=loss, inputs=X,
                             targets=T, lr=lr if lr is not None else 0.1,
                             mode="batch" if X.ndim == 2 and min(X.shape) > 1 else "online",
                             optimizer=optimizer)
    comment = f"From {path}: {result.source.removeprefix('arrays ')}."
    if output is None or output == "-":
        write_output(output, spec_to_toml(result, comment=comment))
        return
    write_output(output, spec_to_toml(result, comment=comment, **_beside(result, output)))


def _beside(result, output) -> dict:
    """Wide layers' weights and large data written as .npy / .npz files beside `output`."""
    import io
    from pathlib import Path

    import numpy as np

    from ..files import write_atomically

    out, stem = Path(output), Path(output).stem
    files = {}
    for l, layer in enumerate(result.network.layers):
        if layer.W.size > WIDE:
            buffer = io.BytesIO()
            np.save(buffer, layer.W)
            files[l] = f"{stem}.w{l + 1}.npy"
            write_atomically(out.with_name(files[l]), buffer.getvalue())
    data = None
    if result.data.X.size > WIDE:
        buffer = io.BytesIO()
        np.savez(buffer, inputs=result.data.X, targets=result.data.T)
        data = f"{stem}.data.npz"
        write_atomically(out.with_name(data), buffer.getvalue())
    return {"weight_files": files, "data_file": data}
