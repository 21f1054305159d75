"""The Compare tab: two databases or snapshots side by side (schema differences, findings, sync script)."""
