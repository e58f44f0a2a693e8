"""The one way to files (diffi/core/files.py): off by default in the Python API, any path
with files=True, one folder with files="dir" (no way out of it), regular text files
only, read no further than the limits allow, and never quoted in a message."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from diffi import DiffiError, DiffiTypeError, Interpreter, LimitError

CANARY = "CANARY-secret-line"


@pytest.fixture
def folder(tmp_path):
    """tmp_path/inside (the allowed folder) and a secret file outside it."""
    inside = tmp_path / "inside"
    (inside / "sub").mkdir(parents=True)
    (inside / "data.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    (inside / "sub" / "more.csv").write_text("a\n5\n", encoding="utf-8")
    (tmp_path / "secret.csv").write_text(f"a,b\n{CANARY},1\n", encoding="utf-8")
    return inside


def test_the_python_api_has_files_off_by_default(folder):
    it = Interpreter()
    assert it.files is False
    with pytest.raises(DiffiError) as caught:
        it.run(f'x = 1\nD = load("{folder / "data.csv"}")')
    assert caught.value.message == ("reading files is switched off in this interpreter "
                                    "(files=False)")
    assert (caught.value.line, caught.value.column) == (2, 5)
    with pytest.raises(DiffiError, match="writing files is switched off") as caught:
        it.run(f'graph 1 + 2 to "{folder / "g.dot"}"')
    assert caught.value.column == 16  # the file name
    assert not (folder / "g.dot").exists()


def test_files_true_reaches_any_path(folder, monkeypatch):
    it = Interpreter(files=True)
    assert it.files is True
    np.testing.assert_array_equal(it.eval(f'load("{folder / "data.csv"}")'),
                                  [[1, 2], [3, 4]])
    monkeypatch.chdir(folder)  # a relative name starts from the working directory
    assert it.eval('size(load("sub/more.csv"))') == 1.0


def test_a_folder_confines_every_file(folder):
    it = Interpreter(files=str(folder))
    assert it.files == os.path.realpath(folder)
    assert it.eval('sum(load("data.csv"))') == 10.0
    assert it.eval('size(load("sub/more.csv"))') == 1.0
    assert it.eval('size(load("./sub/more.csv"))') == 1.0
    it.run('graph 1 + 2 to "g.dot"')
    assert (folder / "g.dot").read_text(encoding="utf-8").startswith("digraph diffi {")


@pytest.mark.parametrize("name, reason", [
    ("../secret.csv", "leads out of the folder this interpreter may use ('..' is not "
                      "allowed)"),
    ("sub/../../secret.csv", "leads out of the folder this interpreter may use ('..' is "
                             "not allowed)"),
    ("sub/../data.csv", "leads out of the folder this interpreter may use ('..' is not "
                        "allowed, even where it would stay inside)"),
    ("/etc/passwd", "is outside the folder this interpreter may use: give a name "
                    "relative to it"),
    ("link.csv", "leads out of the folder this interpreter may use (through a symbolic "
                 "link)"),
    ("linked/secret.csv", "leads out of the folder this interpreter may use (through a "
                          "symbolic link)"),
])
def test_no_name_leads_out_of_the_folder(folder, name, reason):
    os.symlink(folder.parent / "secret.csv", folder / "link.csv")
    os.symlink(folder.parent, folder / "linked")
    it = Interpreter(files=str(folder))
    with pytest.raises(DiffiError) as caught:
        it.run(f'load("{name}")')
    assert caught.value.message == f"{name} {reason}"
    assert CANARY not in caught.value.render()
    with pytest.raises(DiffiError, match="(leads out|is outside)"):
        it.run(f'graph 1 to "{name}"')


def test_a_link_that_stays_inside_the_folder_is_followed(folder):
    os.symlink(folder / "data.csv", folder / "alias.csv")
    assert Interpreter(files=str(folder)).eval('sum(load("alias.csv"))') == 10.0


def test_a_folder_setting_must_be_a_folder(folder):
    with pytest.raises(DiffiTypeError, match="is not a folder"):
        Interpreter(files=str(folder / "data.csv"))


def test_an_empty_name_or_a_nul_in_it_is_refused(folder):
    it = Interpreter(files=True)
    with pytest.raises(DiffiError) as caught:
        it.run('load("")')
    assert caught.value.message == "a file name cannot be empty"
    with pytest.raises(DiffiError) as caught:
        it.run('load("a\x00b.csv")')
    assert caught.value.message == "a file name cannot hold a NUL character"


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_without_being_read(path):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    start = time.monotonic()
    with pytest.raises(DiffiError) as caught:
        Interpreter(files=True).run(f'load("{path}")')
    assert caught.value.message == f"cannot read {path}: not a regular file (a device or " \
                                   f"a pipe)"
    assert time.monotonic() - start < 5


def test_a_pipe_is_refused_without_waiting_for_a_writer(folder):
    os.mkfifo(folder / "pipe.csv")
    with pytest.raises(DiffiError, match="not a regular file"):
        Interpreter(files=str(folder)).run('load("pipe.csv")')


def test_a_folder_is_refused(folder):
    with pytest.raises(DiffiError, match="cannot read sub: it is a folder"):
        Interpreter(files=str(folder)).run('load("sub")')


@pytest.mark.parametrize("content, message", [
    (f"a,b\n{CANARY},1\n".encode(), "secret.csv, line 2, column 1: cell 1 is not a number"),
    (b"a\n1\x00" + CANARY.encode() + b"\n", "cannot read secret.csv: it is not a text file "
                                           "(it holds a NUL byte)"),
    (b"a\n1\n\xe9" + CANARY.encode() + b"\n", "cannot read secret.csv: it is not a text "
                                              "file (UTF-8)"),
    (b"a,b\n1,2\n3\n", "secret.csv, line 3, column 2: 1 cell where the rows before have 2"),
])
def test_no_message_quotes_what_a_file_holds(folder, content, message):
    (folder / "secret.csv").write_bytes(content)
    with pytest.raises(DiffiError) as caught:
        Interpreter(files=str(folder)).run('load("secret.csv")')
    assert caught.value.message == message
    assert CANARY not in caught.value.render()


def test_a_file_larger_than_the_limits_allow_is_not_read_to_its_end(folder):
    (folder / "big.csv").write_text("a\n" + "1\n" * 100_000, encoding="utf-8")
    it = Interpreter(files=str(folder), max_elements=100)
    with pytest.raises(LimitError) as caught:
        it.run('load("big.csv")')
    assert caught.value.message.startswith("big.csv is larger than ")
    assert caught.value.message.endswith(", the most this interpreter reads "
                                         "(max_elements, max_memory)")
    assert Interpreter(files=str(folder)).eval('size(load("big.csv"))') == 100_000.0


def test_graph_never_writes_over_what_is_not_a_regular_file(folder):
    (folder / "g.dot").mkdir()
    with pytest.raises(DiffiError, match="cannot write g.dot: not a regular file"):
        Interpreter(files=str(folder)).run('graph 1 to "g.dot"')
