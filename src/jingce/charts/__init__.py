"""charts layer, see DESIGN.md."""
