"""load and save (diffi/core/data.py): CSV in and out, a header detected and not assumed,
errors that name the file's line and column without quoting it, and paths relative to
the script's folder."""
from __future__ import annotations

import io

import numpy as np
import pytest

from diffi import DiffiError, DiffiTypeError, Interpreter, LimitError
from diffi.frontends.console import Console, run_file


def loaded(tmp_path, text: str, **options):
    # (an interpreter made from Python touches no file unless it is given files=…)
    (tmp_path / "d.csv").write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    it = Interpreter(**{"files": True, **options})
    it.base_dir = str(tmp_path)
    return it.eval('load("d.csv")')


def load_error(tmp_path, text) -> DiffiError:
    with pytest.raises(DiffiError) as caught:
        loaded(tmp_path, text)
    return caught.value


# load ------------------------------------------------------------------------------------

def test_a_header_line_is_detected_and_left_out(tmp_path):
    assert loaded(tmp_path, "x,y\n1,2\n3,4\n").tolist() == [[1, 2], [3, 4]]


def test_a_file_without_a_header_keeps_its_first_row(tmp_path):
    assert loaded(tmp_path, "1,2\n3,4\n").tolist() == [[1, 2], [3, 4]]


def test_quoted_numbers_spaces_blank_lines_crlf_and_a_bom(tmp_path):
    text = '\ufeff"a","b"\r\n"1.5", 2\r\n\r\n  -3e2 ,"nan"\r\n'
    data = loaded(tmp_path, text)
    assert data.shape == (2, 2) and data[0].tolist() == [1.5, 2.0] and data[1, 0] == -300.0
    assert np.isnan(data[1, 1])


def test_one_column_is_a_matrix_of_one_column(tmp_path):
    assert loaded(tmp_path, "loss\n0.5\n0.25\n").tolist() == [[0.5], [0.25]]


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n3,x7\n", "d.csv, line 3, column 3: cell 2 is not a number"),
    ('a,b\n1,2\n"3,5",4\n', "d.csv, line 3, column 1: cell 1 is not a number"),
    ("1,,2\n", "d.csv, line 1, column 3: cell 2 is empty"),
    ("1,2\n3,4,5\n", "d.csv, line 2, column 5: 3 cells where the rows before have 2"),
    ("1,2\n\n3\n", "d.csv, line 3, column 2: 1 cell where the rows before have 2"),
    ("1,2\n3,1_000\n", "d.csv, line 2, column 3: cell 2 is not a number"),
    ("x,y\n", "d.csv holds no rows of numbers (a first line that holds text is its header)"),
    ("", "d.csv holds no rows of numbers (a first line that holds text is its header)"),
    (b"1,2\n\xff\xfe\n", "cannot read d.csv: it is not a text file (UTF-8)"),
    ("1,2\n3," + "9" * 200_000 + "\n",
     "d.csv, line 2: not a CSV line (field larger than field limit (131072))"),
])
def test_errors_name_the_line_and_column_of_the_file(tmp_path, text, message):
    error = load_error(tmp_path, text)
    assert error.message == message
    assert (error.line, error.column) == (1, 1)  # the load call in the program


def test_an_error_never_quotes_the_file(tmp_path):
    error = load_error(tmp_path, "1,2\nSECRET,4\n")
    assert "SECRET" not in error.message and "SECRET" not in error.render()


def test_a_missing_file(tmp_path):
    it = Interpreter(files=True)
    it.base_dir = str(tmp_path)
    with pytest.raises(DiffiError, match=r"cannot read nope\.csv: No such file or directory"):
        it.run('load("nope.csv")')


def test_load_counts_against_max_elements_before_it_builds_the_matrix(tmp_path):
    with pytest.raises(LimitError, match=r"d\.csv holds more than 3 numbers \(max_elements\)"):
        loaded(tmp_path, "1,2\n3,4\n", max_elements=3)


