"""Cost: what a run may spend and what it will likely spend. ``pricing`` (the price table and usage),
``budget`` (the hard cap, reserved before each model turn), ``estimate`` (a range before the run, from
dry runs of the script — ``dryrun`` — and ``calibration`` from finished runs) and ``approval`` (the
question the user answers, bound to what was approved).

``pricing`` and ``budget`` sit below everything that spends; ``estimate`` and ``dryrun`` run the script
on a virtual clock and so sit above the runtime.
"""
