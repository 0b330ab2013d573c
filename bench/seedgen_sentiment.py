"""Generate the compositional part of the default sentiment seed (nlp/data/sentiment_generated.jsonl).

Everything here was written for yuqing: events, feelings, emoticon names (Weibo's public
``[哈哈]``-style codes), notice and 留言 templates. Nothing is copied from
a corpus. The hand-written seed (nlp/data/sentiment_seed.jsonl) carries real phrasing; this
file adds coverage for Weibo-style posts, news items and 留言 (many feelings, emoticons,
notices and consultations) and product/service reviews over 16 domains
(bench/seedgen_reviews.py), so the shipped model is balanced across negative / neutral /
positive.

    python bench/seedgen_sentiment.py          # rewrites nlp/data/sentiment_generated.jsonl
"""

from __future__ import annotations

import json
import random
from pathlib import Path

try:  # run as a script (python bench/seedgen_sentiment.py) or imported as bench.*
    from bench.seedgen_reviews import review
except ImportError:  # pragma: no cover
    from seedgen_reviews import review  # type: ignore[no-redef]

OUT = Path(__file__).resolve().parents[1] / "nlp" / "data" / "sentiment_generated.jsonl"
SEED = 20261202
# More positive than negative reviews: the hand-written rows and 留言 lean negative, and
# fact-stating praise (送到还是烫的) was what the default missed.
REVIEW_NEG, REVIEW_NEU, REVIEW_POS = 220, 190, 300

EMO_POS = ["[哈哈]", "[嘻嘻]", "[爱你]", "[心]", "[鼓掌]", "[太开心]", "[good]", "[赞]",
           "[偷笑]", "[可爱]", "[耶]", "[威武]", "[花心]", "[抱抱]", "[馋嘴]", "[得意地笑]", ""]
EMO_NEG = ["[泪]", "[抓狂]", "[怒]", "[衰]", "[伤心]", "[委屈]", "[生病]", "[失望]", "[晕]",
           "[可怜]", "[鄙视]", "[哼]", "[吐]", "[汗]", "[悲伤]", ""]
WHEN = ["今天", "终于", "周末", "昨天", "刚刚", "今晚", "这个月", "今年", "早上", ""]
EVENT_POS = ["拿到了驾照", "升职了", "考试通过了", "和家人去旅游了", "吃到了想吃的火锅",
             "收到了礼物", "见到了老朋友", "项目上线了", "宝宝会走路了", "抢到了演唱会门票",
             "买到了喜欢的裙子", "论文发表了", "搬进了新家", "看了一场好电影", "比赛赢了",
             "和朋友去爬山了", "考上了研究生", "涨工资了", "找到了新工作", "病好了出院了"]
EVENT_NEG = ["加班到半夜", "丢了钱包", "被领导骂了", "考试挂科了", "感冒发烧了", "航班延误了",
             "被骗了钱", "手机摔坏了", "失业了", "和朋友吵架了", "堵车堵了两小时", "房租又涨了",
             "被扣了工资", "快递丢了", "失眠一整夜", "宠物生病了", "停水停电一整天", "面试失败了",
             "又被放鸽子", "东西被偷了"]
FEEL_POS = ["好开心", "太幸福了", "超级满足", "感动到哭", "心情美美哒", "开心到飞起", "好温暖",
            "太棒了", "激动得睡不着", "满满的幸福感", "感觉生活真美好", "爱了爱了", "值得庆祝"]
FEEL_NEG = ["好累", "烦死了", "好难过", "心态崩了", "太郁闷了", "气死我了", "好委屈", "心累",
            "真倒霉", "好焦虑", "太难受了", "无语了", "崩溃了", "心寒", "好失望", "想哭"]
WEIBO_NEUTRAL = ["转发微博", "分享图片", "打卡第{n}天", "我在：{p}", "明天{n}点开会",
                 "{p}今天多云，气温{n}度", "有人知道{p}怎么走吗", "分享单曲", "转发：{p}周六举办招聘会",
                 "刚到{p}", "#{p}# 地铁{n}号线调整运营时间", "求推荐{p}附近的打印店",
                 "{p}周边道路施工，请绕行", "今天读了{n}页书", "下周{n}号考试"]
PLACES = ["江宁", "南京南站", "百家湖", "九龙湖", "万达广场", "图书馆", "东山", "秣陵", "禄口机场"]

ORGS = ["区政府", "区教育局", "区卫健委", "区住建局", "区交通局", "区人社局", "街道办", "社区",
        "区市场监管局", "区生态环境局", "区民政局", "区城管局"]
NEWS_POS = ["{o}新建的{x}正式投用，群众纷纷点赞", "{x}项目提前完工，周边居民出行更方便了",
            "{o}获评全省先进单位", "热心市民见义勇为救起落水儿童，获表彰",
            "{x}改造完成，居民幸福感明显提升", "{o}推出便民举措，办事群众好评如潮",
            "我区学子在全国比赛中获得一等奖", "{x}开放首日迎来大批市民，现场秩序井然",
            "医护人员成功救治危重患者，家属送锦旗致谢", "{o}帮助企业解决难题，企业连声感谢"]
