"""Pure renderers: each turns a result into a string (or a rich renderable). Nothing here prints."""
