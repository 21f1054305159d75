"""The findings tree, its filter bar and the details pane."""
