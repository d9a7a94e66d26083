"""Per-method blocks of the SynthGround leaderboard registry.

Each module defines ``TABLES`` and ``EXPERIMENTS`` (tuples of :class:`Table` and
:class:`Experiment`) for one method; ``synthground_leaderboard`` appends them, in the order
of ``METHODS``, to the registry's own. A method's tables and rows live beside each other.
"""

METHODS = ('reir', 'camwsvg', 'selfeq')