def test_a_relative_path_starts_at_the_scripts_folder(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "d.csv").write_text("5,6\n", encoding="utf-8")
    (folder / "m.dfi").write_text('load("d.csv")\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert run_file("model/m.dfi", Console(out, err)) == 0
    assert out.getvalue() == "[[5, 6]]\n" and err.getvalue() == ""


def test_without_a_script_a_relative_path_starts_at_the_working_directory(tmp_path,
                                                                         monkeypatch):
    (tmp_path / "d.csv").write_text("7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert Interpreter(files=True).eval('load("d.csv")').tolist() == [[7.0]]


def test_load_needs_a_file_name():
    with pytest.raises(DiffiTypeError, match=r'load takes a file name in quotes: '
                                             r'load\("data.csv"\)'):
        Interpreter(files=True).run("load(3)")


# save ------------------------------------------------------------------------------------

def saved(tmp_path, source: str) -> tuple[Interpreter, str]:
    it = Interpreter(files=True)
    it.base_dir = str(tmp_path)
    assert it.run(source) == []
    return it, (tmp_path / "out.csv").read_text(encoding="utf-8")


def test_save_writes_a_matrix_one_row_per_line(tmp_path):
    _, text = saved(tmp_path, 'save("out.csv", [[1, 0.1], [1e-5, -2]])')
    assert text == "1,0.1\n1e-05,-2\n"


def test_save_writes_a_vector_one_number_per_line_and_a_number_alone(tmp_path):
    assert saved(tmp_path, 'save("out.csv", [1, 2.5, true])')[1] == "1\n2.5\n1\n"
    assert saved(tmp_path, 'save("out.csv", 1 < 2)')[1] == "1\n"
    assert saved(tmp_path, 'save("out.csv", [inf, -inf, nan])')[1] == "inf\n-inf\nnan\n"


def test_saved_numbers_load_back_exactly(tmp_path):
    it, _ = saved(tmp_path, 'seed(4); A = randn(5, 3) * 1e7; save("out.csv", A)')
    assert (it.eval('load("out.csv")') == it["A"]).all()


def test_save_writes_the_losses_of_minimize(tmp_path):
    it, text = saved(tmp_path, "w = 0\nminimize (w - 3)^2 wrt w using gd(rate = 0.1, "
                               "steps = 3);\nsave(\"out.csv\", losses)")
    assert text == "9\n5.76\n3.6864\n"
    assert it.eval('load("out.csv")').reshape(-1).tolist() == it.losses.tolist()


@pytest.mark.parametrize("source, message", [
    ('save("out.csv", (1, 2))', "save writes a number, a vector or a matrix, not a tuple"),
    ('save("out.csv", zeros(2, 2, 2))',
     "save writes a vector or a matrix; this tensor has 3 dimensions: reshape it first"),
    ('save(3, [1])', 'save takes a file name in quotes: save("data.csv", A)'),
    ('save("no/such/folder/out.csv", 1)',
     "cannot write no/such/folder/out.csv: No such file or directory"),
])
def test_save_errors(tmp_path, source, message):
    it = Interpreter(files=True)
    it.base_dir = str(tmp_path)
    with pytest.raises(DiffiError) as caught:
        it.run(source)
    assert caught.value.message == message and caught.value.column == 1
    assert not (tmp_path / "out.csv").exists()


def test_files_switched_off_refuse_load_and_save(tmp_path):
    it = Interpreter(files=False)
    it.base_dir = str(tmp_path)
    with pytest.raises(DiffiError, match="reading files is switched off"):
        it.run('load("d.csv")')
    with pytest.raises(DiffiError, match="writing files is switched off"):
        it.run('save("out.csv", 1)')
    with pytest.raises(DiffiError, match="writing files is switched off"):
        it.run('graph 1 + 2 to "g.json"')
    assert list(tmp_path.iterdir()) == []


def test_graph_to_a_relative_file_starts_where_load_and_save_do(tmp_path):
    it = Interpreter(files=True)
    it.base_dir = str(tmp_path)
    it.run('graph 1 + 2 to "g.dot"\nsave("s.csv", 3)')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "s.csv"]
