"""The remediation script editor: edit, save, dry run, confirmed apply, and verification by a new audit."""
