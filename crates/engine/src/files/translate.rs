//! Export to the schedulers users move to: systemd timers and Kubernetes CronJobs.
//!
//! Only what the target can express exactly is translated; every other job is listed in
//! [`Translation::untranslatable`] with the reason, and approximations are listed in
//! [`Translation::notes`].

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    ConditionTimeout, EnvVar, Interpreter, IntervalUnit, Job, JobKind, MissedRunMode,
    OverlapPolicy, Program, Trigger,
};
use crate::schedule::MACROS;
use crate::schedule::{CronSchedule, system_zone};

/// Files to write (name, content), and the jobs that could not be translated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub files: Vec<OutputFile>,
    pub untranslatable: Vec<Untranslatable>,
    /// Per-job remarks on things that were approximated.
    pub notes: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    pub name: String,
    pub content: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untranslatable {
    pub job: String,
    pub reason: String,
}

// ----- cron fields --------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const SYSTEMD_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A cron expression as sets of values: seconds, minutes, hours, days of month, months,
/// days of week (0 = Sunday).
#[derive(Debug, Clone)]
struct CronFields {
    seconds: BTreeSet<u32>,
    minutes: BTreeSet<u32>,
    hours: BTreeSet<u32>,
    dom: BTreeSet<u32>,
    months: BTreeSet<u32>,
    dow: BTreeSet<u32>,
    dom_restricted: bool,
    dow_restricted: bool,
    dom_starts_with_star: bool,
    dow_starts_with_star: bool,
    /// The day-of-month field is exactly `L` (the last day of the month).
    dom_last: bool,
    has_seconds: bool,
    raw: Vec<String>,
}

fn parse_value(text: &str, names: Option<&[&str]>, min: u32, max: u32) -> Result<u32, String> {
    if let Some(names) = names
        && let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text))
    {
        return Ok(i as u32 + if min == 1 { 1 } else { 0 });
    }
    let v: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if v < min || v > max {
        return Err(format!("{v} is outside {min}–{max}"));
    }
    Ok(v)
}

fn parse_field(
    field: &str,
    min: u32,
    max: u32,
    names: Option<&[&str]>,
) -> Result<BTreeSet<u32>, String> {
    let mut set = BTreeSet::new();
    for item in field.split(',') {
        if item.contains(['L', 'W', '#'])
            && !names.is_some_and(|n| n.iter().any(|n| item.to_ascii_uppercase().contains(n)))
        {
            return Err(format!("{item:?} (L, W and # have no equivalent)"));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step {s:?} is not a positive number"))?,
            ),
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                parse_value(a, names, min, max)?,
                parse_value(b, names, min, max)?,
            )
        } else {
            let v = parse_value(range, names, min, max)?;
            (v, if item.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(format!("range {range:?} goes backwards"));
        }
        let mut v = lo;
        while v <= hi {
            set.insert(v);
            v += step;
        }
    }
    Ok(set)
}

fn parse_cron(expr: &str) -> Result<CronFields, String> {
    CronSchedule::parse(expr)?;
    let trimmed = expr.trim();
    let expanded = if trimmed.starts_with('@') {
        let lower = trimmed.to_ascii_lowercase();
        MACROS
            .iter()
            .find(|(m, _)| *m == lower)
            .map(|(_, f)| f.to_string())
            .ok_or_else(|| format!("{trimmed} is not a known shortcut"))?
    } else {
        trimmed.to_string()
    };
    let mut raw: Vec<String> = expanded.split_whitespace().map(str::to_string).collect();
    let has_seconds = raw.len() == 6;
    if !has_seconds {
        raw.insert(0, "0".into());
    }
    let dom_last = raw[3].eq_ignore_ascii_case("L");
    let seconds = parse_field(&raw[0], 0, 59, None).map_err(|e| format!("seconds: {e}"))?;
    let minutes = parse_field(&raw[1], 0, 59, None).map_err(|e| format!("minutes: {e}"))?;
    let hours = parse_field(&raw[2], 0, 23, None).map_err(|e| format!("hours: {e}"))?;
    let dom = if dom_last {
        BTreeSet::new()
    } else {
        parse_field(&raw[3], 1, 31, None).map_err(|e| format!("day of month: {e}"))?
    };
    let months = parse_field(&raw[4], 1, 12, Some(&MONTHS)).map_err(|e| format!("month: {e}"))?;
    let mut dow = BTreeSet::new();
    for d in parse_field(&raw[5], 0, 7, Some(&DAYS)).map_err(|e| format!("day of week: {e}"))? {
        dow.insert(d % 7);
    }
    let is_any = |f: &str| f == "*" || f == "?";
    Ok(CronFields {
        dom_restricted: !is_any(&raw[3]),
        dow_restricted: !is_any(&raw[5]),
        dom_starts_with_star: raw[3].starts_with('*'),
        dow_starts_with_star: raw[5].starts_with('*'),
        seconds,
        minutes,
        hours,
        dom,
        months,
        dow,
        dom_last,
        has_seconds,
        raw,
    })
}

