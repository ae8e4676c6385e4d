"""New viewers: simulated ticks and taste statements, and the learned second stage."""
