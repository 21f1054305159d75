"""The Review tab: decisions, checklist, sign-off and run history, over the local review store."""
