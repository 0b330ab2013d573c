import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from nlp.models import TrainingError
from nlp.registry import seed_rows
from nlp.training import append_feedback
from yuqing.commands.nlp import analyze_command, run_analyze, run_train, train_command
from yuqing.settings import load_settings

AUDIT_KEYS = {"id", "topic", "sentiment", "severity", "places", "event", "keywords",
              "model_versions"}
DEPARTMENTS = {"education": "区教育局", "health": "区卫健委", "housing": "区住建局",
               "traffic": "区交通运输局", "environment": "区生态环境局"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return load_settings(home=tmp_path_factory.mktemp("instance"), environ={})


@pytest.fixture
def fresh_settings(tmp_path):
    return load_settings(home=tmp_path / "instance", environ={})


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False))
                            + "\n" for r in rows), encoding="utf-8")
    return path


def department_rows():
    return [{"标题": "", "内容": r["text"], "承办部门": DEPARTMENTS[r["label"]]}
            for r in seed_rows("topic") if r["label"] in DEPARTMENTS]


def write_csv(path: Path, rows, encoding="utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_analyze_writes_one_line_per_input_in_order(settings, tmp_path):
    src = write_jsonl(tmp_path / "posts.jsonl", [
        {"id": "a1", "title": "汤山一工厂爆炸", "text": "汤山街道一化工厂发生爆炸，3人死亡",
         "source": "某新闻网", "reposts": "1.2万", "published_at": "2026-11-01T08:00:00+08:00"},
        "{not json",
        {"id": "a3", "text": "網傳江寧區東山街道將強制拆遷，是真的嗎"},
        {"id": "a4", "source": "微博"},
        {"text": "周末去九龙湖骑车，风景太好了"},
    ])
    out = tmp_path / "out" / "analysis.jsonl"
    summary = run_analyze(settings, src, out)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.posts == 5 and summary.errors == 2
    assert [row.get("id") for row in lines] == ["a1", None, "a3", "a4", "line-5"]
    assert lines[1]["line"] == 2 and "JSON" in lines[1]["error"]
    assert "text" in lines[3]["error"]
    for row in (lines[0], lines[2], lines[4]):
        assert set(row) == AUDIT_KEYS
        assert set(row["topic"]) >= {"label", "prob", "alternatives"}
        assert set(row["sentiment"]) >= {"label", "score"}
        assert set(row["severity"]) >= {"level", "score", "factors"}
        assert isinstance(row["event"], str)
        for place in row["places"]:
            assert set(place) == {"name", "code", "level", "confidence", "text"}
    assert lines[0]["places"][0]["name"].endswith("汤山街道")
    assert any(p["name"].endswith("东山街道") for p in lines[2]["places"])
    assert lines[0]["event"] != lines[4]["event"]  # unrelated posts, separate events
    assert lines[0]["severity"]["level"] in (1, 2, 3)
    assert lines[2]["topic"]["label"] in ("land_demolition", "policy")  # a demolition rumour
    assert lines[2]["severity"]["level"] is not None
    assert lines[4]["severity"]["level"] is None
    # the audit run never creates the instance database or search index
    assert not (settings.home / "yuqing.db").exists()
    assert not (settings.home / "search.db").exists()


def test_analyze_can_leave_places_and_events_empty(settings, tmp_path):
    src = write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "东山街道某小区停水三天没人管"}])
    out = tmp_path / "o.jsonl"
    run_analyze(settings, src, out, places=False, event_assigner_factory=None)
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["places"] == [] and row["event"] is None


def test_analyze_command_prints_a_json_summary_last(settings, tmp_path):
    src = write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "小区停水三天没人管"}])
    result = CliRunner().invoke(analyze_command, ["--input", str(src), "--output",
                                                  str(tmp_path / "o.jsonl"), "--json"],
                                obj=SimpleNamespace(settings=settings))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {
        "posts": 1, "errors": 0, "output": str(tmp_path / "o.jsonl")}


