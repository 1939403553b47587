"""Command line tools of CiCo-MMDet (a package so that tests and tools can
import shared tool code, e.g. ``tools.dataset_converters``)."""
