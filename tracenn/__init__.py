"""tracenn: backpropagation made visible, number by number."""

__version__ = "0.1.0"
