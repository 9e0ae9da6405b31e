//! Fire times through the crate's public API, with real croner underneath.
//!
//! Every expected instant is written out literally, in the job's zone with its offset, as a
//! user would read it in `sundialctl next` or the editor's preview.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use sundial_engine::domain::{IntervalUnit, Trigger};
use sundial_engine::schedule::{
    CronSchedule, DstNote, FireTime, Schedule, describe_trigger, preview, resolve_zone, system_zone,
};

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad test instant {rfc3339}: {e}"))
        .with_timezone(&Utc)
}

fn zone(name: &str) -> Tz {
    resolve_zone(Some(name)).unwrap()
}

fn cron(expr: &str, tz: &str) -> Schedule {
    Schedule::Cron {
        cron: Box::new(CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))),
        zone: zone(tz),
    }
}

/// The next `count` fire times after `after`, rendered in `tz` like `sundialctl next`.
fn next_n(schedule: &Schedule, tz: &str, after: &str, count: usize) -> Vec<String> {
    let tz = zone(tz);
    let mut cursor = utc(after);
    let mut out = Vec::new();
    for _ in 0..count {
        let Some(at) = schedule.next_after(cursor) else {
            break;
        };
        assert!(at > cursor, "{at} is not strictly after {cursor}");
        out.push(
            at.with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        );
        cursor = at;
    }
    out
}

