"""The camwsvg rows of the SynthGround leaderboard (see synthground_leaderboard.py)."""

TABLES = ()
EXPERIMENTS = ()
