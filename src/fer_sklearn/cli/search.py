"""``fer-sklearn search``: a hyper-parameter search, on a Dask cluster or serially."""

import argparse
import contextlib
import sys
import time

from ._common import (
    EXIT_OK,
    SYNTHETIC_NET,
    CLIError,
    parse_param,
    positive_float,
    positive_int,
    shared_options,
    subset,
    synthetic_data,
    user_input,
)


def _param(text):
    """argparse type of ``--param``: ``NAME=VALUE[,VALUE...]``."""
    try:
        return parse_param(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _workers(text):
    """argparse type of ``--local-workers``: an integer >= 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected 0 or a positive integer, got {text!r}")
    return int(text)


def add_parser(commands):
    """Add the ``search`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "search", parents=[shared_options(
            "data", "valid_usage", "epochs", "batch_size", "width", "limit", "seed", "threads",
            "out",
            data=dict(help="FER2013 CSV (plain or .gz) or image folder, as for train (default: "
                           "synthetic faces)"),
            valid_usage=dict(help="FER2013 split of the evaluation report (default: PublicTest "
                                  "where the file has it, else a stratified 10%% of the "
                                  "training rows)"),
            epochs=dict(help="most epochs of each fit (default: 30; 12 on synthetic faces)"),
            batch_size=dict(default=64, help="images per batch (default: 64)"),
            seed=dict(help="random seed of the data split and of every fit (default: 0)"),
            threads=dict(help="torch threads of each fit (default: each worker's share of its "
                              "machine's cores; torch's choice when serial)"),
            out=dict(default="fer-sklearn-search",
                     help="output folder (default: ./fer-sklearn-search)"))],
        help="grid-search the pipeline's parameters, on a Dask cluster or serially",
        description="Cross-validate every combination of the --param values (or --n-iter of "
                    "them at random) on the training data, refit the best on all of it, and "
                    "write cv_results.csv, model.joblib and its evaluation report on the "
                    "validation data. The fits run on a Dask cluster (--scheduler), on local "
                    "worker processes (--local-workers, the default) or serially "
                    "(--local-workers 0).")
    parser.add_argument("--param", dest="params", action="append", type=_param, required=True,
                        metavar="NAME=V1,V2",
                        help="a pipeline parameter and its values, e.g. clf__lr=1e-3,3e-4 "
                             "(repeatable)")
    parser.add_argument("--cv", type=positive_int, default=3, metavar="N",
                        help="cross-validation folds (default: 3)")
    parser.add_argument("--n-iter", type=positive_int, metavar="N",
                        help="try N combinations drawn at random instead of all of them")
    parser.add_argument("--scoring", metavar="NAME",
                        help="scikit-learn scorer (default: accuracy)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--local-workers", type=_workers, metavar="N",
                       help="start N local worker processes of one thread (default: one per "
                            "core); 0 runs the fits serially in this process")
    parser.add_argument("--connect-timeout", type=positive_float, default=5, metavar="S",
                        help="seconds to wait for --scheduler (default: 5)")
    parser.set_defaults(handler=run)


def _grid(params):
    grid = {}
    for name, values in params:
        if name in grid:
            raise CLIError(f"--param {name} is given twice; list its values once: "
                           f"{name}=V1,V2")
        grid[name] = values
    return grid


def _data(args):
    """The training and validation data, the pipeline's parameters and the epochs of ``args``."""
    if args.data is None:
        print("No --data given: searching on the embedded synthetic faces (make_faces), not "
              "real photographs.")
        (train, valid), params, epochs = synthetic_data(args.seed), SYNTHETIC_NET, args.epochs or 12
    else:
        from fer_sklearn.datasets import load_train_valid

        with user_input(ValueError, OSError):
            train, valid = load_train_valid(args.data, valid_usage=args.valid_usage,
                                            random_state=args.seed)
        params, epochs = {}, args.epochs or 30
    if args.width is not None:
        params = dict(params, module__width=args.width)
    if args.limit is not None and args.limit < len(train.target):
        train = subset(train, args.limit, args.seed)
    return (train, valid), params, epochs


def _check_grid(grid):
    """Reject names that are not parameters of the pipeline, before any data is read."""
    from fer_sklearn import make_emotion_pipeline
    from fer_sklearn.utils import check_param_grid

    with user_input(ValueError, message="--param: {}"):
        check_param_grid(make_emotion_pipeline(), grid)


def _search(args, grid, params, epochs, serial):
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from fer_sklearn import make_emotion_pipeline

    # quiet fits: the search prints a line per fit, not an epoch table per fit
    pipe = make_emotion_pipeline(max_epochs=epochs, batch_size=args.batch_size,
                                 random_state=args.seed, verbose=0, **params)
    # serially, scikit-learn's own lines show each fit as it ends ([CV 2/3] END ...)
    options = dict(cv=args.cv, scoring=args.scoring, error_score="raise", verbose=3 * serial)
    if args.n_iter is None:
        return GridSearchCV(pipe, grid, **options)
    return RandomizedSearchCV(pipe, grid, n_iter=args.n_iter, random_state=args.seed, **options)


def _progress(start):
    def report(done, total):
        print(f"  {done}/{total} fits done ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr, flush=True)
    return report


def _client(args, stack):
    """The Dask client of ``args``, entered on ``stack``; connection problems are the user's."""
    from fer_sklearn.distributed import dask_client, require_dask

    with user_input(ImportError):
        require_dask()
    with user_input(ValueError, OSError):  # the address, or the local cluster's start
        return stack.enter_context(dask_client(
            args.scheduler, n_workers=args.local_workers, timeout=args.connect_timeout))


def _fit_on_dask(search, train, client, args):
    from fer_sklearn.distributed import count_fits, fit_on_dask

    nthreads = client.nthreads()
    print(f"{count_fits(search, train.data, train.target)} fits on "
          f"{args.scheduler or 'a local cluster'} ({len(nthreads)} workers, "
          f"{sum(nthreads.values())} threads).", flush=True)
    fit_on_dask(search, train.data, train.target, client=client, torch_threads=args.threads,
                progress=_progress(time.perf_counter()))


def run(args):
    """Search as ``args`` say; returns the exit code."""
    grid = _grid(args.params)
    _check_grid(grid)
    serial = args.scheduler is None and args.local_workers == 0
    with contextlib.ExitStack() as stack:
        client = None if serial else _client(args, stack)  # fail fast, before the data
        if args.threads is not None:  # this process's fits: serial ones and the refit
            import torch

            torch.set_num_threads(args.threads)
        (train, valid), params, epochs = _data(args)
        search = _search(args, grid, params, epochs, serial)
        print(f"Searching on {train.DESCR}; evaluating the best on {valid.DESCR}.", flush=True)
        if serial:
            search.fit(train.data, train.target)
        else:
            _fit_on_dask(search, train, client, args)
    _write(search, valid, args.out)
    return EXIT_OK


def _write(search, valid, out):
    import joblib
    import pandas as pd

    from fer_sklearn import save_model
    from fer_sklearn.evaluation import evaluate

    best = search.best_estimator_
    report = evaluate(best, valid.data, valid.target)
    with user_input(OSError, message="cannot write into --out: {}"):
        out.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(search.cv_results_).to_csv(out / "cv_results.csv", index=False)
        joblib.dump(best, out / "model.joblib")
        save_model(best, out / "model.safetensors")
        paths = report.save(out)
    print(f"Best {search.best_params_}: cross-validated {search.best_score_:.3f}; on the "
          f"validation data accuracy {report.accuracy:.1%}, macro F1 {report.f1_macro:.3f}.")
    print(f"Results written to {out / 'cv_results.csv'}, {out / 'model.joblib'}, "
          f"{out / 'model.safetensors'} (no pickle: the one to share) and {paths['report.html']}")
