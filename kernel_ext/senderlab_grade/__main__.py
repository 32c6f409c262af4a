"""``python -m senderlab_grade``: grade submissions, check one notebook, make the
student notebooks, list the exercises. ``python -m senderlab_grade -h`` for help."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .registry import default_exercises_dir, visible_suites


def _limits(a):
    from .grade import limits

    return limits(timeout=a.timeout, memory_mb=a.memory_mb, output_mb=a.output_mb, test_timeout=a.test_timeout,
                  processes=a.processes, notebook_mb=a.max_notebook_mb)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m senderlab_grade", description="senderlab's exercises and autograder")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade a folder of submissions: SUBMISSIONS/<student>/*.ipynb")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True, help="where gradebook.csv, gradebook.json and feedback/ go")
    g.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: up to 4)")
    g.add_argument("--dask", metavar="ADDRESS|local", default=None,
                   help="grade the notebooks as tasks on a Dask cluster: a scheduler's address, or 'local' for a "
                        "LocalCluster of --jobs worker processes (needs the cluster extra)")
    scope = g.add_mutually_exclusive_group()
    scope.add_argument("--only", nargs="+", metavar="EXERCISE",
                       help="grade these exercises; a student without a notebook for one scores zero on it")
    scope.add_argument("--all", action="store_true",
                       help="score every student on every exercise (default: on the exercises each submitted)")
    c = sub.add_parser("check", help="grade one notebook with every test, held-back ones included, and print the feedback")
    c.add_argument("notebook", type=Path)
    c.add_argument("--exercise", help="the exercise id, when the notebook does not say")
    for q in (g, c):
        q.add_argument("--timeout", type=float, default=60.0, help="seconds for one notebook (default 60)")
        q.add_argument("--memory-mb", type=int, default=1024, help="address-space limit per notebook (default 1024)")
        q.add_argument("--output-mb", type=int, default=1, help="output limit per notebook (default 1)")
        q.add_argument("--test-timeout", type=float, default=10.0, help="seconds for one test (default 10)")
        q.add_argument("--processes", type=int, default=256, help="processes and threads per notebook (default 256)")
        q.add_argument("--max-notebook-mb", type=float, default=16.0,
                       help="a notebook file larger than this is not read; it scores zero (default 16)")
        q.add_argument("--exercises-dir", type=Path, default=None, help="the exercises/ folder holding hidden/")
        q.add_argument("--engine", choices=("process", "kernel"), default="process",
                       help="run the cells in the grading process (default) or in a Jupyter kernel through nbclient")

    r = sub.add_parser("release", help="write the student notebooks from the reference ones")
    r.add_argument("only", nargs="*", metavar="EXERCISE", help="release only these exercises (default: all)")
    r.add_argument("--solutions", type=Path, default=None, help="default: exercises/solutions")
    r.add_argument("--out", type=Path, default=None, help="default: exercises/")
    sub.add_parser("list", help="list the exercises, their questions and points")
    a = p.parse_args(argv)

    if a.command == "grade":
        from .grade import grade_folder, summary

        if not a.submissions.is_dir():
            print(f"{a.submissions}: not a folder; give the folder that holds one folder per student", file=sys.stderr)
            return 2
        if a.only:
            unknown = [e for e in a.only if e not in visible_suites()]
            if unknown:
                print(f"--only: no exercise {', '.join(unknown)}; the exercises are {', '.join(visible_suites())}", file=sys.stderr)
                return 2
        book = grade_folder(a.submissions, a.out, _limits(a), jobs=a.jobs, exercises_dir=a.exercises_dir,
                            exercises=a.only, engine=a.engine, count_all=a.all, dask=a.dask)
        for student, grades in book.items():
            bad = [f"{e} ({x.status})" for e, x in grades.items() if x.status not in ("graded", "not submitted")]
            print(f"{student}: {summary(grades)}" + (f"; zero for {', '.join(bad)}" if bad else ""))
        print(f"wrote {a.out / 'gradebook.csv'}, {a.out / 'gradebook.json'} and {a.out / 'feedback'}/")
        return 0
    if a.command == "check":
        import nbformat

        from .grade import feedback, grade_notebook
        from .notebooks import exercise_of

        nb = nbformat.read(a.notebook, as_version=4)
        exercise = a.exercise or exercise_of(nb, a.notebook, list(visible_suites()))
        if exercise not in visible_suites():
            print(f"{a.notebook}: which exercise is this? Give --exercise (one of {', '.join(visible_suites())})", file=sys.stderr)
            return 2
        graded = grade_notebook(a.notebook, exercise, _limits(a), a.exercises_dir, a.engine)
        print(feedback(a.notebook.name, {exercise: graded}, []))
        return 0
    if a.command == "release":
        from .notebooks import release_all

        base = default_exercises_dir()
        solutions = a.solutions or base / "solutions"
        missing = [e for e in a.only if not (solutions / f"{e}.ipynb").is_file()]
        if missing:
            print(f"release: no {', '.join(f'{solutions}/{e}.ipynb' for e in missing)}; give exercise ids such as 01-pipeline", file=sys.stderr)
            return 2
        for path in release_all(solutions, a.out or base, only=a.only or None):
            print("wrote", path)
        return 0
    for e, s in visible_suites().items():
        qs = ", ".join(f"{q} ({n} pt{'s' if n != 1 else ''})" for q, n in s.points.items())
        print(f"{e:28} {s.title}: {qs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
