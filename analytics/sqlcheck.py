"""Runs Orchard's ClickHouse SQL on a current ClickHouse engine (chDB,
in-process) so that the schema and queries stay valid beyond the 18.16
server of the integration tests. Usage: python3 analytics/sqlcheck.py"""
import pathlib
import re
import sys

import chdb
from chdb import session

here = pathlib.Path(__file__).parent


def statements(text):
    body = "\n".join(l for l in text.splitlines() if not l.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def main():
    s = session.Session()
    s.query("CREATE DATABASE IF NOT EXISTS orchard")
    s.query("USE orchard")
    checked = 0
    for f in sorted((here / "migrations").glob("*.sql")):
        for stmt in statements(f.read_text()):
            s.query(stmt)
            checked += 1
    s.query("INSERT INTO events (event_id, type, at, at_ms, rep_id, method) VALUES "
            "('e1', 'assigned', now(), 1, 'ana', 'cherry_pick'), "
            "('e2', 'assigned', now(), 2, 'bo', 'round_robin')")
    s.query("INSERT INTO events (event_id, type, at, at_ms, lead_id, rep_id, method, score, source, employees, value, converted) VALUES "
            "('q1', 'qualified', now(), 1, 'L1', '', '', 90, 'mql', 300, 0, 0), "
            "('e3', 'contacted', now(), 3, 'L1', 'ana', 'cherry_pick', 90, 'mql', 300, 60000, 0), "
            "('e4', 'outcome', now(), 4, 'L1', 'ana', 'cherry_pick', 90, 'mql', 300, 0, 1)")
    # Whole days [@d1, @d2) from the rollups, edges from events: the
    # period below puts today's rows in the edge [@t2, @until).
    params = {"@since": "toDateTime('2000-01-01 00:00:00')", "@until": "toDateTime('2100-01-01 00:00:00')",
              "@aged_ms": "86400000", "@end_day_ms": "4102444800000", "@end_day": "47482", "@end_ms": "4102444800000",
              "@d1": "10957", "@d2": "toUInt32(toUInt32(now()) / 86400)", "@t1": "toDateTime('2000-01-01 00:00:00')",
              "@t2": "toDateTime(toUInt32(toUInt32(now()) / 86400) * 86400)"}
    for f in sorted((here / "queries").glob("*.sql")):
        sql = f.read_text().replace("?", "toDateTime('2000-01-01 00:00:00')")
        for name, value in params.items():
            sql = sql.replace(name, value)
        out = s.query(sql, "CSV")
        print(f"{f.name}: ok on ClickHouse {chdb.__version__ if hasattr(chdb, '__version__') else ''}\n{out}")
        checked += 1
    if "\"ana\",1,0,1" not in str(s.query(re.sub(r"\?", "toDateTime('2000-01-01 00:00:00')", (here / "queries" / "lead_volume_per_rep.sql").read_text()), "CSV")):
        sys.exit("lead_volume_per_rep: want ana with 1 claim")
    facts = str(s.query("SELECT lead_id, qualified_ms, first_owned_ms, contacts_ms, converted FROM lead_facts_v WHERE lead_id = 'L1'", "CSV"))
    if '"L1",1,0,"[3]",1' not in facts:
        sys.exit(f"lead_facts_v: {facts}")
    days = str(s.query("SELECT rep_id, method, leads FROM rep_day_v ORDER BY rep_id", "CSV"))
    if '"ana","cherry_pick",1' not in days or '"bo","round_robin",1' not in days:
        sys.exit(f"rep_day_v: {days}")
    checked += 2
    for f in sorted((here / "examples").glob("*.sql")):
        out = s.query(f.read_text(), "CSV")
        print(f"examples/{f.name}: ok\n{out}")
        checked += 1
    print(f"{checked} statements ran on chDB {s.query('SELECT version()', 'CSV')}".strip())


if __name__ == "__main__":
    main()
