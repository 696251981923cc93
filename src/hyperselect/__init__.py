"""hyperselect: tune neural networks fast and tell honestly when one is worth it."""

__version__ = "0.1.0"
