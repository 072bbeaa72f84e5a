from pathlib import Path

from aios.stack.prometheus import PrometheusServer
from aios.stack.settings import StackSettings


def test_the_local_prometheus_cannot_be_stopped_or_reloaded_over_http(tmp_path: Path) -> None:
    """`--web.enable-lifecycle` opens POST /-/quit and /-/reload to anyone who reaches the port."""
    argv = PrometheusServer(StackSettings(state_dir=tmp_path)).process().argv
    assert not [arg for arg in argv if arg.startswith("--web.enable-lifecycle")]
