"""First waveform a fresh web process renders (the labelling page's audio picture on a cold worker), by hand:

    python bench/waveform_cold.py [path/to/waveform.py]

Each run is a new interpreter, as a new gunicorn worker is; an optional path renders with another version of
annotation/waveform.py (e.g. one from `git show <rev>:annotation/waveform.py`) to compare."""

import importlib.util
import io
import sys
import time

import numpy as np
import soundfile as sf


def main() -> None:
    rate = 16000
    t = np.arange(5 * rate) / rate
    buffer = io.BytesIO()
    sf.write(buffer, 0.5 * np.sin(2 * np.pi * 440 * t), rate, format="WAV")
    data = buffer.getvalue()
    start = time.perf_counter()
    if len(sys.argv) > 1:
        spec = importlib.util.spec_from_file_location("waveform_under_test", sys.argv[1])
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        render = module.render_audio_png
    else:
        from annotation.waveform import render_audio_png as render
    imported = time.perf_counter()
    render(data)
    first = time.perf_counter()
    render(data)
    second = time.perf_counter()
    print(
        f"import {imported - start:.2f} s, first render {first - imported:.2f} s, "
        f"second render {second - first:.3f} s (5 s clip at 16 kHz)"
    )


if __name__ == "__main__":
    main()
