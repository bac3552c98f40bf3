"""Imported only by the flow runs' forkserver (flows/warm_start.py's PRELOAD), after the flows: warms what the runs
share. multiprocessing's forkserver has no other hook than importing modules."""
from flows.warm_start import warm

warm()
