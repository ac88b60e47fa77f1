"""Which digits people (and models) confuse in scikit-learn's ``load_digits``: the simulated annotators of
``quality_accuracy.py`` and the label noise of ``label_issues.py`` both draw their mistakes from here."""

K = 10
PARTNERS = {
    0: [6],
    1: [7],
    2: [3, 7],
    3: [5, 8],
    4: [9],
    5: [3, 8],
    6: [0, 5],
    7: [1, 2],
    8: [3, 5],
    9: [4, 7],
}
SEEDS = range(5)
