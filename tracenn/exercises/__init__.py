"""Exercises for teachers: per-student variants of a network with worksheets and answer keys
(generate.py), and the grading of what comes back, with credit for errors carried over
(grade.py)."""
