//! Fire times: cron expressions through `croner` in an IANA zone, intervals, one-off instants.
//!
//! Everything here is a pure function of its inputs (no clock): the scheduler, the editor's
//! preview and `sundialctl next` all call the same code, so they cannot disagree.
//!
//! Daylight-saving behaviour follows cronie's cron(8), as croner 4 implements it: a
//! fixed-time job (single second, minute and hour) whose time falls in a skipped hour runs once
//! right after the gap and runs once in a repeated hour; wildcard, step and list jobs skip the
//! gap and run in both passes of a repeated hour.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

use crate::domain::Trigger;

/// A parsed, valid cron expression.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
    expr: String,
}

/// The `@` shortcuts and the 5-field expressions they stand for.
pub const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

impl CronSchedule {
    /// Parses 5 fields (minute first) or 6 (seconds first), or an `@` macro.
    /// Day-of-month and day-of-week combine with OR when both are restricted, as in Vixie cron.
    pub fn parse(expr: &str) -> Result<Self, String> {
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err("is required: a cron expression such as `0 9 * * 1-5`".into());
        }
        let expanded = if trimmed.starts_with('@') {
            let lower = trimmed.to_ascii_lowercase();
            match MACROS.iter().find(|(name, _)| *name == lower) {
                Some((_, fields)) => (*fields).to_string(),
                None => {
                    return Err(format!(
                        "{trimmed} is not a known shortcut: use @hourly, @daily, @weekly, @monthly or @yearly"
                    ));
                }
            }
        } else {
            trimmed.to_string()
        };
        let fields = expanded.split_whitespace().count();
        if fields != 5 && fields != 6 {
            return Err(format!(
                "has {fields} field{}: expected 5 (minute hour day-of-month month day-of-week) or 6 (with seconds first)",
                if fields == 1 { "" } else { "s" }
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .dom_and_dow(false)
            .build();
        let cron = parser
            .parse(&expanded)
            .map_err(|e| out_of_range(&expanded).unwrap_or_else(|| describe_parse_error(&e)))?;
        Ok(Self {
            cron,
            expr: trimmed.to_string(),
        })
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first fire instant strictly after `after`, or `None` when it never fires again.
    pub fn next_after(&self, zone: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_timezone(&zone);
        self.cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Plain English, such as "At 09:00, on Monday through Friday."
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    /// True when seconds, minute and hour are single values: such a job runs once after a DST
    /// gap and once in a repeated hour.
    pub fn is_fixed_time(&self) -> bool {
        self.cron.determine_job_type() == croner::JobType::FixedTime
    }

    /// True when `local` (wall clock in the job's zone) matches the expression.
    fn matches_wall_clock(&self, local: NaiveDateTime) -> bool {
        self.cron
            .is_time_matching(&Utc.from_utc_datetime(&local))
            .unwrap_or(false)
    }
}

/// Which field holds a number outside its range, said the way a person can fix it (croner
/// only says "Number out of bounds").
fn out_of_range(expr: &str) -> Option<String> {
    const FIVE: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day-of-month", 1, 31),
        ("month", 1, 12),
        ("day-of-week", 0, 7),
    ];
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let names: Vec<(&str, u32, u32)> = match fields.len() {
        5 => FIVE.to_vec(),
        6 => std::iter::once(("second", 0, 59)).chain(FIVE).collect(),
        _ => return None,
    };
    for (field, (name, min, max)) in fields.iter().zip(names) {
        for part in field.split(',') {
            // The step after `/` is a count, not a value of the field.
            let values = part.split('/').next().unwrap_or(part);
            for number in values.split('-') {
                let Ok(n) = number.trim_end_matches(['L', 'W']).parse::<u32>() else {
                    continue;
                };
                if n < min || n > max {
                    return Some(format!(
                        "is not a valid cron expression: the {name} field has {n}, but a {name} is {min} to {max}"
                    ));
                }
            }
        }
    }
    None
}

fn describe_parse_error(e: &croner::errors::CronError) -> String {
    use croner::errors::CronError as E;
    match e {
        E::EmptyPattern => "is required: a cron expression such as `0 9 * * 1-5`".into(),
        E::IllegalCharacters(m) | E::InvalidPattern(m) | E::ComponentError(m) => {
            format!(
                "is not a valid cron expression: {}",
                m.trim_end_matches('.')
            )
        }
        other => format!("is not a valid cron expression: {other}"),
    }
}

/// The zone named `name`, or the system's zone when `None`.
pub fn resolve_zone(name: Option<&str>) -> Result<Tz, String> {
    match name {
        Some(name) => Tz::from_str(name.trim()).map_err(|_| {
            format!(
                "{name:?} is not an IANA time zone name such as Europe/Riga or America/New_York"
            )
        }),
        None => Ok(system_zone()),
    }
}

/// The system's IANA zone; UTC when it cannot be determined.
pub fn system_zone() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| Tz::from_str(&n).ok())
        .unwrap_or(Tz::UTC)
}

/// A trigger compiled for evaluation.
#[derive(Debug, Clone)]
pub enum Schedule {
    Cron {
        cron: Box<CronSchedule>,
        zone: Tz,
    },
    Interval {
        anchor: DateTime<Utc>,
        period: Duration,
    },
    Once {
        at: DateTime<Utc>,
    },
    /// Manual and after-job triggers never fire on the clock.
    Never,
}

impl Schedule {
    /// Compiles a trigger. `default_anchor` is used for an interval without an anchor; a cron
    /// job without a zone of its own follows the system's zone as it is now.
    pub fn from_trigger(trigger: &Trigger, default_anchor: DateTime<Utc>) -> Result<Self, String> {
        Self::from_trigger_in(trigger, default_anchor, system_zone())
    }

