"""collect layer, see DESIGN.md."""