/// `1,2,3,5` → `1..3,5` (systemd syntax); the full range → `*`.
fn systemd_list(set: &BTreeSet<u32>, min: u32, max: u32, width: usize) -> String {
    if set.len() as u32 == max - min + 1 {
        return "*".into();
    }
    let values: Vec<u32> = set.iter().copied().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{:0w$}..{:0w$}", values[i], values[j], w = width));
        } else {
            for v in &values[i..=j] {
                parts.push(format!("{v:0width$}"));
            }
        }
        i = j + 1;
    }
    parts.join(",")
}

fn systemd_days(set: &BTreeSet<u32>) -> String {
    // Monday first, as systemd reads ranges.
    let order = [1, 2, 3, 4, 5, 6, 0];
    let present: Vec<u32> = order.iter().copied().filter(|d| set.contains(d)).collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < present.len() {
        let start = order.iter().position(|d| *d == present[i]).unwrap_or(0);
        let mut j = i;
        while j + 1 < present.len()
            && order.iter().position(|d| *d == present[j + 1]) == Some(start + (j + 1 - i))
        {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!(
                "{}..{}",
                SYSTEMD_DAYS[present[i] as usize], SYSTEMD_DAYS[present[j] as usize]
            ));
        } else {
            for d in &present[i..=j] {
                parts.push(SYSTEMD_DAYS[*d as usize].to_string());
            }
        }
        i = j + 1;
    }
    parts.join(",")
}

/// The `OnCalendar=` values (one or two: cron's day-of-month OR day-of-week needs two) for a
/// cron expression in `zone`.
pub fn on_calendar(expr: &str, zone: &str) -> Result<Vec<String>, String> {
    let f = parse_cron(expr)?;
    if f.dom_restricted && f.dow_restricted && (f.dom_starts_with_star || f.dow_starts_with_star) {
        return Err(format!(
            "day of month {:?} with day of week {:?}: cron implementations disagree on whether a field starting with * restricts the day",
            f.raw[3], f.raw[5]
        ));
    }
    let time = format!(
        "{}:{}:{}",
        systemd_list(&f.hours, 0, 23, 2),
        systemd_list(&f.minutes, 0, 59, 2),
        systemd_list(&f.seconds, 0, 59, 2)
    );
    let month = systemd_list(&f.months, 1, 12, 2);
    let dom = if f.dom_last {
        "~01".to_string()
    } else {
        format!("-{}", systemd_list(&f.dom, 1, 31, 2))
    };
    let date = |dom: &str| format!("*-{month}{dom}");
    let all_days = "-*".to_string();
    let mut out = Vec::new();
    match (f.dom_restricted, f.dow_restricted) {
        (true, true) => {
            out.push(format!("{} {time} {zone}", date(&dom)));
            out.push(format!(
                "{} {} {time} {zone}",
                systemd_days(&f.dow),
                date(&all_days)
            ));
        }
        (false, true) => out.push(format!(
            "{} {} {time} {zone}",
            systemd_days(&f.dow),
            date(&all_days)
        )),
        _ => out.push(format!("{} {time} {zone}", date(&dom))),
    }
    let _ = f.has_seconds;
    Ok(out)
}

