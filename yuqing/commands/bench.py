"""`yuqing bench`: run the benchmarks of bench/ and print their figures (table, JSON, Markdown)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from yuqing import benchmarks as b


@click.command("bench")
@click.option("--size", type=click.Choice(b.SIZES), default="small", show_default=True,
              help="规模：small 为冒烟（两核五分钟内跑完），full 为完整（10k → 100k → 1M）")
@click.option("--only", multiple=True, metavar="NAME",
              help="只运行这些基准：模块名（如 latency）或指标名，可重复或用逗号分隔")
@click.option("--json", "as_json", is_flag=True,
              help="最后一行输出 JSON：{指标名: {ratio, value, baseline, unit, n, …}}")
@click.option("--markdown", "markdown_to", is_flag=False, flag_value="", default=None,
              metavar="[FILE]", help="把结果写成 Markdown（默认仓库的 docs/PERFORMANCE.md）")
@click.option("--dir", "folder", default=None, metavar="DIR",
              help=f"基准目录（默认源码仓库的 bench/，或环境变量 {b.ENV_DIR}）")
@click.option("--timeout", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="每个基准模块最长运行时间，超时记为失败")
@click.option("--resume", "resume_file", default=None, metavar="FILE",
              help="分次运行：每跑完一个模块就把结果存入 FILE；再次运行时跳过 FILE 中已成功的模块"
                   "（--only 点名的照样重跑），输出与 Markdown 含全部结果")
def bench_command(size: str, only: tuple[str, ...], as_json: bool, markdown_to: str | None,
                  folder: str | None, timeout: float | None, resume_file: str | None) -> None:
    """运行全部基准，打印与同次运行所测基线之比；任一基准失败则退出码非零，其余照常运行。"""
    resume = Path(resume_file) if resume_file else None
    try:
        where = b.locate(folder)
        modules = b.discover(where)
        if not modules:
            raise b.BenchError(f"{where} 中没有定义 run(size) 的 bench_*.py")
        keep = b.select(modules, only)
        saved = b.load_saved(resume, size) if resume else {}
    except b.BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = [m for m in modules if m.path in keep]
    if saved and not only:  # resuming: what was measured already is not measured again
        finished = b.done_modules(saved)
        chosen = [m for m in chosen if m.name not in finished]
        click.echo(f"沿用 {resume} 中已完成的 {len(finished)} 个模块", err=True)
    started, t0 = b.now_utc(), time.perf_counter()
    click.echo(f"基准目录：{where}；规模 {size}；共 {len(chosen)} 个模块", err=True)

    def done(o: b.Outcome) -> None:
        if resume:
            nonlocal saved
            saved = b.merge(saved, b.gather([o], keep))
            b.save(resume, size, saved)
        if o.error:
            click.echo(f"基准 {o.module.name} 失败（{o.seconds:.1f} 秒）：{o.error}", err=True)
        else:
            click.echo(f"基准 {o.module.name} 完成（{o.seconds:.1f} 秒，"
                       f"{len(o.results)} 项）", err=True)

    def start(m: b.Module) -> None:
        click.echo(f"基准 {m.name} 运行中……", err=True)

    outcomes = b.run_all(chosen, size, timeout=timeout, on_start=start, on_done=done)
    table = saved if resume else b.gather(outcomes, keep)
    asked = {w.strip() for item in only for w in item.split(",") if w.strip()}
    names = {m.name for m in chosen} | {m.path.stem for m in chosen}
    missing = sorted(w for w in asked - names if w not in table)
    failed = [o for o in outcomes if o.error]
    click.echo(b.text_table(table) if table else "（没有结果）")
    for w in missing:
        click.echo(f"没有名为 {w} 的基准指标", err=True)
    if markdown_to is not None:
        path = Path(markdown_to) if markdown_to else where.parent / "docs" / "PERFORMANCE.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(b.markdown(table, size, started, time.perf_counter() - t0,
                                   resumed=resume.name if resume else None),
                        encoding="utf-8")
        click.echo(f"已写入 {path}", err=True)
    if as_json:
        click.echo(json.dumps(table, ensure_ascii=False))
    if failed or missing:
        raise click.exceptions.Exit(1)
