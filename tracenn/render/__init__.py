"""Views of records: tables (any tabulate format), Markdown, LaTeX and notebook HTML.  A
renderer takes records and returns text; it never runs the engine."""
