from tests.test_export import *  # noqa
def test_peek(hotline, world):
    for fmt in ("jsonl",):
        d = read(fmt, run_export(hotline, fmt))
        for m in d["messages"]:
            print(m["case"], m["time"], m["direction"], m["party"], "->", m["to"], m["channel"], m["media"], repr(m["text"][:150]))
        for c in d["cases"]: print(c)
