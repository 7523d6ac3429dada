"""``pai run`` writes the demo's partners file (webhook secrets) for its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from services.runner import write_private


@pytest.fixture(autouse=True)
def open_umask():
    """The most permissive umask: the mode must not depend on the user's."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_new_file_is_created_owner_only(tmp_path: Path, monkeypatch) -> None:
    modes = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, **kwargs):
        modes.append(mode)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    path = tmp_path / "partners.yaml"
    write_private(path, "secret: whsec_abc\n")
    assert modes == [0o600]  # created so: no moment in which others could open it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "secret: whsec_abc\n"


def test_an_existing_readable_file_is_closed_before_it_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text("an older, longer content that must not survive\n")
    path.chmod(0o644)
    write_private(path, "new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "new\n"


def test_a_symlink_planted_in_its_place_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("untouched")
    (tmp_path / "partners.yaml").symlink_to(target)
    with pytest.raises(OSError):
        write_private(tmp_path / "partners.yaml", "secret")
    assert target.read_text() == "untouched"