    /// As [`Schedule::from_trigger`], with `system` standing for the system's zone (the
    /// scheduler passes the zone its clock reports, so a zone change is seen at one moment).
    pub fn from_trigger_in(
        trigger: &Trigger,
        default_anchor: DateTime<Utc>,
        system: Tz,
    ) -> Result<Self, String> {
        Ok(match trigger {
            Trigger::Cron { expr, timezone } => Schedule::Cron {
                cron: Box::new(CronSchedule::parse(expr)?),
                zone: match timezone.as_deref() {
                    Some(name) => resolve_zone(Some(name))?,
                    None => system,
                },
            },
            Trigger::Interval {
                every,
                unit,
                anchor,
            } => {
                let secs = every.saturating_mul(unit.seconds());
                if secs == 0 {
                    return Err("an interval must be at least 1 second".into());
                }
                let period = i64::try_from(secs)
                    .ok()
                    .and_then(Duration::try_seconds)
                    .ok_or_else(|| format!("an interval of {secs} seconds is too long"))?;
                Schedule::Interval {
                    anchor: whole_ms(anchor.unwrap_or(default_anchor)),
                    period,
                }
            }
            Trigger::Once { at } => Schedule::Once { at: whole_ms(*at) },
            Trigger::Manual
            | Trigger::AfterJob { .. }
            | Trigger::AtStart { .. }
            | Trigger::OnWake { .. }
            | Trigger::FileArrives { .. } => Schedule::Never,
        })
    }