/// A fixed-time cron job in a zone with daylight saving time: the one case where systemd and
/// Sundial differ (the firing in a skipped hour).
fn fixed_time_in_dst_zone(expr: &str, zone: &str) -> bool {
    use chrono::{Offset, TimeZone};
    let (Ok(cron), Ok(tz)) = (CronSchedule::parse(expr), zone.parse::<chrono_tz::Tz>()) else {
        return false;
    };
    let offset = |month| {
        chrono::NaiveDate::from_ymd_opt(2026, month, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| tz.offset_from_utc_datetime(&t).fix())
    };
    cron.is_fixed_time() && offset(1) != offset(7)
}

// ----- intervals --------------------------------------------------------------------------

/// An interval trigger whose period divides a minute, an hour or a day: its firings
/// `anchor + k·period` are then the same times of every UTC day, which a calendar expresses
/// exactly. Offsets are the anchor's, reduced modulo the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntervalGrid {
    /// Every `step` seconds (`step` divides 60), at second `second` + `millis`.
    Seconds { step: u32, second: u32, millis: u32 },
    /// Every `step` minutes (`step` divides 60).
    Minutes {
        step: u32,
        minute: u32,
        second: u32,
        millis: u32,
    },
    /// Every `step` hours (`step` divides 24).
    Hours {
        step: u32,
        hour: u32,
        minute: u32,
        second: u32,
        millis: u32,
    },
}

/// The zone interval exports are written in: intervals count real seconds, and UTC has no
/// daylight saving time and no offset of a fraction of an hour.
const INTERVAL_ZONE: &str = "UTC";

fn interval_words(every: u64, unit: IntervalUnit) -> String {
    format!(
        "every {every} {}{}",
        unit.label(),
        if every == 1 { "" } else { "s" }
    )
}

fn interval_grid(
    every: u64,
    unit: IntervalUnit,
    anchor: Option<DateTime<Utc>>,
) -> Result<IntervalGrid, String> {
    let words = interval_words(every, unit);
    let Some(anchor) = anchor else {
        return Err(format!(
            "{words} has no anchor yet (the engine sets it when the job is stored)"
        ));
    };
    let period = every.saturating_mul(unit.seconds());
    let uneven = || {
        format!(
            "{words} does not divide a minute, an hour or a day evenly (the period must divide a minute, or be whole minutes dividing an hour, or whole hours dividing a day): its firings move from hour to hour or day to day, which a calendar schedule cannot express"
        )
    };
    if period == 0 || !86_400u64.is_multiple_of(period) {
        return Err(uneven());
    }
    let of_day = u64::from(anchor.num_seconds_from_midnight()) % period;
    let (hour, minute, second) = (
        (of_day / 3600) as u32,
        (of_day % 3600 / 60) as u32,
        (of_day % 60) as u32,
    );
    let millis = anchor.timestamp_subsec_millis();
    let step = |unit_secs: u64| (period / unit_secs) as u32;
    Ok(if !period.is_multiple_of(60) {
        if !60u64.is_multiple_of(period) {
            return Err(uneven());
        }
        IntervalGrid::Seconds {
            step: step(1),
            second,
            millis,
        }
    } else if !period.is_multiple_of(3600) {
        if !3600u64.is_multiple_of(period) {
            return Err(uneven());
        }
        IntervalGrid::Minutes {
            step: step(60),
            minute,
            second,
            millis,
        }
    } else {
        IntervalGrid::Hours {
            step: step(3600),
            hour,
            minute,
            second,
            millis,
        }
    })
}

/// `05` or `05.250` (systemd takes fractions of a second).
fn systemd_second(second: u32, millis: u32) -> String {
    if millis == 0 {
        format!("{second:02}")
    } else {
        format!("{second:02}.{millis:03}")
    }
}

/// `start/step` (systemd's repetition); `*` for every value, `start` for one value of `0..=max`.
fn systemd_repeat(start: String, step: u32, max: u32) -> String {
    if step == 1 && start == "00" {
        "*".into()
    } else if step > max {
        start
    } else {
        format!("{start}/{step}")
    }
}

