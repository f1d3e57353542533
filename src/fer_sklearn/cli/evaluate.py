"""``fer-sklearn evaluate``: the evaluation report of a saved model on labelled faces."""

from ._common import EXIT_OK, add_model_argument, load_model, shared_options, user_input


def add_parser(commands):
    """Add the ``evaluate`` command to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "evaluate", parents=[shared_options(
            "data", "out", data=dict(required=True, help="FER2013 CSV (plain or .gz) or image "
                                                         "folder root/<emotion>/"),
            out=dict(required=True))],
        help="write the evaluation report of a saved model on labelled data",
        description="Evaluate a saved model on labelled images and write the report "
                    "(metrics.json, report.md, report.html and the charts).")
    add_model_argument(parser)
    parser.add_argument("--usage", metavar="USAGE",
                        help="FER2013 split (default: PublicTest when the file has one, else "
                             "every row) or image sub-folder (default: test when there is one)")
    parser.add_argument("--explain", nargs="?", const="auto", default=False, metavar="METHOD",
                        choices=("auto", "layercam", "gradcam", "occlusion"),
                        help="also chart where the model finds each emotion: the mean saliency "
                             "map per true class and the maps of the most confident mistakes "
                             "(METHOD: auto, layercam, gradcam or occlusion; default auto)")
    parser.set_defaults(handler=run)


def run(args):
    """Evaluate as ``args`` say; returns the exit code."""
    from fer_sklearn.datasets import load_dataset
    from fer_sklearn.evaluation import evaluate

    model = load_model(args)
    with user_input(ValueError, OSError):
        data = load_dataset(args.data, usage=args.usage)
    print(f"Evaluating on {data.DESCR}.")
    report = evaluate(model, data.data, data.target, data=data.DESCR, explain=args.explain)
    with user_input(OSError, message="cannot write into --out: {}"):
        paths = report.save(args.out)
    print(f"Accuracy {report.accuracy:.1%}, macro F1 {report.f1_macro:.3f}, "
          f"log loss {report.log_loss:.3f}.")
    print(f"Report written to {paths['report.html']}")
    return EXIT_OK
