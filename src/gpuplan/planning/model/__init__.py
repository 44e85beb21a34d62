"""The optimisation model, built from plain tables only: a small indexed linear layer
(:mod:`.linear`), per-unit cash flows (:mod:`.costs`), allowed combinations (:mod:`.masks`),
the variables and one module per constraint family (:mod:`.build`, :mod:`.training`)."""