    /// The first fire instant strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, zone } => cron.next_after(*zone, after),
            Schedule::Interval { anchor, period } => next_interval_slot(*anchor, *period, after),
            Schedule::Once { at } => (*at > after).then_some(*at),
            Schedule::Never => None,
        }
    }

    /// The latest fire instant at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, zone } => cron
                .cron
                .find_previous_occurrence(&t.with_timezone(zone), true)
                .ok()
                .map(|x| x.with_timezone(&Utc)),
            Schedule::Interval { anchor, period } => {
                if t < *anchor {
                    return None;
                }
                let period_ms = period.num_milliseconds().max(1);
                let k = (t - *anchor).num_milliseconds().div_euclid(period_ms);
                anchor.checked_add_signed(Duration::try_milliseconds(k.checked_mul(period_ms)?)?)
            }
            Schedule::Once { at } => (*at <= t).then_some(*at),
            Schedule::Never => None,
        }
    }

    /// Fire instants in `(after, until]`, at most `limit` of them, in order.
    pub fn fires_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut cursor = after;
        while out.len() < limit {
            match self.next_after(cursor) {
                Some(t) if t <= until => {
                    out.push(t);
                    cursor = t;
                }
                _ => break,
            }
        }
        out
    }

    /// How many fire instants lie in `(after, until]`, counting at most `limit`: `(n, true)`
    /// when `n` is all of them, `(limit, false)` when there are more. Intervals are counted
    /// by arithmetic; cron schedules by walking their instants.
    pub fn count_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u64,
    ) -> (u64, bool) {
        if until <= after {
            return (0, true);
        }
        if let Schedule::Interval { anchor, period } = self {
            let period_ms = period.num_milliseconds().max(1);
            let slots_to = |t: DateTime<Utc>| -> i64 {
                // Slots anchor + k·period (k ≥ 0) at or before t, counted.
                if t < *anchor {
                    0
                } else {
                    (t - *anchor).num_milliseconds().div_euclid(period_ms) + 1
                }
            };
            let n = u64::try_from(slots_to(until) - slots_to(after)).unwrap_or(0);
            return (n.min(limit), n <= limit);
        }
        let mut n = 0u64;
        let mut cursor = after;
        while n < limit {
            match self.next_after(cursor) {
                Some(t) if t <= until => {
                    n += 1;
                    cursor = t;
                }
                _ => return (n, true),
            }
        }
        let more = self.next_after(cursor).is_some_and(|t| t <= until);
        (n, !more)
    }

    /// Whether every fire time is a single fixed wall-clock time (cronie's "fixed-time job"):
    /// such a schedule must never repeat a firing when the clock is set back.
    pub fn is_fixed_time(&self) -> bool {
        match self {
            Schedule::Cron { cron, .. } => cron.is_fixed_time(),
            Schedule::Once { .. } => true,
            Schedule::Interval { .. } | Schedule::Never => false,
        }
    }
}

/// `t` cut to whole milliseconds: the store keeps instants (cursors, runs) in milliseconds, so
/// a slot finer than that would still lie after the cursor of the firing that ran it, and fire
/// again after a restart.
fn whole_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The first slot `anchor + k·period` (k ≥ 0: nothing runs before the anchor) strictly after
/// `after`; `None` past the end of representable time.
fn next_interval_slot(
    anchor: DateTime<Utc>,
    period: Duration,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let period_ms = period.num_milliseconds().max(1);
    let delta_ms = (after - anchor).num_milliseconds();
    let k = (delta_ms.div_euclid(period_ms) + 1).max(0);
    anchor.checked_add_signed(Duration::try_milliseconds(k.checked_mul(period_ms)?)?)
}

/// How a previewed fire time relates to a daylight-saving change in the job's zone.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DstNote {
    /// The scheduled wall-clock time does not exist that day (clocks go forward); the run
    /// happens right after the gap.
    MovedAfterGap,
    /// The wall-clock time happens twice (clocks go back); this is the first pass.
    RepeatedFirstPass,
    /// The wall-clock time happens twice; this is the second pass.
    RepeatedSecondPass,
}

impl DstNote {
    pub fn words(self) -> &'static str {
        match self {
            DstNote::MovedAfterGap => {
                "the scheduled time is skipped by a daylight-saving change; runs right after it"
            }
            DstNote::RepeatedFirstPass => "this time happens twice (clocks go back); first pass",
            DstNote::RepeatedSecondPass => "this time happens twice (clocks go back); second pass",
        }
    }
}

