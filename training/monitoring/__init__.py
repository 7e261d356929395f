"""Monitoring of the model in use: data and score drift of a new round, label-free expected performance,
department-feed health (``povwatch drift``). Written with numpy/scipy only."""
