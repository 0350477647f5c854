"""The part the *_profile.py scripts share: time each call with the peers'
timer, then run each once between cudaProfilerStart and cudaProfilerStop
(for `ncu --profile-from-start off`)."""
import torch

import peers


def time_then_profile(calls):
    """`calls`: (label, fn) pairs. Prints each label's time (peers.time_ms,
    CUDA events) and returns them as a dict, after one profiled call of
    each."""
    times = {}
    for label, fn in calls:
        times[label] = peers.time_ms(fn)
        print(f"{label}: {times[label]:.4f} ms", flush=True)
    torch.cuda.synchronize()
    torch.cuda.profiler.start()
    for _, fn in calls:
        fn()
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()
    return times