/// The `OnCalendar=` value of an interval grid (in UTC).
fn interval_on_calendar(grid: IntervalGrid) -> String {
    let time = match grid {
        IntervalGrid::Seconds {
            step,
            second,
            millis,
        } => format!(
            "*:*:{}",
            systemd_repeat(systemd_second(second, millis), step, 59)
        ),
        IntervalGrid::Minutes {
            step,
            minute,
            second,
            millis,
        } => format!(
            "*:{}:{}",
            systemd_repeat(format!("{minute:02}"), step, 59),
            systemd_second(second, millis)
        ),
        IntervalGrid::Hours {
            step,
            hour,
            minute,
            second,
            millis,
        } => format!(
            "{}:{minute:02}:{}",
            systemd_repeat(format!("{hour:02}"), step, 23),
            systemd_second(second, millis)
        ),
    };
    format!("*-*-* {time} {INTERVAL_ZONE}")
}

/// `*/15`, `5-59/15`, `*` or a single value for a cron field of `0..=max` stepping from `start`.
fn cron_repeat(start: u32, step: u32, max: u32) -> String {
    match (step, start) {
        (1, _) => "*".into(),
        (step, start) if step > max => start.to_string(),
        (_, 0) => format!("*/{step}"),
        _ => format!("{start}-{max}/{step}"),
    }
}

/// A 5-field cron schedule (in UTC) for an interval grid, with the seconds it drops (the
/// anchor's seconds: a CronJob fires on whole minutes).
fn interval_cron(grid: IntervalGrid, words: &str) -> Result<(String, Option<String>), String> {
    let dropped = |second: u32, millis: u32| {
        (second != 0 || millis != 0).then(|| systemd_second(second, millis))
    };
    match grid {
        IntervalGrid::Seconds { .. } => Err(format!(
            "{words}: a CronJob schedule has minute resolution (no seconds)"
        )),
        IntervalGrid::Minutes {
            step,
            minute,
            second,
            millis,
        } => Ok((
            format!("{} * * * *", cron_repeat(minute, step, 59)),
            dropped(second, millis),
        )),
        IntervalGrid::Hours {
            step,
            hour,
            minute,
            second,
            millis,
        } => Ok((
            format!("{minute} {} * * *", cron_repeat(hour, step, 23)),
            dropped(second, millis),
        )),
    }
}

fn zone_name(timezone: &Option<String>) -> String {
    timezone
        .clone()
        .unwrap_or_else(|| system_zone().name().to_string())
}

/// A name usable as a unit or object name: lower-case letters, digits and `-`.
fn slug(name: &str, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "job".into() } else { out }
}

/// `base`, or `base-2`, `base-3`… (with `base` shortened so that the name stays within
/// `max` characters) when the name is taken.
fn unique(base: String, max: usize, used: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        let suffix = format!("-{n}");
        let stem: String = base
            .chars()
            .take(max.saturating_sub(suffix.len()))
            .collect();
        name = format!("{}{suffix}", stem.trim_end_matches('-'));
        n += 1;
    }
    name
}

/// The argv of a command job: exec program + args, or interpreter + flag + script body.
fn argv(program: &Program) -> Result<Vec<String>, String> {
    Ok(match program {
        Program::Exec { program, args } => {
            let mut v = vec![program.clone()];
            v.extend(args.iter().cloned());
            v
        }
        Program::Script { interpreter, body } => {
            let (exe, flag) = match interpreter {
                Interpreter::Sh => ("/bin/sh", "-c"),
                Interpreter::Bash => ("/bin/bash", "-c"),
                Interpreter::Python => ("python3", "-c"),
                Interpreter::Node => ("node", "-e"),
                Interpreter::Pwsh => ("pwsh", "-Command"),
                Interpreter::Cmd => {
                    return Err("cmd scripts run only on Windows".into());
                }
                Interpreter::Custom(p) => (p.as_str(), "-c"),
            };
            vec![exe.to_string(), flag.to_string(), body.clone()]
        }
    })
}

