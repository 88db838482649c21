"""An in-process plugin that records the lifecycle events it receives (used by the tests)."""

from kepler.api import hookimpl


class Subscriber:
    def __init__(self):
        self.events = []

    @hookimpl
    def kepler_after_train(self, event):
        self.events.append(("train", event))
