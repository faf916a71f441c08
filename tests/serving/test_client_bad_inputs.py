"""The client refuses a bad argument itself, before any request is sent,
with a ValueError naming it (no server runs here: a request would fail
UNAVAILABLE, so each refusal below is the client's own)."""

import numpy as np
import pytest

from arzoo.serving.client import Client, ServingError, row_batches

NOWHERE = "127.0.0.1:1"  # nothing listens: reaching the network would be UNAVAILABLE

# case: (call on a client, the message's pattern)
BAD = {
    "seeds of the wrong shape": (lambda c: c.sample(np.zeros([3], np.int32)), r"seeds must have shape \[batch, 2\], got \(3,\)"),
    "float seeds": (lambda c: c.sample(np.zeros([2, 2], np.float32)), r"seeds must hold integers, got dtype float32"),
    "float levels": (lambda c: c.log_prob(np.full([1, 4, 4, 1], 0.5)), r"x must hold integers, got dtype float64"),
    "float mask": (
        lambda c: c.complete(np.zeros([1, 2], np.int32), np.full([1, 2], 0.5), np.zeros([1, 2], np.int32)),
        r"known_mask must hold integers, got dtype float64",
    ),
    "float speaker ids": (
        lambda c: c.initial_state(np.zeros([1, 2], np.int32), speaker=[0.5]), r"speaker must hold integers"
    ),
    # Values past int32 were wrapped: level 2**32 + 1 scored as level 1.
    "a level past int32": (lambda c: c.log_prob(np.full([1, 4, 4, 1], 2**32 + 1)),
                           r"x holds 4294967297, which does not fit int32"),
    "a seed past int32": (lambda c: c.sample(np.array([[0, 2**32 + 5]])), r"seeds holds 4294967301, which does not fit int32"),
    "a label past int32": (lambda c: c.sample(np.zeros([1, 2], np.int32), condition=[-(2**40)]),
                           r"condition holds -1099511627776, which does not fit int32"),
    "temperatures that do not fit the seeds": (
        lambda c: c.sample(np.zeros([2, 2], np.int32), temperature=[1.0, 1.0, 1.0]), r"temperature must be a number or one per row \(2 rows\), got shape \(3,\)"
    ),
}


@pytest.mark.parametrize("target", [NOWHERE, f"http://{NOWHERE}"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_argument_is_refused_before_any_request(target, case):
    call, pattern = BAD[case]
    with Client(target, "m", timeout=5) as client:
        with pytest.raises(ValueError, match=pattern):
            call(client)


@pytest.mark.parametrize("target", [NOWHERE, f"http://{NOWHERE}"])
def test_a_good_request_to_no_server_is_unavailable(target):
    with Client(target, "m", timeout=5) as client:
        with pytest.raises(ServingError) as info:
            client.status()
    assert info.value.code.name == "UNAVAILABLE"


def test_bad_client_arguments():
    with pytest.raises(ValueError, match=r"version must be None, an int or a label, got True"):
        Client(NOWHERE, "m", version=True)
    with pytest.raises(ValueError, match=r"target 'ftp://x:1': give host:port \(gRPC\) or http://host:port \(REST\)"):
        Client("ftp://x:1", "m")
    with pytest.raises(ValueError, match=r"--batch-size must be an integer >= 1, got 0"):
        row_batches(10, 0, "--batch-size")