def test_train_topic_on_customer_departments_installs_a_model_analyze_uses(fresh_settings,
                                                                           tmp_path):
    src = write_csv(tmp_path / "history.csv", department_rows(), encoding="gb18030")
    result = CliRunner().invoke(
        train_command, ["topic", "--input", str(src), "--text", "内容", "--title", "标题",
                        "--label", "承办部门", "--json"],
        obj=SimpleNamespace(settings=fresh_settings))
    assert result.exit_code == 0, result.output
    assert "精确率" in result.output and "混淆矩阵" in result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["ok"] and summary["examples"] == len(department_rows())
    assert 0.5 < summary["macro_f1"] <= 1.0
    assert (fresh_settings.models_dir / "topic.joblib").is_file()
    meta = json.loads((fresh_settings.models_dir / "topic.json").read_text(encoding="utf-8"))
    assert set(meta["labels"]) == set(DEPARTMENTS.values())

    posts = write_jsonl(tmp_path / "p.jsonl", [
        {"id": "1", "text": "学校招生划片不合理，孩子要跨区上学"}])
    out = tmp_path / "o.jsonl"
    run_analyze(fresh_settings, posts, out)
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["topic"]["label"] == "区教育局"
    assert row["model_versions"]["topic"] == summary["version"]


def test_training_exits_non_zero_with_a_chinese_reason(fresh_settings, tmp_path):
    rows = department_rows()
    few = [r for r in rows if r["承办部门"] != "区卫健委"] + [
        r for r in rows if r["承办部门"] == "区卫健委"][:3]
    src = write_csv(tmp_path / "few.csv", few)
    runner = CliRunner()
    obj = SimpleNamespace(settings=fresh_settings)
    result = runner.invoke(train_command, ["topic", "--input", str(src), "--text", "内容",
                                           "--label", "承办部门"], obj=obj)
    assert result.exit_code == 1
    assert "样本太少" in result.output and "区卫健委（3 条）" in result.output
    result = runner.invoke(train_command, ["topic", "--input", str(src), "--text", "正文",
                                           "--label", "承办部门"], obj=obj)
    assert result.exit_code == 1 and "缺少列：正文" in result.output
    result = runner.invoke(train_command, ["topic", "--input", str(tmp_path / "none.csv")],
                           obj=obj)
    assert result.exit_code == 1 and "找不到训练文件" in result.output
    assert not (fresh_settings.models_dir / "topic.joblib").exists()


def test_train_sentiment_from_xlsx_with_chinese_labels(fresh_settings, tmp_path):
    names = {"negative": "负面", "neutral": "中性", "positive": "正面"}
    book = Workbook()
    sheet = book.active
    sheet.append(["内容", "情感"])
    for row in seed_rows("sentiment"):
        sheet.append([row["text"], names[row["label"]]])
    sheet.append(["这行标签写错了", "很生气"])
    sheet.append([None, "负面"])
    book.save(tmp_path / "s.xlsx")
    outcome = run_train(fresh_settings, "sentiment", tmp_path / "s.xlsx", "内容", "情感")
    assert set(outcome.model.labels) == {"negative", "neutral", "positive"}
    assert len(outcome.skipped) == 2
    assert "无法识别的标签" in outcome.report and "文本为空" in outcome.report
    assert outcome.path == fresh_settings.models_dir / "sentiment.joblib"


