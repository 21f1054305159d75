"""The desktop app (PySide6). Entry point: `workbench.ui.app.run_app`."""