struct Case {
    what: &'static str,
    expr: &'static str,
    tz: &'static str,
    after: &'static str,
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    // --- Europe/Riga daylight saving (cronsim's suite) ---
    Case {
        what: "Riga spring forward: 03:15 does not exist on 03-28, runs right after the gap",
        expr: "15 3 * * *",
        tz: "Europe/Riga",
        after: "2021-03-27T00:00:00+02:00",
        expect: &[
            "2021-03-27T03:15:00+02:00",
            "2021-03-28T04:00:00+03:00",
            "2021-03-29T03:15:00+03:00",
        ],
    },
    Case {
        what: "Riga fall back: a fixed-time job runs once in the repeated hour",
        expr: "15 3 * * *",
        tz: "Europe/Riga",
        after: "2021-10-30T00:00:00+03:00",
        expect: &[
            "2021-10-30T03:15:00+03:00",
            "2021-10-31T03:15:00+03:00",
            "2021-11-01T03:15:00+02:00",
        ],
    },
    Case {
        what: "Riga fall back: a fixed-time job that ran in the first pass does not run again",
        expr: "15 3 * * *",
        tz: "Europe/Riga",
        after: "2021-10-31T03:20:00+03:00",
        expect: &["2021-11-01T03:15:00+02:00"],
    },
    Case {
        what: "Riga fall back: a step job runs in both passes of the repeated hour",
        expr: "*/30 * * * *",
        tz: "Europe/Riga",
        after: "2021-10-31T02:10:00+03:00",
        expect: &[
            "2021-10-31T02:30:00+03:00",
            "2021-10-31T03:00:00+03:00",
            "2021-10-31T03:30:00+03:00",
            "2021-10-31T03:00:00+02:00",
            "2021-10-31T03:30:00+02:00",
            "2021-10-31T04:00:00+02:00",
        ],
    },
    Case {
        what: "Riga fall back: starting late in the first pass still reaches the second pass",
        expr: "*/30 * * * *",
        tz: "Europe/Riga",
        after: "2021-10-31T03:40:00+03:00",
        expect: &[
            "2021-10-31T03:00:00+02:00",
            "2021-10-31T03:30:00+02:00",
            "2021-10-31T04:00:00+02:00",
        ],
    },
    Case {
        what: "Riga fall back: starting in the second pass does not go back to the first",
        expr: "*/30 * * * *",
        tz: "Europe/Riga",
        after: "2021-10-31T03:10:00+02:00",
        expect: &["2021-10-31T03:30:00+02:00", "2021-10-31T04:00:00+02:00"],
    },
    Case {
        what: "Riga spring forward: a step job skips the missing hour, adds nothing",
        expr: "*/30 * * * *",
        tz: "Europe/Riga",
        after: "2021-03-28T02:10:00+02:00",
        expect: &[
            "2021-03-28T02:30:00+02:00",
            "2021-03-28T04:00:00+03:00",
            "2021-03-28T04:30:00+03:00",
        ],
    },
    // --- America/New_York daylight saving ---
    Case {
        what: "New York spring forward: 02:30 does not exist on 03-10",
        expr: "30 2 * * *",
        tz: "America/New_York",
        after: "2024-03-09T00:00:00-05:00",
        expect: &[
            "2024-03-09T02:30:00-05:00",
            "2024-03-10T03:00:00-04:00",
            "2024-03-11T02:30:00-04:00",
        ],
    },
    Case {
        what: "New York fall back: 01:30 happens twice on 11-03, runs once",
        expr: "30 1 * * *",
        tz: "America/New_York",
        after: "2024-11-02T00:00:00-04:00",
        expect: &[
            "2024-11-02T01:30:00-04:00",
            "2024-11-03T01:30:00-04:00",
            "2024-11-04T01:30:00-05:00",
        ],
    },
    Case {
        what: "New York spring forward: hourly skips 02:00",
        expr: "0 * * * *",
        tz: "America/New_York",
        after: "2024-03-10T00:30:00-05:00",
        expect: &[
            "2024-03-10T01:00:00-05:00",
            "2024-03-10T03:00:00-04:00",
            "2024-03-10T04:00:00-04:00",
        ],
    },
    Case {
        what: "New York fall back: hourly runs at 01:00 twice",
        expr: "0 * * * *",
        tz: "America/New_York",
        after: "2024-11-03T00:30:00-04:00",
        expect: &[
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T02:00:00-05:00",
        ],
    },
    // --- L: last day ---
    Case {
        what: "L is the last day of each month, Feb 29 in a leap year",
        expr: "0 0 L * *",
        tz: "UTC",
        after: "2024-01-15T00:00:00Z",
        expect: &[
            "2024-01-31T00:00:00+00:00",
            "2024-02-29T00:00:00+00:00",
            "2024-03-31T00:00:00+00:00",
            "2024-04-30T00:00:00+00:00",
        ],
    },
    Case {
        what: "L in February: 28th in common years, 29th in leap years",
        expr: "0 0 L 2 *",
        tz: "UTC",
        after: "2023-01-01T00:00:00Z",
        expect: &[
            "2023-02-28T00:00:00+00:00",
            "2024-02-29T00:00:00+00:00",
            "2025-02-28T00:00:00+00:00",
        ],
    },
    Case {
        what: "L in February: 2100 is not a leap year",
        expr: "0 0 L 2 *",
        tz: "UTC",
        after: "2099-06-01T00:00:00Z",
        expect: &["2100-02-28T00:00:00+00:00", "2101-02-28T00:00:00+00:00"],
    },
    Case {
        what: "L in a zone: the local last day, not UTC's",
        expr: "0 0 L 2 *",
        tz: "Europe/Riga",
        after: "2024-01-01T00:00:00+02:00",
        expect: &["2024-02-29T00:00:00+02:00", "2025-02-28T00:00:00+02:00"],
    },
    Case {
        what: "5L is the last Friday of the month",
        expr: "0 9 * * 5L",
        tz: "UTC",
        after: "2024-01-01T00:00:00Z",
        expect: &[
            "2024-01-26T09:00:00+00:00",
            "2024-02-23T09:00:00+00:00",
            "2024-03-29T09:00:00+00:00",
            "2024-04-26T09:00:00+00:00",
        ],
    },
    // --- W: nearest weekday ---
    Case {
        what: "1W: Saturday the 1st moves to Monday the 3rd, never back into the previous month",
        expr: "0 9 1W * *",
        tz: "UTC",
        after: "2024-05-15T00:00:00Z",
        expect: &[
            "2024-06-03T09:00:00+00:00", // Jun 1 is a Saturday
            "2024-07-01T09:00:00+00:00", // Monday
            "2024-08-01T09:00:00+00:00", // Thursday
            "2024-09-02T09:00:00+00:00", // Sep 1 is a Sunday
        ],
    },
    Case {
        what: "15W: Saturday to Friday, Sunday to Monday",
        expr: "0 9 15W * *",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &[
            "2024-06-14T09:00:00+00:00", // Jun 15 is a Saturday
            "2024-07-15T09:00:00+00:00", // Monday
            "2024-08-15T09:00:00+00:00", // Thursday
            "2024-09-16T09:00:00+00:00", // Sep 15 is a Sunday
        ],
    },
    Case {
        what: "30W: Sunday the 30th moves back to Friday, never into the next month",
        expr: "0 9 30W * *",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &[
            "2024-06-28T09:00:00+00:00", // Jun 30 is a Sunday
            "2024-07-30T09:00:00+00:00", // Tuesday
            "2024-08-30T09:00:00+00:00", // Friday
        ],
    },
    Case {
        what: "LW is the last weekday of the month",
        expr: "0 9 LW * *",
        tz: "UTC",
        after: "2024-03-01T00:00:00Z",
        expect: &[
            "2024-03-29T09:00:00+00:00", // Mar 31 is a Sunday
            "2024-04-30T09:00:00+00:00",
            "2024-05-31T09:00:00+00:00",
            "2024-06-28T09:00:00+00:00", // Jun 30 is a Sunday
        ],
    },
    // --- #: nth weekday ---
    Case {
        what: "5#5 skips months without a fifth Friday",
        expr: "0 9 * * 5#5",
        tz: "UTC",
        after: "2024-01-01T00:00:00Z",
        expect: &[
            "2024-03-29T09:00:00+00:00",
            "2024-05-31T09:00:00+00:00",
            "2024-08-30T09:00:00+00:00",
            "2024-11-29T09:00:00+00:00",
        ],
    },
    Case {
        what: "MON#1 is the first Monday",
        expr: "0 9 * * MON#1",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &[
            "2024-06-03T09:00:00+00:00",
            "2024-07-01T09:00:00+00:00",
            "2024-08-05T09:00:00+00:00",
            "2024-09-02T09:00:00+00:00",
        ],
    },
    // --- day-of-month OR day-of-week ---
    Case {
        what: "both restricted: the 1st OR every Friday",
        expr: "0 9 1 * 5",
        tz: "UTC",
        after: "2024-03-25T00:00:00Z",
        expect: &[
            "2024-03-29T09:00:00+00:00", // Friday
            "2024-04-01T09:00:00+00:00", // the 1st, a Monday
            "2024-04-05T09:00:00+00:00", // Friday
            "2024-04-12T09:00:00+00:00", // Friday
        ],
    },
    Case {
        what: "day-of-week only: Fridays, not the 1st",
        expr: "0 9 * * 5",
        tz: "UTC",
        after: "2024-03-25T00:00:00Z",
        expect: &[
            "2024-03-29T09:00:00+00:00",
            "2024-04-05T09:00:00+00:00",
            "2024-04-12T09:00:00+00:00",
        ],
    },
    Case {
        what: "day-of-month only: the 1st, not Fridays",
        expr: "0 9 1 * *",
        tz: "UTC",
        after: "2024-03-25T00:00:00Z",
        expect: &[
            "2024-04-01T09:00:00+00:00",
            "2024-05-01T09:00:00+00:00",
            "2024-06-01T09:00:00+00:00",
        ],
    },
    // --- ? ---
    Case {
        what: "? in day-of-week: only the 15th (no OR with every day)",
        expr: "0 12 15 * ?",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &[
            "2024-06-15T12:00:00+00:00",
            "2024-07-15T12:00:00+00:00",
            "2024-08-15T12:00:00+00:00",
        ],
    },
    Case {
        what: "? in day-of-month: only Mondays",
        expr: "0 12 ? * MON",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &[
            "2024-06-03T12:00:00+00:00",
            "2024-06-10T12:00:00+00:00",
            "2024-06-17T12:00:00+00:00",
        ],
    },
    Case {
        what: "Quartz-style 6 fields with ?: weekdays at 08:30",
        expr: "0 30 8 ? * MON-FRI",
        tz: "UTC",
        after: "2024-06-14T09:00:00Z", // a Friday, after 08:30
        expect: &["2024-06-17T08:30:00+00:00", "2024-06-18T08:30:00+00:00"],
    },
    // --- names ---
    Case {
        what: "month names, any case",
        expr: "0 0 1 jan,JUL *",
        tz: "UTC",
        after: "2024-02-01T00:00:00Z",
        expect: &[
            "2024-07-01T00:00:00+00:00",
            "2025-01-01T00:00:00+00:00",
            "2025-07-01T00:00:00+00:00",
        ],
    },
    Case {
        what: "weekday names, any case",
        expr: "0 8 * * SAT,sun",
        tz: "UTC",
        after: "2024-06-03T00:00:00Z", // a Monday
        expect: &[
            "2024-06-08T08:00:00+00:00",
            "2024-06-09T08:00:00+00:00",
            "2024-06-15T08:00:00+00:00",
        ],
    },
    Case {
        what: "weekday name range",
        expr: "0 8 * * mon-fri",
        tz: "UTC",
        after: "2024-06-07T09:00:00Z", // a Friday, after 08:00
        expect: &["2024-06-10T08:00:00+00:00", "2024-06-11T08:00:00+00:00"],
    },
    // --- 7 is Sunday ---
    Case {
        what: "7 is Sunday",
        expr: "0 0 * * 7",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z", // a Saturday
        expect: &["2024-06-02T00:00:00+00:00", "2024-06-09T00:00:00+00:00"],
    },
    Case {
        what: "0 is Sunday too",
        expr: "0 0 * * 0",
        tz: "UTC",
        after: "2024-06-01T00:00:00Z",
        expect: &["2024-06-02T00:00:00+00:00", "2024-06-09T00:00:00+00:00"],
    },
    Case {
        what: "5-7 is Friday to Sunday",
        expr: "0 0 * * 5-7",
        tz: "UTC",
        after: "2024-06-03T00:00:00Z", // a Monday
        expect: &[
            "2024-06-07T00:00:00+00:00",
            "2024-06-08T00:00:00+00:00",
            "2024-06-09T00:00:00+00:00",
            "2024-06-14T00:00:00+00:00",
        ],
    },
    // --- 6 fields: seconds first ---
    Case {
        what: "6 fields: every 20 seconds",
        expr: "*/20 * * * * *",
        tz: "UTC",
        after: "2024-01-01T00:00:00Z",
        expect: &[
            "2024-01-01T00:00:20+00:00",
            "2024-01-01T00:00:40+00:00",
            "2024-01-01T00:01:00+00:00",
        ],
    },
    Case {
        what: "6 fields: a fixed second",
        expr: "30 15 10 * * *",
        tz: "UTC",
        after: "2024-01-01T00:00:00Z",
        expect: &["2024-01-01T10:15:30+00:00", "2024-01-02T10:15:30+00:00"],
    },
    // --- macros, from Saturday 2024-06-01 12:34 ---
    Case {
        what: "@hourly",
        expr: "@hourly",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-06-01T13:00:00+00:00", "2024-06-01T14:00:00+00:00"],
    },
    Case {
        what: "@daily",
        expr: "@daily",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-06-02T00:00:00+00:00", "2024-06-03T00:00:00+00:00"],
    },
    Case {
        what: "@midnight",
        expr: "@midnight",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-06-02T00:00:00+00:00", "2024-06-03T00:00:00+00:00"],
    },
    Case {
        what: "@weekly is Sunday midnight",
        expr: "@weekly",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-06-02T00:00:00+00:00", "2024-06-09T00:00:00+00:00"],
    },
    Case {
        what: "@monthly",
        expr: "@monthly",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-07-01T00:00:00+00:00", "2024-08-01T00:00:00+00:00"],
    },
    Case {
        what: "@yearly",
        expr: "@yearly",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2025-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"],
    },
    Case {
        what: "@annually",
        expr: "@annually",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2025-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"],
    },
    Case {
        what: "macros ignore case and surrounding spaces",
        expr: "  @DAILY ",
        tz: "UTC",
        after: "2024-06-01T12:34:00Z",
        expect: &["2024-06-02T00:00:00+00:00"],
    },
    Case {
        what: "@daily runs at local midnight in the job's zone",
        expr: "@daily",
        tz: "Asia/Tokyo",
        after: "2024-06-01T12:34:00+09:00",
        expect: &["2024-06-02T00:00:00+09:00"],
    },
    // --- where `after` falls ---
    Case {
        what: "strictly after: a fire time equal to `after` is not returned",
        expr: "15 3 * * *",
        tz: "UTC",
        after: "2024-01-01T03:15:00Z",
        expect: &["2024-01-02T03:15:00+00:00"],
    },
    Case {
        what: "a fractional `after` just before a fire time",
        expr: "15 3 * * *",
        tz: "UTC",
        after: "2024-01-01T03:14:59.500Z",
        expect: &["2024-01-01T03:15:00+00:00"],
    },
    Case {
        what: "a fractional `after` just past a fire time",
        expr: "15 3 * * *",
        tz: "UTC",
        after: "2024-01-01T03:15:00.500Z",
        expect: &["2024-01-02T03:15:00+00:00"],
    },
    Case {
        what: "the year rolls over",
        expr: "59 23 31 12 *",
        tz: "UTC",
        after: "2024-12-31T23:59:00Z",
        expect: &["2025-12-31T23:59:00+00:00"],
    },
];

