"""dfc.Decoder: tensors as their units arrive from a pipe, random access to chosen layers, the
layer table and metadata read from the header."""

import os
import threading

import numpy as np

import dfc
from conftest import corpus, same_bits, sequence


def test_tensors_arrive_before_the_stream_ends():
    frames, kinds = sequence()
    stream = dfc.encode(frames, kinds=kinds, method="native")
    # Up to the frame_header unit of frame 1: the units of frame 0 and nothing after them.
    first_frame_end = next(
        u["offset"] for u in dfc.inspect(stream)["units"] if u["summary"].startswith("frame 1")
    )
    read_end, write_end = os.pipe()
    got_first = threading.Event()
    waited = []

    def sender():
        with os.fdopen(write_end, "wb") as w:
            w.write(stream[:first_frame_end])
            w.flush()
            # The rest only once the receiver has decoded frame 0's tensors from what it has.
            waited.append(got_first.wait(timeout=30))
            w.write(stream[first_frame_end:])

    thread = threading.Thread(target=sender)
    thread.start()
    received = []
    with os.fdopen(read_end, "rb") as r:
        decoder = dfc.Decoder(r)
        for frame, name, array in decoder:
            received.append((frame, name, array))
            if len(received) == len(frames[0]):
                got_first.set()
    thread.join()
    assert waited == [True]
    assert [(f, n) for f, n, _ in received] == [(f, n) for f in range(len(frames)) for n in frames[f]]
    assert all(same_bits(a, frames[f][n]) for f, n, a in received)


def test_random_access_decodes_only_the_chosen_layers():
    layers, kinds = corpus()
    stream = dfc.encode(layers, kinds=kinds, source="samples/corpus", metadata={"image": "astronaut"})
    chosen = ["hed_vgg16/astronaut/conv5_3", "opennsfw_resnet50_1by2/astronaut/pool5"]
    decoder = dfc.Decoder(stream, layers=chosen)
    assert [l["name"] for l in decoder.layers] == list(layers)
    assert decoder.layers[0]["shape"] == list(layers[decoder.layers[0]["name"]].shape)
    assert {l["kind"] for l in decoder.layers} == set(kinds.values())
    assert decoder.metadata == [
        ("source", "samples/corpus"),
        ("encoder", f"dfc-encoder {dfc.ENCODER_VERSION}"),
        ("image", "astronaut"),
    ]
    got = list(decoder)
    assert [n for _, n, _ in got] == sorted(chosen)
    assert all(same_bits(a, layers[n]) for _, n, a in got)
    assert next(decoder, None) is None  # stays finished


def test_decoder_from_a_sequence_at_a_random_access_point(tmp_path):
    frames, kinds = sequence()
    stream = dfc.encode(frames, kinds=kinds, qp=48, rap_period=4)
    full = dfc.decode(stream)
    path = tmp_path / "s.dfc"
    path.write_bytes(stream)
    for source, start in [(path, 6), (stream, 5)]:  # in memory: from the point at or before it
        got = list(dfc.Decoder(source, start_frame=start))
        assert sorted({f for f, _, _ in got}) == [4, 5, 6, 7]
        assert all(same_bits(a, full[f][n]) for f, n, a in got)
    with open(path, "rb") as f:  # a file object is read as it comes: the point itself
        got = list(dfc.Decoder(f, start_frame=4))
    assert sorted({f for f, _, _ in got}) == [4, 5, 6, 7]


def test_one_decoder_shared_by_threads_yields_each_tensor_once():
    layers, kinds = corpus()
    stream = dfc.encode(layers, kinds=kinds, method="native")
    decoder = dfc.Decoder(stream)
    seen = []
    lock = threading.Lock()

    def drain():
        for frame, name, array in decoder:
            with lock:
                seen.append((name, array))

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(n for n, _ in seen) == sorted(layers)
    assert all(same_bits(a, layers[n]) for n, a in seen)
    assert all(isinstance(a, np.ndarray) for _, a in seen)