/// One previewed fire time, with its local rendering in the job's zone.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireTime {
    pub at: DateTime<Utc>,
    /// RFC 3339 in the job's zone, such as `2021-03-28T04:00:00+03:00`.
    pub local: String,
    pub dst: Option<DstNote>,
}

/// The next `count` fire times after `after`, with daylight-saving notes.
pub fn preview(schedule: &Schedule, after: DateTime<Utc>, count: usize) -> Vec<FireTime> {
    let fires = schedule.fires_between(after, DateTime::<Utc>::MAX_UTC, count);
    fires
        .into_iter()
        .map(|at| match schedule {
            Schedule::Cron { cron, zone } => {
                let local = at.with_timezone(zone);
                let dst = dst_note(cron, *zone, at);
                FireTime {
                    at,
                    local: local.to_rfc3339(),
                    dst,
                }
            }
            _ => FireTime {
                at,
                local: at.to_rfc3339(),
                dst: None,
            },
        })
        .collect()
}

fn dst_note(cron: &CronSchedule, zone: Tz, at: DateTime<Utc>) -> Option<DstNote> {
    let wall = at.with_timezone(&zone).naive_local();
    match zone.from_local_datetime(&wall) {
        LocalResult::Ambiguous(first, _) => Some(if first.with_timezone(&Utc) == at {
            DstNote::RepeatedFirstPass
        } else {
            DstNote::RepeatedSecondPass
        }),
        _ if !cron.matches_wall_clock(wall) => Some(DstNote::MovedAfterGap),
        _ => None,
    }
}

/// Plain words for any trigger; `job_name` resolves an after-job trigger's upstream.
pub fn describe_trigger(trigger: &Trigger, upstream_name: Option<&str>) -> String {
    match trigger {
        Trigger::Cron { expr, timezone } => match CronSchedule::parse(expr) {
            Ok(cron) => {
                let zone = timezone
                    .clone()
                    .unwrap_or_else(|| system_zone().name().to_string());
                format!("{} ({zone})", cron.describe().trim_end_matches('.'))
            }
            Err(e) => format!("invalid schedule: {e}"),
        },
        Trigger::Interval { every, unit, .. } => {
            if *every == 1 {
                format!("Every {}", unit.label())
            } else {
                format!("Every {every} {}s", unit.label())
            }
        }
        Trigger::Once { at } => format!("Once, at {}", at.to_rfc3339()),
        Trigger::Manual => "Only when run by hand".to_string(),
        Trigger::AtStart { delay_secs } => {
            format!("When Sundial starts{}", after_delay(*delay_secs))
        }
        Trigger::OnWake { delay_secs } => {
            format!(
                "When the computer wakes from sleep{}",
                after_delay(*delay_secs)
            )
        }
        Trigger::FileArrives {
            folder,
            glob,
            settle_secs,
        } => {
            let which = if glob.trim() == "*" {
                "a file".to_string()
            } else {
                format!("a file matching {}", glob.trim())
            };
            let unit = if *settle_secs == 1 {
                "second"
            } else {
                "seconds"
            };
            format!(
                "When {which} arrives or changes in {folder}, once it has not changed for {settle_secs} {unit}"
            )
        }
        Trigger::AfterJob { job_id, on } => {
            let upstream = upstream_name
                .map(|n| format!("“{n}”"))
                .unwrap_or(job_id.to_string());
            match on {
                crate::domain::ChainOn::Success => format!("After {upstream} succeeds"),
                crate::domain::ChainOn::Failure => format!("After {upstream} fails"),
                crate::domain::ChainOn::Any => format!("After {upstream} finishes"),
            }
        }
    }
}

/// ", 30 s later" / ", 5 min later" / "" for an event trigger's delay.
fn after_delay(secs: u64) -> String {
    match secs {
        0 => String::new(),
        s if s % 3600 == 0 => format!(", {} h later", s / 3600),
        s if s % 60 == 0 => format!(", {} min later", s / 60),
        s => format!(", {s} s later"),
    }
}