#[test]
fn cron_fire_times() {
    let mut failures = Vec::new();
    for case in CASES {
        let schedule = cron(case.expr, case.tz);
        let got = next_n(&schedule, case.tz, case.after, case.expect.len());
        if got != case.expect {
            failures.push(format!(
                "{} ({:?} in {} after {}):\n  expected {:?}\n  got      {:?}",
                case.what, case.expr, case.tz, case.after, case.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn impossible_dates_never_fire_and_return_quickly() {
    for expr in [
        "0 0 31 2 *",
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 *",
        "0 0 0 30 2 *",
    ] {
        let schedule = cron(expr, "Europe/Riga");
        let started = Instant::now();
        assert_eq!(
            schedule.next_after(utc("2024-01-01T00:00:00Z")),
            None,
            "{expr}"
        );
        assert!(
            preview(&schedule, utc("2024-01-01T00:00:00Z"), 5).is_empty(),
            "{expr}"
        );
        let took = started.elapsed();
        assert!(
            took < StdDuration::from_secs(10),
            "{expr}: took {took:?} to find nothing"
        );
    }
}

#[test]
fn rejected_expressions_say_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("", "is required"),
        ("   ", "is required"),
        ("61 * * * *", "is not a valid cron expression"),
        ("0 24 * * *", "is not a valid cron expression"),
        ("0 0 32 * *", "is not a valid cron expression"),
        ("0 0 0 * *", "is not a valid cron expression"),
        ("0 0 1 13 *", "is not a valid cron expression"),
        ("0 0 * * 8", "is not a valid cron expression"),
        ("0 0 * * FRY", "is not a valid cron expression"),
        ("* * * *", "has 4 fields"),
        ("*", "has 1 field:"),
        ("0 0 0 1 1 * 2030", "has 7 fields"),
        ("@fortnightly", "@fortnightly is not a known shortcut"),
        ("@reboot", "@reboot is not a known shortcut"),
    ];
    for (expr, fragment) in cases {
        match CronSchedule::parse(expr) {
            Ok(_) => panic!("{expr:?} was accepted"),
            Err(message) => assert!(
                message.contains(fragment),
                "{expr:?}: {message:?} does not contain {fragment:?}"
            ),
        }
    }
}

#[test]
fn parse_keeps_the_expression_as_written_without_outer_spaces() {
    assert_eq!(
        CronSchedule::parse("  0 9 * * 1-5 ").unwrap().expr(),
        "0 9 * * 1-5"
    );
    assert_eq!(CronSchedule::parse("@daily").unwrap().expr(), "@daily");
}

#[test]
fn describe_in_plain_words() {
    let cases: &[(&str, &str)] = &[
        (
            "0 9 * * 1-5",
            "At 09:00, on Monday, Tuesday, Wednesday, Thursday, and Friday.",
        ),
        ("15 3 * * *", "At 03:15."),
        ("30 15 10 * * *", "At 10:15:30."),
        ("*/15 * * * *", "At every 15 minutes."),
        ("0 9 1 * 5", "At 09:00, on day 1 or Friday."),
        (
            "0 0 L 2 *",
            "At 00:00, on the last day of the month, in February.",
        ),
        ("0 9 15W * *", "At 09:00, on the weekday nearest day 15."),
        ("0 9 * * 5#5", "At 09:00, on the 5th Friday of the month."),
        ("0 12 ? * MON", "At 12:00, on Monday."),
        ("@weekly", "At 00:00, on Sunday."),
        ("@yearly", "At 00:00, on day 1, in January."),
    ];
    for (expr, words) in cases {
        assert_eq!(
            CronSchedule::parse(expr).unwrap().describe(),
            *words,
            "{expr}"
        );
    }
}

#[test]
fn fixed_time_jobs_are_told_apart_from_repeating_ones() {
    for (expr, fixed) in [
        ("15 3 * * *", true),
        ("0 9 * * 1-5", true),
        ("30 15 10 * * *", true),
        ("@daily", true),
        ("*/30 * * * *", false),
        ("0 9,17 * * *", false),
        ("0 * * * *", false),
    ] {
        assert_eq!(cron(expr, "UTC").is_fixed_time(), fixed, "{expr}");
    }
}

#[test]
fn zones_resolve_by_iana_name() {
    assert_eq!(
        resolve_zone(Some("Europe/Riga")),
        Ok(chrono_tz::Europe::Riga)
    );
    assert_eq!(
        resolve_zone(Some(" America/New_York ")),
        Ok(chrono_tz::America::New_York)
    );
    assert_eq!(resolve_zone(None), Ok(system_zone()));
    for bad in ["Mars/Olympus_Mons", "", "EEST+3", "europe/riga!"] {
        let message = resolve_zone(Some(bad)).unwrap_err();
        assert!(
            message.contains("is not an IANA time zone name"),
            "{bad:?}: {message}"
        );
    }
}

#[test]
fn fires_between_is_inclusive_of_until_and_capped_by_limit() {
    let hourly = cron("0 * * * *", "UTC");
    let after = utc("2024-01-01T00:00:00Z");
    let until = utc("2024-01-01T03:00:00Z");
    assert_eq!(
        hourly.fires_between(after, until, 100),
        vec![
            utc("2024-01-01T01:00:00Z"),
            utc("2024-01-01T02:00:00Z"),
            utc("2024-01-01T03:00:00Z"),
        ]
    );
    assert_eq!(
        hourly.fires_between(after, until, 2),
        vec![utc("2024-01-01T01:00:00Z"), utc("2024-01-01T02:00:00Z")]
    );
    assert!(hourly.fires_between(after, after, 10).is_empty());
}

// --- interval schedules ---

fn interval(every: u64, unit: IntervalUnit, anchor: Option<&str>) -> Schedule {
    let trigger = Trigger::Interval {
        every,
        unit,
        anchor: anchor.map(utc),
    };
    Schedule::from_trigger(&trigger, utc("2000-01-01T00:00:00Z")).unwrap()
}

struct IntervalCase {
    what: &'static str,
    every: u64,
    unit: IntervalUnit,
    anchor: Option<&'static str>,
    after: &'static str,
    expect: &'static [&'static str],
}

const INTERVAL_CASES: &[IntervalCase] = &[
    IntervalCase {
        what: "slots every 15 minutes from the anchor",
        every: 15,
        unit: IntervalUnit::Minutes,
        anchor: Some("2024-01-01T00:00:00Z"),
        after: "2024-01-01T00:20:00Z",
        expect: &[
            "2024-01-01T00:30:00+00:00",
            "2024-01-01T00:45:00+00:00",
            "2024-01-01T01:00:00+00:00",
        ],
    },
    IntervalCase {
        what: "after a two-day gap: the first slot after `after`, still aligned to the anchor",
        every: 15,
        unit: IntervalUnit::Minutes,
        anchor: Some("2024-01-01T00:00:00Z"),
        after: "2024-01-03T07:59:59Z",
        expect: &["2024-01-03T08:00:00+00:00", "2024-01-03T08:15:00+00:00"],
    },
    IntervalCase {
        what: "strictly after: `after` on a slot gives the next one",
        every: 15,
        unit: IntervalUnit::Minutes,
        anchor: Some("2024-01-01T00:00:00Z"),
        after: "2024-01-03T08:00:00Z",
        expect: &["2024-01-03T08:15:00+00:00"],
    },
    IntervalCase {
        what: "odd period and anchor: slots at 3 + 7k seconds",
        every: 7,
        unit: IntervalUnit::Seconds,
        anchor: Some("2024-01-01T00:00:03Z"),
        after: "2024-01-01T01:00:00Z",
        expect: &["2024-01-01T01:00:01+00:00", "2024-01-01T01:00:08+00:00"],
    },
    IntervalCase {
        what: "every 2 hours from 00:30, sixty days later",
        every: 2,
        unit: IntervalUnit::Hours,
        anchor: Some("2024-01-01T00:30:00Z"),
        after: "2024-03-01T00:00:00Z",
        expect: &["2024-03-01T00:30:00+00:00", "2024-03-01T02:30:00+00:00"],
    },
    IntervalCase {
        what: "an anchor in the future: the first run is at the anchor, none before",
        every: 1,
        unit: IntervalUnit::Hours,
        anchor: Some("2024-06-01T09:00:00Z"),
        after: "2024-05-20T00:00:00Z",
        expect: &["2024-06-01T09:00:00+00:00", "2024-06-01T10:00:00+00:00"],
    },
    IntervalCase {
        what: "no anchor: counted from the default anchor",
        every: 10,
        unit: IntervalUnit::Minutes,
        anchor: None, // default anchor 2000-01-01T00:00:00Z
        after: "2024-01-01T00:05:00Z",
        expect: &["2024-01-01T00:10:00+00:00"],
    },
];

#[test]
fn interval_slots() {
    let mut failures = Vec::new();
    for case in INTERVAL_CASES {
        let schedule = interval(case.every, case.unit, case.anchor);
        let got = next_n(&schedule, "UTC", case.after, case.expect.len());
        if got != case.expect {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                case.what, case.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn interval_of_zero_or_overflowing_length_is_refused() {
    let zero = Trigger::Interval {
        every: 0,
        unit: IntervalUnit::Seconds,
        anchor: None,
    };
    assert!(Schedule::from_trigger(&zero, utc("2024-01-01T00:00:00Z")).is_err());
    let huge = Trigger::Interval {
        every: u64::MAX,
        unit: IntervalUnit::Hours,
        anchor: None,
    };
    assert!(Schedule::from_trigger(&huge, utc("2024-01-01T00:00:00Z")).is_err());
}

#[test]
fn interval_past_the_end_of_time_is_none_not_a_panic() {
    // 5·10^15 s is about 158 million years: a valid duration, but no date that far exists.
    let vast = interval(
        5_000_000_000_000_000,
        IntervalUnit::Seconds,
        Some("2024-01-01T00:00:00Z"),
    );
    assert_eq!(vast.next_after(utc("2024-01-01T00:00:00Z")), None);
    let hourly = interval(1, IntervalUnit::Hours, Some("2024-01-01T00:00:00Z"));
    assert_eq!(hourly.next_after(DateTime::<Utc>::MAX_UTC), None);
}

// --- once, manual, after-job ---

#[test]
fn once_fires_only_before_its_instant() {
    let trigger = Trigger::Once {
        at: utc("2024-05-01T12:00:00Z"),
    };
    let once = Schedule::from_trigger(&trigger, utc("2024-01-01T00:00:00Z")).unwrap();
    assert_eq!(
        once.next_after(utc("2024-04-30T00:00:00Z")),
        Some(utc("2024-05-01T12:00:00Z"))
    );
    assert_eq!(
        once.next_after(utc("2024-05-01T11:59:59Z")),
        Some(utc("2024-05-01T12:00:00Z"))
    );
    assert_eq!(once.next_after(utc("2024-05-01T12:00:00Z")), None);
    assert_eq!(once.next_after(utc("2025-01-01T00:00:00Z")), None);
    assert!(once.is_fixed_time());
}

#[test]
fn manual_and_after_job_triggers_never_fire_on_the_clock() {
    let manual: Trigger = serde_json::from_str(r#"{"type": "manual"}"#).unwrap();
    let after_job: Trigger = serde_json::from_str(
        r#"{"type": "after_job", "job_id": "01HZX3J5Q0ZQ8K7T2V9W4B6C1D", "on": "success"}"#,
    )
    .unwrap();
    for trigger in [manual, after_job] {
        let schedule = Schedule::from_trigger(&trigger, utc("2024-01-01T00:00:00Z")).unwrap();
        assert_eq!(schedule.next_after(utc("2024-01-01T00:00:00Z")), None);
    }
}

// --- preview and its daylight-saving notes ---

fn fire(local: &str, dst: Option<DstNote>) -> FireTime {
    FireTime {
        at: utc(local),
        local: local.to_string(),
        dst,
    }
}

#[test]
fn preview_notes_a_run_moved_past_the_spring_gap() {
    let schedule = cron("15 3 * * *", "Europe/Riga");
    assert_eq!(
        preview(&schedule, utc("2021-03-27T00:00:00+02:00"), 3),
        vec![
            fire("2021-03-27T03:15:00+02:00", None),
            fire("2021-03-28T04:00:00+03:00", Some(DstNote::MovedAfterGap)),
            fire("2021-03-29T03:15:00+03:00", None),
        ]
    );
}

#[test]
fn preview_notes_both_passes_of_the_repeated_hour() {
    let schedule = cron("*/30 * * * *", "Europe/Riga");
    assert_eq!(
        preview(&schedule, utc("2021-10-31T02:10:00+03:00"), 6),
        vec![
            fire("2021-10-31T02:30:00+03:00", None),
            fire(
                "2021-10-31T03:00:00+03:00",
                Some(DstNote::RepeatedFirstPass)
            ),
            fire(
                "2021-10-31T03:30:00+03:00",
                Some(DstNote::RepeatedFirstPass)
            ),
            fire(
                "2021-10-31T03:00:00+02:00",
                Some(DstNote::RepeatedSecondPass)
            ),
            fire(
                "2021-10-31T03:30:00+02:00",
                Some(DstNote::RepeatedSecondPass)
            ),
            fire("2021-10-31T04:00:00+02:00", None),
        ]
    );
}

#[test]
fn preview_notes_a_fixed_time_run_in_the_repeated_hour() {
    let schedule = cron("15 3 * * *", "Europe/Riga");
    assert_eq!(
        preview(&schedule, utc("2021-10-30T12:00:00+03:00"), 2),
        vec![
            fire(
                "2021-10-31T03:15:00+03:00",
                Some(DstNote::RepeatedFirstPass)
            ),
            fire("2021-11-01T03:15:00+02:00", None),
        ]
    );
}

#[test]
fn preview_of_an_interval_is_in_utc_without_notes() {
    let schedule = interval(1, IntervalUnit::Hours, Some("2021-03-28T00:00:00Z"));
    assert_eq!(
        preview(&schedule, utc("2021-03-28T00:30:00Z"), 2),
        vec![
            fire("2021-03-28T01:00:00+00:00", None),
            fire("2021-03-28T02:00:00+00:00", None),
        ]
    );
}

#[test]
fn dst_notes_have_words_for_the_editor() {
    assert!(DstNote::MovedAfterGap.words().contains("runs right after"));
    assert!(DstNote::RepeatedFirstPass.words().contains("first pass"));
    assert!(DstNote::RepeatedSecondPass.words().contains("second pass"));
}

// --- trigger descriptions ---

#[test]
fn describe_trigger_in_plain_words() {
    let cases: Vec<(Trigger, Option<&str>, &str)> = vec![
        (
            Trigger::Cron {
                expr: "15 3 * * *".into(),
                timezone: Some("Europe/Riga".into()),
            },
            None,
            "At 03:15 (Europe/Riga)",
        ),
        (
            Trigger::Interval {
                every: 1,
                unit: IntervalUnit::Minutes,
                anchor: None,
            },
            None,
            "Every minute",
        ),
        (
            Trigger::Interval {
                every: 15,
                unit: IntervalUnit::Seconds,
                anchor: None,
            },
            None,
            "Every 15 seconds",
        ),
        (
            Trigger::Once {
                at: utc("2024-05-01T12:00:00Z"),
            },
            None,
            "Once, at 2024-05-01T12:00:00+00:00",
        ),
        (Trigger::Manual, None, "Only when run by hand"),
        (
            serde_json::from_str(
                r#"{"type": "after_job", "job_id": "01HZX3J5Q0ZQ8K7T2V9W4B6C1D", "on": "failure"}"#,
            )
            .unwrap(),
            Some("Producer"),
            "After “Producer” fails",
        ),
        (
            serde_json::from_str(
                r#"{"type": "after_job", "job_id": "01HZX3J5Q0ZQ8K7T2V9W4B6C1D", "on": "any"}"#,
            )
            .unwrap(),
            None,
            "After 01HZX3J5Q0ZQ8K7T2V9W4B6C1D finishes",
        ),
    ];
    for (trigger, upstream, words) in cases {
        assert_eq!(describe_trigger(&trigger, upstream), words, "{trigger:?}");
    }
    let bad = Trigger::Cron {
        expr: "61 * * * *".into(),
        timezone: None,
    };
    assert!(describe_trigger(&bad, None).starts_with("invalid schedule: "));
}
