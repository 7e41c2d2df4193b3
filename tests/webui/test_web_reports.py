"""The reports page and its CSV: figures from the store, bad periods refused by name."""
import time


def _day(clock_t):
    return time.strftime("%Y-%m-%d", time.localtime(clock_t))


def test_reports_page_shows_queue_figures(login_as, store, clock):
    t = clock()
    for i, (disp, wait) in enumerate((("answered", 5), ("answered", 30), ("abandoned", 2))):
        store.add_cdr({"call_id": "r%d" % i, "start": t - 60, "answer": t - 50 if disp == "answered" else None,
                       "end": t, "queue": "sales", "disposition": disp, "wait_s": wait,
                       "talk_s": 40 if disp == "answered" else None, "agent": "1001" if disp == "answered" else None})
    page = login_as("viewer").get("/reports?from=%s" % _day(t))
    assert page.status == 200
    assert "sales" in page.text and "33.3%" in page.text          # SL: 1 of 3 within 15 s
    assert "answered within 15 s / offered" in page.text
    csv_text = login_as("supervisor").get("/reports.csv?from=%s&T=30" % _day(t)).text
    header, sales = csv_text.splitlines()[:2]
    assert header.startswith("queue,offered,answered")
    assert sales.startswith("sales,3,2,1,1,") and ",0.6667," in sales       # SL within 30 s: 2 of 3
    assert store.query("SELECT action FROM audit WHERE action='report.export'")


def test_bad_report_parameters_are_named(login_as):
    c = login_as("admin")
    r = c.get("/reports?from=2026-13-40")
    assert r.status == 400 and "from: &#039;2026-13-40&#039; is not a date" in r.text
    r = c.get("/reports?from=2026-05-02&to=2026-05-01")
    assert r.status == 400 and "is before from" in r.text
    r = c.get("/reports?from=2020-01-01&to=2026-01-01")
    assert r.status == 400 and "longer than 366 days" in r.text
    r = c.get("/reports?T=0")
    assert r.status == 400 and "T: &#039;0&#039; must be a number" in r.text


def test_agents_may_not_see_reports(login_as):
    assert login_as("agent").get("/reports").status == 403
