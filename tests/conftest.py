"""Fixtures shared by the test files."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    "One torch thread for a module's tests (small tensors run fastest so, and CI's 2 cores are shared); then restored."
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