NEWS_NEG = ["{x}发生火灾，造成{n}人受伤", "{x}附近发生交通事故，{n}人死亡",
            "{x}被曝存在严重安全隐患，居民担忧", "{o}被指不作为，群众反映问题长期得不到解决",
            "{x}污水直排河道，周边臭气熏天", "{n}名工人讨薪无果，情绪激动",
            "{x}食品抽检不合格，多名消费者腹泻", "{x}烂尾多年，业主维权无门",
            "{x}发生坍塌事故，{n}人被困", "网传{x}乱收费，引发众多网友不满"]
NEWS_NEU = ["{o}召开{y}工作会议", "{o}发布关于{y}的通知", "关于{y}的公告",
            "{o}开展{y}专项检查", "{o}部署{y}工作", "{o}公布{y}安排",
            "{y}工作座谈会在{o}召开", "{o}就{y}征求公众意见", "{o}通报{y}进展情况",
            "{o}举办{y}培训班"]
THINGS = ["社区卫生服务中心", "城市公园", "地铁站", "农贸市场", "老旧小区", "公办幼儿园",
          "体育馆", "养老院", "某工地", "某化工厂", "某小区", "某商场", "某餐馆", "某学校"]
MATTERS = ["安全生产", "防汛抗旱", "垃圾分类", "招生入学", "医保缴费", "燃气安全", "秋冬季防火",
           "人口普查", "城市更新", "营商环境", "食品安全", "河长制", "征兵", "就业招聘"]
MSG_POS = ["感谢{o}，反映的{m}问题很快就解决了", "给{o}点赞，工作人员耐心细致",
           "{o}处理{m}问题非常及时，我很满意", "表扬{o}的工作人员，服务热情周到",
           "真心感谢{o}帮我们解决了{m}的难题", "{m}问题终于解决了，谢谢{o}的辛苦付出"]
MSG_NEG = ["{m}问题反映多次没人管，{o}互相推诿", "对{o}的回复不满意，{m}问题根本没解决",
           "{o}办事效率太低，{m}的事拖了半年", "强烈投诉{o}，{m}问题一拖再拖",
           "{m}问题严重影响生活，{o}却不作为", "{o}工作人员态度恶劣，问{m}的事被呵斥"]
MSG_NEU = ["请问{m}需要带哪些材料", "咨询一下{m}的办理流程", "想了解{m}的相关政策",
           "请问{m}在哪里办理", "建议{o}公布{m}的具体时间", "请问{m}可以网上申请吗",
           "咨询：{m}的条件是什么", "请问{o}办理{m}的时间"]
MATTERS_MSG = ["社保卡补办", "公积金提取", "路灯维修", "垃圾清运", "噪音扰民", "小区停车",
               "医保报销", "户口迁移", "电梯维修", "学区划分", "违章搭建", "占道经营"]


def _weibo(rng: random.Random, label: str) -> str:
    if label == "neutral":
        return rng.choice(WEIBO_NEUTRAL).format(n=rng.randint(1, 30), p=rng.choice(PLACES))
    good = label == "positive"
    event = rng.choice(EVENT_POS if good else EVENT_NEG)
    feel = rng.choice(FEEL_POS if good else FEEL_NEG)
    emo = rng.choice(EMO_POS if good else EMO_NEG)
    emo2 = rng.choice(EMO_POS if good else EMO_NEG) if rng.random() < 0.3 else ""
    shape = rng.randrange(3)
    if shape == 0:
        return f"{rng.choice(WHEN)}{event}，{feel}{emo}{emo2}"
    if shape == 1:
        return f"{feel}！{rng.choice(WHEN)}{event}{emo}"
    return f"#{rng.choice(PLACES)}# {event}，{feel}{emo}"


def _news(rng: random.Random, label: str) -> str:
    pool = {"positive": NEWS_POS, "negative": NEWS_NEG, "neutral": NEWS_NEU}[label]
    return rng.choice(pool).format(o=rng.choice(ORGS), x=rng.choice(THINGS),
                                   y=rng.choice(MATTERS), n=rng.randint(2, 12))


def _message(rng: random.Random, label: str) -> str:
    pool = {"positive": MSG_POS, "negative": MSG_NEG, "neutral": MSG_NEU}[label]
    return rng.choice(pool).format(o=rng.choice(ORGS), m=rng.choice(MATTERS_MSG))


# Reviews: aspect/evaluation templates where every aspect appears with both polarities
# (bench/seedgen_reviews.py); the first attempt, product words tied to one polarity, had
# taught the model products instead of polarity. Counts per label: (negative, neutral, positive).
MAKERS = {"weibo": (_weibo, (200, 133, 200)), "news": (_news, (70, 70, 70)),
          "message": (_message, (70, 70, 70)), "review": (review, (REVIEW_NEG, REVIEW_NEU, REVIEW_POS))}


def generate(seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for kind, (make, counts) in MAKERS.items():
        for label, n in zip(("negative", "neutral", "positive"), counts, strict=True):
            tries = 0
            made = 0
            while made < n and tries < n * 20:
                tries += 1
                text = make(rng, label)
                if text not in seen:
                    seen.add(text)
                    rows.append({"label": label, "kind": kind, "text": text})
                    made += 1
    return rows


def main() -> None:
    rows = generate()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
