"""web layer, see DESIGN.md."""