fn shown(var: &EnvVar, include_secrets: bool) -> String {
    if include_secrets {
        var.value.clone()
    } else {
        var.shown_value().to_string()
    }
}

// ----- systemd ------------------------------------------------------------------------------

/// A quoted word of `ExecStart=`: C escapes, `%%` for a literal `%` (specifiers) and `$$` for
/// a literal `$` (`ExecStart=` expands variables).
fn exec_word(arg: &str) -> String {
    quoted(arg, true)
}

/// A quoted `Environment=` assignment: C escapes and `%%`, but a `$` stays as it is
/// (systemd.exec(5): no variable expansion is done in `Environment=`).
fn environment_assignment(name: &str, value: &str) -> String {
    quoted(&format!("{name}={value}"), false)
}

fn quoted(text: &str, double_dollar: bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '%' => out.push_str("%%"),
            '$' if double_dollar => out.push_str("$$"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `WorkingDirectory=` takes a plain absolute path: quotes would be part of it, only
/// specifiers are resolved (`%%`), and a line cannot hold a control character, keep leading
/// or trailing blanks, or end in `\` (a continuation).
fn working_directory(dir: &str) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("working directory {dir:?}: {why}"));
    if !dir.starts_with('/') {
        return refuse("systemd's WorkingDirectory= needs an absolute path");
    }
    if dir.chars().any(|c| c.is_control()) || dir.trim_end() != dir || dir.ends_with('\\') {
        return refuse(
            "a control character, trailing blank or trailing \\ cannot be written in a unit file",
        );
    }
    Ok(dir.replace('%', "%%"))
}

