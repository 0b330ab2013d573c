import os
import time

import pytest

from crawlers.watch import Ledger, pending_files


def _write(folder, name, text, age=60):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_new_and_changed_exports_are_pending_and_done_ones_are_not(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ledger = Ledger(tmp_path / "ledger" / "hotline.json")
    a = _write(inbox, "12345-1.csv", "id,text\n1,停水\n", age=120)
    _write(inbox, "12345-2.jsonl", '{"id": 2}\n')
    _write(inbox, "notes.txt", "not an export")
    _write(inbox, "~$12345-3.xlsx", "office lock file")
    _write(inbox, "copying.csv", "id\n", age=0)  # still being written
    pending = pending_files(inbox, ledger)
    assert [p.name for p, _ in pending] == ["12345-1.csv", "12345-2.jsonl"]
    for path, digest in pending:
        ledger.mark(path, digest)
    assert pending_files(inbox, Ledger(ledger.path)) == []  # survives a restart
    _write(inbox, a.name, "id,text\n1,停水\n3,停电\n")
    assert [p.name for p, _ in pending_files(inbox, Ledger(ledger.path))] == ["12345-1.csv"]


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="监视的文件夹不存在"):
        pending_files(tmp_path / "nope", Ledger(tmp_path / "l.json"))


def test_a_damaged_ledger_means_import_again(tmp_path):
    (tmp_path / "l.json").write_text("{broken", encoding="utf-8")
    assert Ledger(tmp_path / "l.json").done == {}