def test_with_feedback_adds_the_monitors_corrections(fresh_settings, tmp_path):
    src = write_csv(tmp_path / "h.csv", department_rows())
    fb_dir = fresh_settings.home / "feedback"
    for text in ("多名群众到区政府门口上访，要求解决历史遗留问题",
                 "信访件转来转去没人处理，已经第三次上访", "信访事项答复超期，群众再次到信访局反映",
                 "集体上访人员在区政府门口聚集", "网上信访平台提交的诉求一个月没有回复"):
        append_feedback(fb_dir, "topic", text, "区信访局")
    with (fb_dir / "topic.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    without = run_train(fresh_settings, "topic", src, "内容", "承办部门", install=False)
    assert "区信访局" not in without.model.labels
    with_fb = run_train(fresh_settings, "topic", src, "内容", "承办部门", with_feedback=True,
                        install=False)
    assert "区信访局" in with_fb.model.labels
    assert any("纠错记录第 6 行" in s for s in with_fb.skipped)
    with pytest.raises(TrainingError) as only_fb:
        run_train(fresh_settings, "topic", None, "text", "label", with_feedback=True)
    assert "至少需要 2 个类别" in str(only_fb.value)


def test_a_trained_severity_model_becomes_an_explained_factor(fresh_settings, tmp_path):
    judged = {"work_safety": "II", "disaster": "III", "social_security": "IV", "none": "无"}
    rows = [{"text": r["text"], "level": judged[r["label"]]}
            for r in seed_rows("topic") if r["label"] in judged]
    src = write_jsonl(tmp_path / "judged.jsonl", rows)
    outcome = run_train(fresh_settings, "severity", src, "text", "level")
    assert set(outcome.model.labels) == {"II", "III", "IV", "none"}
    posts = write_jsonl(tmp_path / "p.jsonl", [{"id": "1", "text": "工地塔吊倒塌，两名工人受伤"}])
    out = tmp_path / "o.jsonl"
    run_analyze(fresh_settings, posts, out)
    row = json.loads(out.read_text(encoding="utf-8"))
    learned = [f for f in row["severity"]["factors"] if f["name"] == "learned"]
    assert learned and "历史研判模型" in learned[0]["reason"]
    assert row["model_versions"]["severity"] == outcome.model.version


def test_jsonl_training_rows_may_omit_the_title(fresh_settings, tmp_path):
    rows = [{"text": r["内容"], "dept": r["承办部门"]} for r in department_rows()]
    rows[0]["headline"] = "有标题的一行"
    src = write_jsonl(tmp_path / "t.jsonl", rows)
    outcome = run_train(fresh_settings, "topic", src, "text", "dept", title_col="headline",
                        install=False)
    assert outcome.model.metrics["examples"] == len(rows)
    assert "区教育局" in outcome.report and "混淆矩阵" in outcome.report


def test_a_running_analyzer_picks_up_a_newly_installed_model(fresh_settings, tmp_path):
    from nlp.posts import post_from_dict
    from yuqing.commands.nlp import build_analyzer

    analyzer = build_analyzer(fresh_settings)
    post = post_from_dict({"id": "1", "text": "学校招生划片不合理，孩子要跨区上学"})
    before = analyzer.analyze(post)
    assert before.topic.label == "education"
    src = write_csv(tmp_path / "h.csv", department_rows())
    outcome = run_train(fresh_settings, "topic", src, "内容", "承办部门")
    after = analyzer.analyze(post)
    assert after.topic.label == "区教育局"
    assert after.model_versions["topic"] == outcome.model.version


def test_the_instance_can_override_severity_weights_and_typos_are_refused(tmp_path):
    from nlp.severity import SeverityConfigError, config_from
    from yuqing.commands.nlp import severity_data
    from yuqing.settings import ConfigError

    home = tmp_path / "inst"
    home.mkdir()
    (home / "severity.yaml").write_text("severity:\n  rumour: 30\n  authority: {central: 15}\n",
                                        encoding="utf-8")
    data = severity_data(load_settings(home=home, environ={}))
    assert data["rumour"] == 30
    assert data["authority"]["central"] == 15 and data["authority"]["provincial"] == 7
    (home / "severity.yaml").write_text("severity:\n  rumor: 30\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"severity\.yaml: severity: severity\.rumor"):
        load_settings(home=home, environ={})  # refused at start, before any post
    with pytest.raises(SeverityConfigError, match="rumor"):
        config_from({"rumor": 30})


def test_texts_without_any_words_fail_as_a_training_error(fresh_settings, tmp_path):
    rows = [{"text": "！！！" if i % 2 else "。。。", "label": "a" if i % 2 else "b"}
            for i in range(12)]
    src = write_jsonl(tmp_path / "empty.jsonl", rows)
    with pytest.raises(TrainingError, match="无法用这些样本训练模型"):
        run_train(fresh_settings, "topic", src, "text", "label")