/// A `.service` + `.timer` pair per command job (a manual job gets only the service).
pub fn to_systemd(jobs: &[Job], include_secrets: bool) -> Translation {
    let mut out = Translation::default();
    let mut used = HashSet::new();
    for job in jobs {
        let spec = &job.spec;
        let refuse = |out: &mut Translation, reason: String| {
            out.untranslatable.push(Untranslatable {
                job: spec.name.clone(),
                reason,
            })
        };
        let JobKind::Command(command) = &spec.kind else {
            refuse(
                &mut out,
                "http jobs have no systemd equivalent (only command jobs are exported)".into(),
            );
            continue;
        };
        let argv = match argv(&command.program) {
            Ok(a) => a,
            Err(e) => {
                refuse(&mut out, e);
                continue;
            }
        };
        let calendars = match &spec.trigger {
            Trigger::Cron { expr, timezone } => match on_calendar(expr, &zone_name(timezone)) {
                Ok(c) => {
                    if fixed_time_in_dst_zone(expr, &zone_name(timezone)) {
                        out.notes.push(format!(
                            "{}: in the hour skipped when daylight saving time starts, systemd skips this firing; Sundial runs it right after the gap",
                            spec.name
                        ));
                    }
                    Some(c)
                }
                Err(e) => {
                    refuse(&mut out, format!("cron {expr:?}: {e}"));
                    continue;
                }
            },
            Trigger::Once { at } => Some(vec![format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S"))]),
            Trigger::Manual => None,
            // A user timer's OnStartupSec= counts from the user's service manager start, that
            // is the login, as Sundial's start at login does.
            Trigger::AtStart { delay_secs } => {
                Some(vec![format!("OnStartupSec={}", (*delay_secs).max(1))])
            }
            Trigger::FileArrives { .. } => {
                refuse(&mut out, "file-arrives triggers have no exact systemd equivalent: a .path unit (PathExistsGlob=/PathChanged=) starts the service while a matching file exists or when the folder changes, not once per file after it stopped changing, and cannot pass the file's path".into());
                continue;
            }
            Trigger::OnWake { .. } => {
                refuse(&mut out, "on-wake triggers have no systemd timer equivalent (a unit WantedBy=sleep.target runs before the sleep, not after)".into());
                continue;
            }
            Trigger::Interval {
                every,
                unit,
                anchor,
            } => match interval_grid(*every, *unit, *anchor) {
                Ok(grid) => {
                    out.notes
                        .push(interval_note(&spec.name, *every, *unit, *anchor));
                    Some(vec![interval_on_calendar(grid)])
                }
                Err(e) => {
                    refuse(&mut out, e);
                    continue;
                }
            },
            Trigger::AfterJob { .. } => {
                refuse(&mut out, "after-job triggers are not translated (systemd's OnSuccess= would need both units)".into());
                continue;
            }
        };
        let working_dir = match command.working_dir.as_deref().map(working_directory) {
            None => None,
            Some(Ok(dir)) => Some(dir),
            Some(Err(e)) => {
                refuse(&mut out, e);
                continue;
            }
        };
        let unit = unique(format!("sundial-{}", slug(&spec.name, 60)), 68, &mut used);
        let mut service = String::new();
        service.push_str("# Exported from Sundial.\n[Unit]\n");
        service.push_str(&format!(
            "Description={}\n",
            description(&format!("Sundial job: {}", spec.name))
        ));
        let conditions = &spec.policies.conditions;
        if conditions.ac_power {
            // systemd looks once, when the timer fires, and skips the start on battery.
            service.push_str("ConditionACPower=true\n");
            out.notes.push(format!(
                "{}: ConditionACPower=true skips a firing on battery at once; Sundial waits up to {} s for AC power, then {}",
                spec.name,
                conditions.max_wait_secs,
                match conditions.on_timeout {
                    ConditionTimeout::Skip => "skips it",
                    ConditionTimeout::Run => "runs it anyway",
                }
            ));
        }
        if conditions.network {
            out.notes.push(format!(
                "{}: \"only when the network is up\" is not exported: systemd has no condition on the network's state when a timer fires (network-online.target is about boot)",
                spec.name
            ));
        }
        service.push_str("\n[Service]\nType=oneshot\n");
        service.push_str(&format!(
            "ExecStart={}\n",
            argv.iter()
                .map(|a| exec_word(a))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        if let Some(dir) = &working_dir {
            service.push_str(&format!("WorkingDirectory={dir}\n"));
        }
        for var in &command.env {
            service.push_str(&format!(
                "Environment={}\n",
                environment_assignment(&var.name, &shown(var, include_secrets))
            ));
        }
        if let Some(t) = spec.policies.timeout_secs {
            service.push_str(&format!("TimeoutStartSec={t}\n"));
        }
        out.files.push(OutputFile {
            name: format!("{unit}.service"),
            content: service,
        });
        if spec.policies.overlap != OverlapPolicy::Skip {
            out.notes.push(format!(
                "{}: a systemd timer never starts a second run while one is going (Sundial's overlap policy was {:?})",
                spec.name, spec.policies.overlap
            ));
        }
        if spec.policies.retry.max_attempts > 1 {
            out.notes
                .push(format!("{}: retries are not exported", spec.name));
        }
        let Some(calendars) = calendars else {
            out.notes.push(format!(
                "{}: manual job: only the service is written (start it with systemctl start)",
                spec.name
            ));
            continue;
        };
        let mut timer = String::new();
        timer.push_str("# Exported from Sundial.\n[Unit]\n");
        timer.push_str(&format!(
            "Description={}\n",
            description(&format!("Timer of Sundial job: {}", spec.name))
        ));
        timer.push_str("\n[Timer]\n");
        for c in &calendars {
            if c.starts_with("OnStartupSec=") {
                timer.push_str(&format!("{c}\n"));
            } else {
                timer.push_str(&format!("OnCalendar={c}\n"));
            }
        }
        timer.push_str("AccuracySec=1s\n");
        if conditions.random_delay_secs > 0 {
            // The same thing: a random delay from 0 to the value, drawn for each firing.
            timer.push_str(&format!(
                "RandomizedDelaySec={}\n",
                conditions.random_delay_secs
            ));
        }
        if spec.trigger.is_timed() {
            let persistent = spec.policies.missed.mode != MissedRunMode::Skip;
            timer.push_str(&format!("Persistent={persistent}\n"));
        }
        timer.push_str(&format!("Unit={unit}.service\n"));
        timer.push_str("\n[Install]\nWantedBy=timers.target\n");
        out.files.push(OutputFile {
            name: format!("{unit}.timer"),
            content: timer,
        });
        if let Trigger::Once { at } = &spec.trigger {
            out.notes.push(format!(
                "{}: runs once at {}",
                spec.name,
                at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ));
        }
    }
    out
}

/// A `Description=` value: one line, `%%` for a literal `%` (specifiers are resolved there).
fn description(s: &str) -> String {
    s.replace(|c: char| c.is_control(), " ")
        .replace('%', "%%")
        .trim_end_matches([' ', '\\'])
        .to_string()
}

/// The note an exported interval job gets: where its firings come from.
fn interval_note(
    name: &str,
    every: u64,
    unit: IntervalUnit,
    anchor: Option<DateTime<Utc>>,
) -> String {
    format!(
        "{name}: {} counted from {}, written as fixed times of the day in UTC (before that instant the export fires too; Sundial does not)",
        interval_words(every, unit),
        anchor.map_or_else(String::new, |a| a
            .to_rfc3339_opts(SecondsFormat::Millis, true))
    )
}

// ----- Kubernetes ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct KubernetesOptions {
    /// The container image the command runs in.
    pub image: String,
    pub include_secrets: bool,
}

impl Default for KubernetesOptions {
    fn default() -> Self {
        Self {
            image: "debian:stable-slim".into(),
            include_secrets: false,
        }
    }
}

fn q(s: &str) -> String {
    // JSON strings are YAML strings.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A CronJob's name is a DNS-1123 subdomain, and Kubernetes appends 11 characters to it for
/// the Jobs it creates, which must stay within 63: so 52 lower-case letters, digits and `-`,
/// starting and ending with a letter or digit.
const CRON_JOB_NAME_MAX: usize = 52;

/// The 5-field schedule of a cron expression, or why a CronJob cannot hold it.
fn cron_job_schedule(expr: &str) -> Result<String, String> {
    let fields = parse_cron(expr).map_err(|e| format!("cron {expr:?}: {e}"))?;
    if fields.dom_last {
        return Err(format!(
            "cron {expr:?}: L has no equivalent in a CronJob schedule"
        ));
    }
    if fields.has_seconds && fields.raw[0] != "0" {
        return Err(format!(
            "cron {expr:?}: a CronJob schedule has no seconds field (only whole minutes)"
        ));
    }
    Ok(fields.raw[1..].join(" "))
}

/// One `CronJob` manifest per cron command job, in one multi-document YAML file.
pub fn to_kubernetes(jobs: &[Job], options: &KubernetesOptions) -> Translation {
    let mut out = Translation::default();
    let mut used = HashSet::new();
    let mut docs = Vec::new();
    for job in jobs {
        let spec = &job.spec;
        let refuse = |out: &mut Translation, reason: String| {
            out.untranslatable.push(Untranslatable {
                job: spec.name.clone(),
                reason,
            })
        };
        let JobKind::Command(command) = &spec.kind else {
            refuse(
                &mut out,
                "http jobs are not exported (only command jobs)".into(),
            );
            continue;
        };
        let (schedule, zone) = match &spec.trigger {
            Trigger::Cron { expr, timezone } => match cron_job_schedule(expr) {
                Ok(schedule) => (schedule, zone_name(timezone)),
                Err(e) => {
                    refuse(&mut out, e);
                    continue;
                }
            },
            Trigger::Interval {
                every,
                unit,
                anchor,
            } => {
                let words = interval_words(*every, *unit);
                match interval_grid(*every, *unit, *anchor)
                    .and_then(|grid| interval_cron(grid, &words))
                {
                    Ok((schedule, dropped)) => {
                        out.notes
                            .push(interval_note(&spec.name, *every, *unit, *anchor));
                        if let Some(second) = dropped {
                            out.notes.push(format!(
                                "{}: a CronJob fires on whole minutes: at second 00 where Sundial fires at second {second} (the anchor's)",
                                spec.name
                            ));
                        }
                        (schedule, INTERVAL_ZONE.to_string())
                    }
                    Err(e) => {
                        refuse(&mut out, e);
                        continue;
                    }
                }
            }
            other => {
                refuse(
                    &mut out,
                    format!(
                        "a CronJob needs a cron schedule; this job's trigger is {}",
                        match other {
                            Trigger::Once { .. } => "once at an instant",
                            Trigger::Manual => "manual",
                            Trigger::AtStart { .. } => "at Sundial's start",
                            Trigger::OnWake { .. } => "on wake",
                            Trigger::FileArrives { .. } => "when a file arrives",
                            Trigger::AfterJob { .. } => "after another job",
                            Trigger::Cron { .. } | Trigger::Interval { .. } => "a schedule",
                        }
                    ),
                );
                continue;
            }
        };
        let argv = match argv(&command.program) {
            Ok(a) => a,
            Err(e) => {
                refuse(&mut out, e);
                continue;
            }
        };
        let concurrency = match spec.policies.overlap {
            OverlapPolicy::Allow => "Allow",
            OverlapPolicy::Skip => "Forbid",
            OverlapPolicy::Replace => "Replace",
            OverlapPolicy::QueueOne => {
                out.notes.push(format!(
                    "{}: overlap queue_one has no CronJob equivalent; written as Forbid (the firing is skipped)",
                    spec.name
                ));
                "Forbid"
            }
        };
        let name = unique(
            slug(&spec.name, CRON_JOB_NAME_MAX),
            CRON_JOB_NAME_MAX,
            &mut used,
        );
        let mut y = String::new();
        y.push_str("# Exported from Sundial.\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n");
        y.push_str(&format!("  name: {name}\n"));
        y.push_str("  labels:\n    app.kubernetes.io/managed-by: sundial\n");
        y.push_str(&format!(
            "  annotations:\n    sundial/job-name: {}\n",
            q(&spec.name)
        ));
        y.push_str("spec:\n");
        y.push_str(&format!("  schedule: {}\n", q(&schedule)));
        y.push_str(&format!("  timeZone: {}\n", q(&zone)));
        y.push_str(&format!("  concurrencyPolicy: {concurrency}\n"));
        y.push_str(&format!(
            "  startingDeadlineSeconds: {}\n",
            spec.policies.missed.grace_secs.max(10)
        ));
        if spec.policies.missed.grace_secs < 10 {
            out.notes.push(format!(
                "{}: grace window raised to 10 s (Kubernetes may miss a CronJob with a shorter deadline)",
                spec.name
            ));
        }
        if !spec.policies.conditions.is_none() {
            out.notes.push(format!(
                "{}: its conditions ({}) are not exported: a CronJob has no power or network conditions and no random delay",
                spec.name,
                spec.policies.conditions.describe()
            ));
        }
        y.push_str(&format!("  suspend: {}\n", !spec.enabled));
        y.push_str("  jobTemplate:\n    spec:\n");
        y.push_str(&format!(
            "      backoffLimit: {}\n",
            spec.policies.retry.max_attempts.saturating_sub(1)
        ));
        if let Some(t) = spec.policies.timeout_secs {
            y.push_str(&format!("      activeDeadlineSeconds: {t}\n"));
        }
        y.push_str("      template:\n        spec:\n          restartPolicy: Never\n");
        y.push_str("          containers:\n            - name: job\n");
        y.push_str(&format!("              image: {}\n", q(&options.image)));
        y.push_str(&format!(
            "              command: [{}]\n",
            argv.iter().map(|a| q(a)).collect::<Vec<_>>().join(", ")
        ));
        if let Some(dir) = &command.working_dir {
            y.push_str(&format!("              workingDir: {}\n", q(dir)));
        }
        if !command.env.is_empty() {
            y.push_str("              env:\n");
            for var in &command.env {
                y.push_str(&format!(
                    "                - name: {}\n                  value: {}\n",
                    q(&var.name),
                    q(&shown(var, options.include_secrets))
                ));
            }
        }
        docs.push(y);
    }
    if !docs.is_empty() {
        out.files.push(OutputFile {
            name: "sundial-cronjobs.yaml".into(),
            content: docs.join("---\n"),
        });
    }
    out
}
