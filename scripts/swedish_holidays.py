"""Write src/btassist/common/swedish_holidays.csv: the Swedish days off of 2000–2099 as the
`holidays` library has them, which `common/workdays.py` reads instead of importing the library.

Re-run it after upgrading `holidays` when the test that compares the two fails:

    .venv/bin/python scripts/swedish_holidays.py
"""

from __future__ import annotations

import csv

from btassist.common.workdays import HOLIDAY_TABLE, TABLE_YEARS, library_days_off


def main() -> None:
    days_off = library_days_off(TABLE_YEARS)
    with HOLIDAY_TABLE.open("w", encoding="utf-8", newline="") as output:
        writer = csv.writer(output, lineterminator="\n")
        writer.writerows((day.isoformat(), str(days_off[day])) for day in sorted(days_off))
    years = f"{TABLE_YEARS.start}–{TABLE_YEARS.stop - 1}"
    print(f"wrote {len(days_off)} days off of {years} to {HOLIDAY_TABLE}")


if __name__ == "__main__":
    main()
