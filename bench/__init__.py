"""`make bench`: speed and reaction figures, measured side by side in one run."""
