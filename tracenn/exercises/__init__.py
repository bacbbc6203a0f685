"""Exercises for teachers: a variant of a network per student, with a worksheet, an answers.csv
template and an answer key each, and the grading of what comes back.

- asking.py     what a worksheet asks: groups of quantities and names, in computation order
- variants.py   a student's numbers drawn from ranges, and what makes a variant degenerate
- worksheet.py  the worksheet as Markdown and as LaTeX (tex.py: text as LaTeX; tikz.py: the
                network's picture), and the answers.csv template
- key.py        the answer key: the walkthrough of the variant, restricted to what is asked
- generate.py   the class: each student's variant and files, written as one new folder
- grade.py      every answers.csv judged with credit for errors carried over (comparison/)
- marking.py    the tolerance of the asked decimal place, and mistakes recognised on the
                student's own rounded numbers
- report.py     the grades as tables, a gradebook CSV and a class summary
"""
