"""``streamgan batch``: many jobs on one machine or a Ray cluster, resumable."""
