"""WebHdfsFiles.read_text asks the NameNode again when its redirect led to a DataNode that does
not answer (a DataNode killed a moment ago; the live case is the fault test of a DataNode killed
during the upload), and gives up after READ_ATTEMPTS."""

from __future__ import annotations

import contextlib
import io

import pytest
import requests

from include.ecommerce import upload
from include.ecommerce.upload import WebHdfsFiles


class RedirectsToADeadDataNode:
    """HdfsCLI's read(): refused ``failures`` times (requests' error for a refused redirect),
    then the file's bytes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.reads = 0

    @contextlib.contextmanager
    def read(self, path: str):
        self.reads += 1
        if self.reads <= self.failures:
            raise requests.ConnectionError(f"127.0.0.1:9866 refused the read of {path}")
        yield io.BytesIO(b'{"writer_id": "upload.1"}')


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload, "READ_RETRY_DELAY_S", 0.0)


def test_a_read_redirected_to_a_dead_datanode_is_asked_again() -> None:
    client = RedirectsToADeadDataNode(failures=upload.READ_ATTEMPTS - 1)
    assert WebHdfsFiles(client).read_text("/x/_lease-01") == '{"writer_id": "upload.1"}'
    assert client.reads == upload.READ_ATTEMPTS


def test_the_read_gives_up_after_its_attempts() -> None:
    client = RedirectsToADeadDataNode(failures=upload.READ_ATTEMPTS)
    with pytest.raises(requests.ConnectionError, match="refused the read"):
        WebHdfsFiles(client).read_text("/x/_lease-01")
    assert client.reads == upload.READ_ATTEMPTS
