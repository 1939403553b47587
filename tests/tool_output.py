"""Checks of what the command-line tools print, shared by their tests: an
argparse refusal and its message, and a printed speed ratio against the
two printed times it is made of."""
import pytest

# '<ms> ms per output frame (<frames/s> frames/s)', as benchmark prints it
TIME = r'(\d+) ms per output frame \(([\d.]+) frames/s\)'


def usage_error(capsys, parse, argv) -> str:
    """What ``parse(argv)`` prints to stderr when argparse refuses ``argv``
    (``parser.error``: exit code 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def printed_seconds(ms: str, fps: str) -> tuple:
    """(lo, hi): the seconds per frame that print as ``ms`` (0 decimals)
    and ``fps`` (2 decimals); each rounding bounds it."""
    ms, fps = float(ms), float(fps)
    lo = max((ms - 0.5) / 1e3, 1 / (fps + 0.005))
    hi = min((ms + 0.5) / 1e3, 1 / (fps - 0.005))
    assert lo <= hi, f'{ms} ms and {fps} frames/s are not one time'
    return lo, hi


def assert_ratio_of_printed_times(ratio: str, time_a: tuple, time_b: tuple):
    """The printed ``ratio`` (2 decimals) is time_a / time_b, each time
    given as its printed (ms, frames/s)."""
    lo_a, hi_a = printed_seconds(*time_a)
    lo_b, hi_b = printed_seconds(*time_b)
    lo, hi = lo_a / hi_b, hi_a / lo_b
    assert hi - lo < 0.02 * lo  # the printed times pin the ratio down
    assert lo - 0.005 - 1e-9 <= float(ratio) <= hi + 0.005 + 1e-9, (
        f'ratio {ratio} printed, time ratio in [{lo:.4f}, {hi:.4f}]')
