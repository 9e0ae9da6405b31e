//! Jobs as files: export/import round trips, all-or-nothing import with every problem
//! reported, name conflicts, masked secrets, the live jobs folder, crontab import (real Debian
//! files and own cases), and the systemd / Kubernetes translations.

mod files_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use files_support::*;
use std::sync::Arc;
use sundial_engine::domain::{
    EnvVar, Job, JobId, JobKind, JobSpec, MissedRunMode, OverlapPolicy, Program, SECRET_MASK,
    Trigger,
};
use sundial_engine::files::crontab::{
    CrontabFlavor, CrontabOptions, SkipKind, parse_crontab, split_percent,
};
use sundial_engine::files::jobfile::{
    ExportOptions, FileFormat, ImportError, ImportOptions, JobFile, OnConflict, export_jobs,
    import_jobs, parse_job_file,
};
use sundial_engine::files::translate::{KubernetesOptions, on_calendar, to_kubernetes, to_systemd};
use sundial_engine::files::{FolderEvent, JobsFolder};
use sundial_engine::schedule::CronSchedule;
use sundial_engine::{
    Engine, EngineConfig, EngineEvent, LogStore, Runner, RunnerConfig, SystemClock,
};

async fn create_every_kind(engine: &Engine) -> Vec<Job> {
    let mut jobs = Vec::new();
    for spec in every_kind() {
        jobs.push(engine.create_job(spec).await.unwrap());
    }
    let upstream = jobs[0].id;
    jobs.push(
        engine
            .create_job(after("after exec", upstream))
            .await
            .unwrap(),
    );
    jobs
}

/// Specs by name, with after-job triggers naming their upstream by name (ids differ between
/// databases).
fn by_name(jobs: &[Job]) -> BTreeMap<String, (JobSpec, Option<String>)> {
    jobs.iter()
        .map(|j| {
            let upstream = match &j.spec.trigger {
                Trigger::AfterJob { job_id, .. } => jobs
                    .iter()
                    .find(|u| u.id == *job_id)
                    .map(|u| u.spec.name.clone()),
                _ => None,
            };
            let mut spec = j.spec.clone();
            if let Trigger::AfterJob { job_id, .. } = &mut spec.trigger {
                *job_id = JobId::from_string_for_test();
            }
            (j.spec.name.clone(), (spec, upstream))
        })
        .collect()
}

trait ForTest {
    fn from_string_for_test() -> Self;
}
impl ForTest for JobId {
    fn from_string_for_test() -> Self {
        "00000000000000000000000000".parse().unwrap()
    }
}

async fn round_trip(format: FileFormat) {
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = passive_engine(a_dir.path()).await;
    let b = passive_engine(b_dir.path()).await;
    let original = create_every_kind(&a).await;
    let text = export_jobs(
        &original,
        format,
        ExportOptions {
            include_secrets: true,
        },
    );
    let parsed = parse_job_file(&text, format).unwrap_or_else(|p| panic!("{p:?}\n{text}"));
    let report = import_jobs(&b, &parsed, ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.created.len(), original.len());
    let imported = b.list_jobs().await.unwrap();
    assert_eq!(by_name(&imported), by_name(&original), "{text}");
    // And the second export reads back to the same file, ids aside.
    let again = export_jobs(
        &imported,
        format,
        ExportOptions {
            include_secrets: true,
        },
    );
    let strip = |t: &str| {
        let mut f: JobFile = parse_job_file(t, format).unwrap().file;
        f.jobs.iter_mut().for_each(|j| j.id = None);
        for j in f.jobs.iter_mut() {
            if let Trigger::AfterJob { job_id, .. } = &mut j.trigger {
                *job_id = JobId::from_string_for_test();
            }
        }
        f.jobs.sort_by(|x, y| x.name.cmp(&y.name));
        f
    };
    assert_eq!(strip(&again), strip(&text));
    a.shutdown(false).await;
    b.shutdown(false).await;
}

#[tokio::test]
async fn every_kind_of_job_round_trips_through_toml() {
    round_trip(FileFormat::Toml).await;
}

#[tokio::test]
async fn every_kind_of_job_round_trips_through_json() {
    round_trip(FileFormat::Json).await;
}

#[tokio::test]
async fn secrets_are_masked_unless_asked_for_and_a_mask_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let jobs = create_every_kind(&engine).await;
    let masked = export_jobs(&jobs, FileFormat::Toml, ExportOptions::default());
    assert!(!masked.contains("s3cr3t-token") && !masked.contains("Bearer abc"));
    assert!(masked.contains(SECRET_MASK));
    assert!(masked.contains("value with spaces"), "plain values stay");

    // Into an empty database: each masked value is an error naming its field.
    let other_dir = tempfile::tempdir().unwrap();
    let other = passive_engine(other_dir.path()).await;
    let parsed = parse_job_file(&masked, FileFormat::Toml).unwrap();
    let Err(ImportError::Problems(problems)) =
        import_jobs(&other, &parsed, ImportOptions::default()).await
    else {
        panic!("a masked secret must not import")
    };
    let fields: Vec<(Option<String>, String)> = problems
        .iter()
        .map(|p| (p.job_name.clone(), p.field.clone()))
        .collect();
    assert!(
        fields.contains(&(Some("exec with env".into()), "kind.env[1].value".into())),
        "{problems:?}"
    );
    assert!(
        fields.contains(&(Some("http check".into()), "kind.headers[1].value".into())),
        "{problems:?}"
    );
    assert!(problems[0].message.contains("--include-secrets"));
    assert!(other.list_jobs().await.unwrap().is_empty());

    // Over the existing jobs with replace: the stored values are kept.
    let report = import_jobs(
        &engine,
        &parsed,
        ImportOptions {
            on_conflict: OnConflict::Replace,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.replaced.len(), jobs.len());
    let exec = engine
        .store()
        .find_job_by_name("exec with env")
        .await
        .unwrap()
        .unwrap()
        .job;
    let JobKind::Command(c) = &exec.spec.kind else {
        panic!()
    };
    assert_eq!(c.env[1], EnvVar::secret("TOKEN", "s3cr3t-token"));
    engine.shutdown(false).await;
    other.shutdown(false).await;
}

#[tokio::test]
async fn an_import_with_several_errors_reports_all_of_them_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    engine
        .create_job(spec("existing", command("true"), cron("0 * * * *", None)))
        .await
        .unwrap();
    let before = engine.list_jobs().await.unwrap();
    let text = r#"version = 1

[[jobs]]
name = "good one"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }

[[jobs]]
name = "bad cron"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "61 * * * *" }

[[jobs]]
name = "bad zone"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "0 9 * * *", timezone = "Mars/Olympus" }

[[jobs]]
name = "existing"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }

[[jobs]]
name = "good one"
kind = { type = "command", program = { mode = "exec", program = "" } }
trigger = { type = "after_job", job_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV", on = "success" }
"#;
    let parsed = parse_job_file(text, FileFormat::Toml).unwrap();
    let Err(ImportError::Problems(problems)) =
        import_jobs(&engine, &parsed, ImportOptions::default()).await
    else {
        panic!("must fail")
    };
    let found: Vec<(Option<usize>, Option<usize>, &str)> = problems
        .iter()
        .map(|p| (p.job, p.line, p.field.as_str()))
        .collect();
    for expected in [
        (Some(2), Some(8), "trigger.expr"),
        (Some(3), Some(13), "trigger.timezone"),
        (Some(4), Some(18), "name"),
        (Some(5), Some(23), "name"),
        (Some(5), Some(23), "trigger.job_id"),
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing in {problems:#?}"
        );
    }
    assert!(problems.iter().all(|p| p.job != Some(1)), "{problems:#?}");
    // Nothing changed, not even the good job.
    assert_eq!(engine.list_jobs().await.unwrap(), before);
    engine.shutdown(false).await;
}

#[test]
fn shape_errors_of_every_job_are_reported_with_their_path_and_line() {
    let text = r#"version = 1

[[jobs]]
name = "a"
colour = "red"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }

[[jobs]]
name = "b"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }

[[jobs]]
name = "c"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "* * * * *", timezone = 5 }
"#;
    let problems = parse_job_file(text, FileFormat::Toml).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert_eq!((problems[0].job, problems[0].line), (Some(1), Some(3)));
    assert!(
        problems[0].message.contains("unknown field `colour`"),
        "{:?}",
        problems[0]
    );
    assert_eq!((problems[1].job, problems[1].line), (Some(2), Some(9)));
    assert!(
        problems[1].message.contains("missing field `trigger`"),
        "{:?}",
        problems[1]
    );
    assert_eq!((problems[2].job, problems[2].line), (Some(3), Some(13)));
    // The trigger is a tagged union: the path stops at it; the message says what is wrong.
    assert_eq!(problems[2].field, "trigger", "{:?}", problems[2]);
    assert_eq!(
        problems[2].message,
        "invalid type: integer `5`, expected a string"
    );
}

#[test]
fn json_job_problems_give_the_line_where_the_job_starts() {
    let text = r#"{
  "version": 1,
  "jobs": [
    {"name": "a {[\"]}", "kind": {"type": "command", "program": {"mode": "exec", "program": "/bin/true"}},
     "trigger": {"type": "manual"}},
    {
      "name": "b",
      "kind": {"type": "command", "program": {"mode": "exec", "program": "/bin/true"}},
      "trigger": {"type": "manual"},
      "colour": "red"
    }
  ]
}"#;
    let problems = parse_job_file(text, FileFormat::Json).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].job, problems[0].line),
        (Some(2), Some(6)),
        "{problems:?}"
    );
    assert_eq!(problems[0].field, "colour");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let toml_text = "version = 1\n\n[[jobs]]\nname = \"x\nkind = 3\n";
    let p = parse_job_file(toml_text, FileFormat::Toml).unwrap_err();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, Some(4), "{p:?}");
    assert!(p[0].column.is_some());
    assert!(p[0].message.starts_with("is not valid TOML"), "{p:?}");
    let json_text = "{\n  \"version\": 1,\n  \"jobs\": [\n    {\"name\": }\n  ]\n}\n";
    let p = parse_job_file(json_text, FileFormat::Json).unwrap_err();
    assert_eq!((p[0].line, p[0].column), (Some(4), Some(14)), "{p:?}");
    let p = parse_job_file("version = 2\njobs = []\n", FileFormat::Toml).unwrap_err();
    assert_eq!(p[0].field, "version");
    assert!(p[0].message.contains("reads version 1"), "{p:?}");
    let p = parse_job_file("{\"jobs\": []}", FileFormat::Json).unwrap_err();
    assert_eq!(p[0].field, "version");
}

#[tokio::test]
async fn name_conflicts_skip_rename_or_replace_as_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let first = engine
        .create_job(spec("report", command("echo old"), Trigger::Manual))
        .await
        .unwrap();
    let file = |body: &str| {
        format!(
            "version = 1\n[[jobs]]\nname = \"report\"\nkind = {{ type = \"command\", program = {{ mode = \"script\", interpreter = \"sh\", body = \"{body}\" }} }}\ntrigger = {{ type = \"manual\" }}\n"
        )
    };
    let import = |text: String, on_conflict| {
        let engine = engine.clone();
        async move {
            let parsed = parse_job_file(&text, FileFormat::Toml).unwrap();
            import_jobs(&engine, &parsed, ImportOptions { on_conflict }).await
        }
    };
    assert!(matches!(
        import(file("echo new"), OnConflict::Error).await,
        Err(ImportError::Problems(_))
    ));
    let r = import(file("echo new"), OnConflict::Skip).await.unwrap();
    assert_eq!(r.skipped, vec!["report".to_string()]);
    assert_eq!(engine.get_job(first.id).await.unwrap().revision, 1);
    let r = import(file("echo renamed"), OnConflict::Rename)
        .await
        .unwrap();
    assert_eq!(r.renamed[0].to, "report (2)");
    let r = import(file("echo replaced"), OnConflict::Replace)
        .await
        .unwrap();
    assert_eq!(
        r.replaced[0].id, first.id,
        "replace keeps the id (and history)"
    );
    let job = engine.get_job(first.id).await.unwrap();
    assert_eq!(job.revision, 2);
    assert_eq!(job.spec.kind, command("echo replaced"));
    assert_eq!(engine.list_jobs().await.unwrap().len(), 2);
    engine.shutdown(false).await;
}

// ----- jobs folder ---------------------------------------------------------------------------

async fn next_event(
    rx: &mut tokio::sync::broadcast::Receiver<FolderEvent>,
    what: &str,
    mut matches: impl FnMut(&FolderEvent) -> bool,
) -> FolderEvent {
    within(what, Duration::from_secs(10), async {
        loop {
            let event = rx.recv().await.expect("folder events");
            if matches(&event) {
                return event;
            }
        }
    })
    .await
}

fn job_file(name: &str, body: &str) -> String {
    format!(
        "version = 1\n\n[[jobs]]\nname = \"{name}\"\nkind = {{ type = \"command\", program = {{ mode = \"script\", interpreter = \"sh\", body = \"{body}\" }} }}\ntrigger = {{ type = \"cron\", expr = \"0 6 * * *\", timezone = \"UTC\" }}\n"
    )
}

#[tokio::test]
async fn the_jobs_folder_follows_added_edited_broken_and_deleted_files() {
    let data = tempfile::tempdir().unwrap();
    let folder_dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(data.path()).await;
    let (folder, initial) = JobsFolder::start(engine.clone(), folder_dir.path())
        .await
        .unwrap();
    assert!(initial.is_empty());
    let mut events = folder.subscribe();
    let path = folder_dir.path().join("nightly.toml");

    // Add.
    let started = Instant::now();
    std::fs::write(&path, job_file("nightly", "echo one")).unwrap();
    next_event(&mut events, "the new file's job", |e| {
        matches!(e, FolderEvent::Synced { file, created, .. } if file == "nightly.toml" && created == &["nightly"])
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let job = engine
        .store()
        .find_job_by_name("nightly")
        .await
        .unwrap()
        .unwrap()
        .job;
    assert_eq!(job.spec.kind, command("echo one"));

    // Edit.
    let started = Instant::now();
    std::fs::write(&path, job_file("nightly", "echo two")).unwrap();
    next_event(
        &mut events,
        "the edit",
        |e| matches!(e, FolderEvent::Synced { updated, .. } if updated == &["nightly"]),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    let edited = engine.get_job(job.id).await.unwrap();
    assert_eq!(edited.spec.kind, command("echo two"));
    assert_eq!(edited.id, job.id, "an edit keeps the job (and its history)");

    // Break: reported, and the job keeps its last good definition.
    std::fs::write(
        &path,
        "version = 1\n[[jobs]]\nname = \"nightly\"\nkind = \n",
    )
    .unwrap();
    let broken = next_event(
        &mut events,
        "the broken file",
        |e| matches!(e, FolderEvent::Broken { file, .. } if file == "nightly.toml"),
    )
    .await;
    let FolderEvent::Broken { problems, .. } = broken else {
        unreachable!()
    };
    assert_eq!(problems[0].line, Some(4), "{problems:?}");
    assert_eq!(engine.get_job(job.id).await.unwrap(), edited);

    // A second file with an invalid job: reported by field, nothing of it applied.
    std::fs::write(
        folder_dir.path().join("other.json"),
        r#"{"version": 1, "jobs": [{"name": "other", "kind": {"type": "command", "program": {"mode": "exec", "program": "/bin/true"}}, "trigger": {"type": "cron", "expr": "99 * * * *"}}]}"#,
    )
    .unwrap();
    let broken = next_event(
        &mut events,
        "the invalid json file",
        |e| matches!(e, FolderEvent::Broken { file, .. } if file == "other.json"),
    )
    .await;
    let FolderEvent::Broken { problems, .. } = broken else {
        unreachable!()
    };
    assert_eq!(problems[0].field, "trigger.expr");
    assert!(
        engine
            .store()
            .find_job_by_name("other")
            .await
            .unwrap()
            .is_none()
    );

    // Deleted for good: its job is disabled and archived with its history, not deleted.
    std::fs::remove_file(&path).unwrap();
    next_event(&mut events, "the archiving", |e| {
        matches!(e, FolderEvent::Archived { file, archived } if file == "nightly.toml" && archived == &["nightly"])
    })
    .await;
    assert!(!engine.get_job(job.id).await.unwrap().spec.enabled);
    folder.stop().await;
    engine.shutdown(false).await;
}

#[tokio::test]
async fn a_file_removed_while_not_watching_archives_its_jobs_at_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    let folder_dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(data.path()).await;
    let path = folder_dir.path().join("a.toml");
    std::fs::write(&path, job_file("from a", "true")).unwrap();
    let (folder, initial) = JobsFolder::start(engine.clone(), folder_dir.path())
        .await
        .unwrap();
    assert!(
        matches!(&initial[..], [FolderEvent::Synced { created, .. }] if created == &["from a"]),
        "{initial:?}"
    );
    folder.stop().await;
    std::fs::remove_file(&path).unwrap();
    let (folder, initial) = JobsFolder::start(engine.clone(), folder_dir.path())
        .await
        .unwrap();
    assert!(
        matches!(&initial[..], [FolderEvent::Archived { archived, .. }] if archived == &["from a"]),
        "{initial:?}"
    );
    let jobs = engine.list_jobs().await.unwrap();
    assert_eq!(jobs.len(), 1, "kept, with its history");
    assert!(!jobs[0].spec.enabled, "but disabled");
    folder.stop().await;
    engine.shutdown(false).await;
}

// ----- crontab -------------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/crontab")
            .join(name),
    )
    .unwrap()
}

fn accounted_for(text: &str, import: &sundial_engine::files::CrontabImport) {
    let mut lines: Vec<usize> = import
        .jobs
        .iter()
        .map(|j| j.line)
        .chain(import.skipped.iter().map(|s| s.line))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        (1..=text.lines().count()).collect::<Vec<_>>(),
        "every line is a job or reported"
    );
}

fn script_of(spec: &JobSpec) -> (&str, &str) {
    let JobKind::Command(c) = &spec.kind else {
        panic!()
    };
    let Program::Script { interpreter, body } = &c.program else {
        panic!()
    };
    (interpreter.label(), body)
}

fn env_of(spec: &JobSpec) -> Vec<(String, String)> {
    let JobKind::Command(c) = &spec.kind else {
        panic!()
    };
    c.env
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}

#[test]
fn real_debian_cron_d_files_import() {
    let options = |source: &str| CrontabOptions {
        source: source.into(),
        timezone: Some("UTC".into()),
    };
    // sysstat: PATH, a step range, two jobs.
    let text = fixture("sysstat");
    let import = parse_crontab(&text, CrontabFlavor::System, &options("sysstat"));
    accounted_for(&text, &import);
    assert_eq!(import.jobs.len(), 2);
    let first = &import.jobs[0];
    assert_eq!(first.user.as_deref(), Some("root"));
    assert_eq!(first.spec.trigger, cron("5-55/10 * * * *", Some("UTC")));
    assert_eq!(
        script_of(&first.spec).1,
        "command -v debian-sa1 > /dev/null && debian-sa1 1 1"
    );
    assert_eq!(
        env_of(&first.spec),
        vec![(
            "PATH".to_string(),
            "/usr/lib/sysstat:/usr/sbin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()
        )]
    );
    assert_eq!(first.spec.policies.overlap, OverlapPolicy::Allow);
    assert_eq!(first.spec.policies.missed.mode, MissedRunMode::Skip);
    assert_eq!(
        import.jobs[1].spec.trigger,
        cron("59 23 * * *", Some("UTC"))
    );

    // anacron: SHELL and PATH, tab-separated fields.
    let text = fixture("anacron");
    let import = parse_crontab(&text, CrontabFlavor::System, &options("anacron"));
    accounted_for(&text, &import);
    assert_eq!(import.jobs.len(), 1);
    let job = &import.jobs[0];
    assert_eq!(job.spec.trigger, cron("30 7-23 * * *", Some("UTC")));
    assert_eq!(script_of(&job.spec).0, "sh");
    assert!(
        script_of(&job.spec)
            .1
            .starts_with("[ -x /etc/init.d/anacron ] && if")
    );
    assert!(env_of(&job.spec).iter().any(|(n, _)| n == "PATH"));
    let variables: Vec<&str> = import
        .skipped
        .iter()
        .filter(|s| s.kind == SkipKind::Variable)
        .map(|s| s.reason.as_str())
        .collect();
    assert_eq!(variables.len(), 2, "{:?}", import.skipped);
    assert!(variables[0].contains("/bin/sh"));

    // php: a long comment block, a list of minutes.
    let text = fixture("php");
    let import = parse_crontab(&text, CrontabFlavor::System, &options("php"));
    accounted_for(&text, &import);
    assert_eq!(import.jobs.len(), 1);
    assert_eq!(
        import.jobs[0].spec.trigger,
        cron("09,39 * * * *", Some("UTC"))
    );
    assert!(
        import
            .skipped
            .iter()
            .filter(|s| s.kind == SkipKind::Comment)
            .count()
            >= 10
    );

    // e2scrub_all: no variables, two jobs, weekday field.
    let text = fixture("e2scrub_all");
    let import = parse_crontab(&text, CrontabFlavor::System, &options("e2scrub_all"));
    accounted_for(&text, &import);
    assert_eq!(import.jobs.len(), 2);
    assert_eq!(import.jobs[0].spec.trigger, cron("30 3 * * 0", Some("UTC")));
    assert!(
        script_of(&import.jobs[1].spec)
            .1
            .contains("SERVICE_MODE=1 /sbin/e2scrub_all -A -r")
    );

    // Every imported spec is valid for the engine.
    for name in ["sysstat", "anacron", "php", "e2scrub_all"] {
        for job in parse_crontab(&fixture(name), CrontabFlavor::System, &options(name)).jobs {
            sundial_engine::domain::validate::validate_spec(&job.spec, Utc::now(), None)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn crontab_rules_variables_macros_percent_and_reports() {
    let text = "\
# user crontab
SHELL=/bin/bash
PATH = /usr/bin:/bin
MAILTO=\"me@example.com\"
GREETING='hello world'
CRON_TZ=Europe/Riga

@daily /usr/bin/backup
@reboot /usr/bin/start-agent
@weekly
*/15 9-17 * * 1-5 mail -s \"report\" boss%Dear boss,%%The 100\\% report.%
0 0 31 2 * echo never
61 * * * * echo bad
not a job line
0 12 * * sun date +\\%Y-\\%m-\\%d > /tmp/today
";
    let import = parse_crontab(text, CrontabFlavor::User, &CrontabOptions::default());
    accounted_for(text, &import);
    let reason = |line: usize| {
        import
            .skipped
            .iter()
            .find(|s| s.line == line)
            .map(|s| (s.kind, s.reason.clone()))
            .unwrap_or_else(|| panic!("line {line} not reported: {:?}", import.skipped))
    };
    assert_eq!(reason(1).0, SkipKind::Comment);
    assert_eq!(reason(7).0, SkipKind::Blank);
    assert!(reason(4).1.contains("MAILTO") && reason(4).1.contains("run log"));
    assert_eq!(reason(10).0, SkipKind::Invalid);
    assert_eq!(reason(13).0, SkipKind::Invalid);
    assert!(reason(13).1.contains("61"), "{:?}", reason(13));
    assert_eq!(reason(14).0, SkipKind::Invalid);

    let job = |line: usize| import.jobs.iter().find(|j| j.line == line).unwrap();
    assert_eq!(
        job(9).spec.trigger,
        sundial_engine::domain::Trigger::AtStart { delay_secs: 0 },
        "@reboot runs when Sundial starts"
    );
    let daily = job(8);
    assert_eq!(daily.spec.trigger, cron("@daily", Some("Europe/Riga")));
    assert_eq!(script_of(&daily.spec), ("bash", "/usr/bin/backup"));
    assert_eq!(
        env_of(&daily.spec),
        vec![
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
            ("GREETING".to_string(), "hello world".to_string())
        ]
    );
    // The % rule: the command ends at the first %, the rest is standard input.
    let mail = job(11);
    assert_eq!(
        mail.spec.trigger,
        cron("*/15 9-17 * * 1-5", Some("Europe/Riga"))
    );
    let body = script_of(&mail.spec).1;
    assert_eq!(
        body,
        "(\nmail -s \"report\" boss\n) <<'SUNDIAL_STDIN'\nDear boss,\n\nThe 100% report.\n\nSUNDIAL_STDIN\n"
    );
    // An impossible date is still a valid crontab line: imported as written.
    assert_eq!(
        job(12).spec.trigger,
        cron("0 0 31 2 *", Some("Europe/Riga"))
    );
    assert_eq!(script_of(&job(15).spec).1, "date +%Y-%m-%d > /tmp/today");
    assert_eq!(import.jobs.len(), 5);

    assert_eq!(
        split_percent("a\\%b%c%d"),
        ("a%b".to_string(), Some("c\nd".to_string()))
    );
    assert_eq!(split_percent("plain"), ("plain".to_string(), None));
}

#[tokio::test]
async fn a_percent_command_gets_its_standard_input_when_run() {
    let text = "* * * * * tr a-z A-Z%shout%it\n";
    let import = parse_crontab(text, CrontabFlavor::User, &CrontabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let job = engine
        .create_job(import.jobs[0].spec.clone())
        .await
        .unwrap();
    let mut events = engine.subscribe();
    let run = engine.run_now(job.id).await.unwrap();
    let run = within("the run", Duration::from_secs(20), async {
        loop {
            let r = engine.get_run(run.id).await.unwrap();
            if r.status.is_terminal() {
                return r;
            }
            let _ = events.recv().await;
        }
    })
    .await;
    assert_eq!(run.status.as_str(), "succeeded", "{run:?}");
    let log = sundial_engine::LogStore::new(dir.path().join("runs"))
        .open(run.id)
        .unwrap();
    let lines: Vec<String> = log
        .read_lines(0, 100)
        .unwrap()
        .into_iter()
        .filter(|l| l.stream == sundial_engine::logs::Stream::Stdout)
        .map(|l| l.text)
        .collect();
    assert_eq!(lines, vec!["SHOUT", "IT"]);
    engine.shutdown(false).await;
}

// ----- systemd and Kubernetes ----------------------------------------------------------------

fn job_with(spec: JobSpec) -> Job {
    let now = Utc::now();
    Job {
        id: JobId::new(),
        revision: 1,
        created_at: now,
        updated_at: now,
        spec,
    }
}

/// Next fire times from `systemd-analyze calendar`, in UTC, merged over several expressions.
fn systemd_next(exprs: &[String], base: &str, n: usize) -> Vec<DateTime<Utc>> {
    let mut times = Vec::new();
    for expr in exprs {
        let out = Command::new("systemd-analyze")
            .env("TZ", "UTC")
            .args([
                "calendar",
                &format!("--iterations={n}"),
                &format!("--base-time={base}"),
                expr,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{expr}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("Next elapse:").or_else(|| {
                line.split_once("Iter. #")
                    .and_then(|(_, r)| r.split_once(':'))
                    .map(|(_, r)| r)
            }) {
                // "Sat 2026-11-21 05:45:00 UTC"
                let parts: Vec<&str> = rest.split_whitespace().collect();
                let stamp = format!("{}T{}Z", parts[1], parts[2]);
                times.push(stamp.parse::<DateTime<Utc>>().unwrap());
            }
        }
    }
    times.sort();
    times.dedup();
    times.truncate(n);
    times
}

#[test]
fn systemd_on_calendar_fires_when_sundial_does() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("note: systemd-analyze is not installed; the OnCalendar= check was skipped");
        return;
    }
    let base_text = "2026-11-21 10:17:30 UTC";
    let base: DateTime<Utc> = "2026-11-21T10:17:30Z".parse().unwrap();
    let cases = [
        ("*/5 * * * *", "Europe/Riga"),
        ("0 9 * * MON-FRI", "America/New_York"),
        ("30 7-23 * * *", "UTC"),
        ("5-55/10 * * * *", "Asia/Kolkata"),
        ("0 0 1,15 * 5", "Europe/Riga"),
        ("@monthly", "Australia/Sydney"),
        ("15 30 6 * * SUN", "Europe/London"),
        ("0 0 L * *", "UTC"),
        ("0 12 * JAN,JUL 1-5", "Europe/Berlin"),
        ("0 9 * * 7", "UTC"),
        ("5-55/10 8-18 * * 6,0", "Europe/Riga"),
        ("0 0 1,15 * 5", "America/New_York"),
    ];
    let n = 12;
    for (expr, zone) in cases {
        let calendars = on_calendar(expr, zone).unwrap();
        let cron_schedule = CronSchedule::parse(expr).unwrap();
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let mut expected = Vec::new();
        let mut cursor = base;
        for _ in 0..n {
            cursor = cron_schedule.next_after(tz, cursor).unwrap();
            expected.push(cursor);
        }
        let got = systemd_next(&calendars, base_text, n);
        assert_eq!(got, expected, "{expr} in {zone} as {calendars:?}");
    }
}

#[test]
fn systemd_and_sundial_differ_only_in_a_skipped_dst_hour_as_noted() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("note: systemd-analyze is not installed; the DST check was skipped");
        return;
    }
    // 03:30 does not exist in Riga on 2027-03-28: Sundial runs at 04:00, systemd skips it.
    let calendars = on_calendar("30 3 * * *", "Europe/Riga").unwrap();
    let got = systemd_next(&calendars, "2027-03-27 12:00:00 UTC", 2);
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    assert_eq!(
        got,
        vec![at("2027-03-29T00:30:00Z"), at("2027-03-30T00:30:00Z")]
    );
    let cron_schedule = CronSchedule::parse("30 3 * * *").unwrap();
    let riga: chrono_tz::Tz = "Europe/Riga".parse().unwrap();
    assert_eq!(
        cron_schedule.next_after(riga, at("2027-03-27T12:00:00Z")),
        Some(at("2027-03-28T01:00:00Z"))
    );
    let t = to_systemd(
        &[job_with(spec(
            "at 3:30",
            command("true"),
            cron("30 3 * * *", Some("Europe/Riga")),
        ))],
        false,
    );
    assert!(
        t.notes.iter().any(|n| n.contains("daylight saving")),
        "{:?}",
        t.notes
    );
    let t = to_systemd(
        &[job_with(spec(
            "utc",
            command("true"),
            cron("30 3 * * *", Some("UTC")),
        ))],
        false,
    );
    assert!(t.notes.is_empty(), "{:?}", t.notes);
}

fn content_of<'a>(t: &'a sundial_engine::files::translate::Translation, name: &str) -> &'a str {
    &t.files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not written"))
        .content
}

#[test]
fn systemd_export_writes_units_and_lists_what_it_cannot_express() {
    let mut jobs: Vec<Job> = every_kind().into_iter().map(job_with).collect();
    jobs.push(job_with(spec(
        "weird",
        command("true"),
        cron("0 0 * * 5#3", Some("UTC")),
    )));
    let t = to_systemd(&jobs, false);
    let names: Vec<&str> = t.files.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"sundial-exec-with-env.service"),
        "{names:?}"
    );
    assert!(names.contains(&"sundial-exec-with-env.timer"));
    assert!(names.contains(&"sundial-python-script.timer"));
    assert!(names.contains(&"sundial-manual-only.service"));
    assert!(!names.contains(&"sundial-manual-only.timer"));
    let service = &t
        .files
        .iter()
        .find(|f| f.name == "sundial-exec-with-env.service")
        .unwrap()
        .content;
    assert!(
        service.contains("ExecStart=\"/bin/echo\" \"a b\" \"\\\"quoted\\\"\" \"100%%\""),
        "{service}"
    );
    assert!(
        service.contains(&format!("Environment=\"TOKEN={SECRET_MASK}\"")),
        "{service}"
    );
    assert!(
        service.contains("WorkingDirectory=/tmp\n") && service.contains("TimeoutStartSec=600"),
        "{service}"
    );
    let timer = &t
        .files
        .iter()
        .find(|f| f.name == "sundial-exec-with-env.timer")
        .unwrap()
        .content;
    assert!(
        timer.contains("OnCalendar=Mon..Fri *-*-* 09:00:00 Europe/Riga"),
        "{timer}"
    );
    let python_timer = &t
        .files
        .iter()
        .find(|f| f.name == "sundial-python-script.timer")
        .unwrap()
        .content;
    assert!(
        python_timer.contains(":00,30 "),
        "seconds field kept: {python_timer}"
    );
    let refused: Vec<(&str, &str)> = t
        .untranslatable
        .iter()
        .map(|u| (u.job.as_str(), u.reason.as_str()))
        .collect();
    assert!(
        refused
            .iter()
            .any(|(j, r)| *j == "http check" && r.contains("http")),
        "{refused:?}"
    );
    // Every 15 minutes from 00:00 UTC: the interval divides an hour, so it is exported.
    assert!(
        content_of(&t, "sundial-custom-interpreter.timer")
            .contains("OnCalendar=*-*-* *:00/15:00 UTC\n"),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|(j, r)| *j == "weird" && r.contains("#")),
        "{refused:?}"
    );
    // Conditions: AC power as systemd's condition (with a note on the wait it cannot do), the
    // random delay as written.
    assert!(
        content_of(&t, "sundial-python-script.service").contains("ConditionACPower=true\n"),
        "{}",
        content_of(&t, "sundial-python-script.service")
    );
    assert!(content_of(&t, "sundial-python-script.timer").contains("RandomizedDelaySec=120\n"));
    assert!(
        t.notes.iter().any(
            |n| n.starts_with("python script: ConditionACPower=true skips") && n.contains("1800 s")
        ),
        "{:?}",
        t.notes
    );
    assert!(!content_of(&t, "sundial-exec-with-env.service").contains("ConditionACPower"));
    let with_secrets = to_systemd(&jobs, true);
    assert!(
        with_secrets
            .files
            .iter()
            .any(|f| f.content.contains("TOKEN=s3cr3t-token"))
    );
}

#[test]
fn kubernetes_export_maps_schedule_zone_overlap_and_grace() {
    let mut daily = spec(
        "Daily Report!",
        command("echo hi"),
        cron("0 9 * * 1-5", Some("Europe/Riga")),
    );
    daily.policies.overlap = OverlapPolicy::Replace;
    daily.policies.missed.grace_secs = 120;
    daily.policies.timeout_secs = Some(300);
    daily.policies.retry.max_attempts = 3;
    let mut allow = spec("allow", command("true"), cron("0 30 * * * *", Some("UTC")));
    allow.policies.overlap = OverlapPolicy::Allow;
    let mut jobs: Vec<Job> = vec![job_with(daily), job_with(allow)];
    jobs.extend(every_kind().into_iter().map(job_with));
    let t = to_kubernetes(&jobs, &KubernetesOptions::default());
    assert_eq!(t.files.len(), 1);
    let yaml = &t.files[0].content;
    let docs: Vec<&str> = yaml.split("---\n").collect();
    assert_eq!(docs.len(), 4, "{yaml}");
    let d = docs[0];
    for needle in [
        "kind: CronJob",
        "name: daily-report",
        "schedule: \"0 9 * * 1-5\"",
        "timeZone: \"Europe/Riga\"",
        "concurrencyPolicy: Replace",
        "startingDeadlineSeconds: 120",
        "activeDeadlineSeconds: 300",
        "backoffLimit: 2",
        "command: [\"/bin/sh\", \"-c\", \"echo hi\"]",
    ] {
        assert!(d.contains(needle), "{needle} in {d}");
    }
    assert!(
        docs[1].contains("concurrencyPolicy: Allow")
            && docs[1].contains("schedule: \"30 * * * *\"")
    );
    // exec with env: queue_one becomes Forbid, with a note; the secret is masked.
    assert!(docs[2].contains("concurrencyPolicy: Forbid") && docs[2].contains(SECRET_MASK));
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("queue_one") || n.contains("QueueOne")),
        "{:?}",
        t.notes
    );
    // custom interpreter: every 15 minutes from 00:00 UTC.
    assert!(
        docs[3].contains("schedule: \"*/15 * * * *\"") && docs[3].contains("timeZone: \"UTC\""),
        "{}",
        docs[3]
    );
    let refused: Vec<&str> = t.untranslatable.iter().map(|u| u.job.as_str()).collect();
    for name in ["python script", "http check"] {
        assert!(refused.contains(&name), "{name} in {refused:?}");
    }
    let python = t
        .untranslatable
        .iter()
        .find(|u| u.job == "python script")
        .unwrap();
    assert!(python.reason.contains("seconds"), "{}", python.reason);
}

#[test]
fn on_calendar_translations_are_exact() {
    let cases: [(&str, &[&str]); 7] = [
        ("0 9 * * MON-FRI", &["Mon..Fri *-*-* 09:00:00 Europe/Riga"]),
        (
            "0 0 1,15 * 5",
            &[
                "*-*-01,15 00:00:00 Europe/Riga",
                "Fri *-*-* 00:00:00 Europe/Riga",
            ],
        ),
        ("0 0 L * *", &["*-*~01 00:00:00 Europe/Riga"]),
        ("15 30 6 * * SUN", &["Sun *-*-* 06:30:15 Europe/Riga"]),
        (
            "0 12 * JAN,JUL 1-5",
            &["Mon..Fri *-01,07-* 12:00:00 Europe/Riga"],
        ),
        ("@hourly", &["*-*-* *:00:00 Europe/Riga"]),
        (
            "5-55/10 8-18 * * 6,0",
            &["Sat,Sun *-*-* 08..18:05,15,25,35,45,55:00 Europe/Riga"],
        ),
    ];
    for (expr, expected) in cases {
        assert_eq!(
            on_calendar(expr, "Europe/Riga").unwrap(),
            expected,
            "{expr}"
        );
    }
    let refused = on_calendar("0 0 */2 * 1", "UTC").unwrap_err();
    assert!(refused.contains("disagree"), "{refused}");
    assert!(on_calendar("0 0 * * 5#3", "UTC").is_err());
    assert!(on_calendar("0 0 15W * *", "UTC").is_err());
}

#[tokio::test]
async fn a_passive_engine_pauses_and_resumes_through_the_scheduler_it_shares_the_database_with() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = Engine::start(
        EngineConfig::new(dir.path().join("sundial.db")),
        Arc::new(SystemClock),
        Arc::new(
            Runner::new(
                RunnerConfig::default(),
                LogStore::new(dir.path().join("runs")),
            )
            .unwrap(),
        ),
    )
    .await
    .unwrap();
    let mut events = scheduler.subscribe();
    let passive = passive_engine(dir.path()).await;
    passive.pause().await.unwrap();
    assert!(
        passive.is_paused().await.unwrap(),
        "the shared state is written"
    );
    within(
        "the scheduler to pause",
        Duration::from_secs(10),
        pause_event(&mut events, true),
    )
    .await;
    let job = scheduler
        .create_job(spec(
            "ticks",
            command("true"),
            cron("* * * * * *", Some("UTC")),
        ))
        .await
        .unwrap();
    assert_eq!(
        scheduler.next_fire(job.id).await.unwrap(),
        None,
        "paused: nothing fires"
    );
    passive.resume().await.unwrap();
    within(
        "the scheduler to resume",
        Duration::from_secs(10),
        pause_event(&mut events, false),
    )
    .await;
    assert!(scheduler.next_fire(job.id).await.unwrap().is_some());
    passive.shutdown(false).await;
    scheduler.shutdown(false).await;
}

async fn pause_event(events: &mut tokio::sync::broadcast::Receiver<EngineEvent>, want: bool) {
    loop {
        if let Ok(EngineEvent::PauseChanged { paused }) = events.recv().await
            && paused == want
        {
            return;
        }
    }
}

#[test]
fn conditions_are_left_out_of_a_job_file_unless_set_and_need_only_what_differs() {
    let plain = job_with(spec("plain", command("true"), Trigger::Manual));
    let text = export_jobs(&[plain], FileFormat::Toml, ExportOptions::default());
    assert!(!text.contains("conditions"), "{text}");
    let text = r#"version = 1
[[jobs]]
name = "laptop"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "0 2 * * *" }
policies = { conditions = { ac_power = true, random_delay_secs = 600 } }
"#;
    let parsed = parse_job_file(text, FileFormat::Toml).unwrap_or_else(|p| panic!("{p:?}"));
    let c = &parsed.file.jobs[0].policies.conditions;
    assert!(c.ac_power && !c.network);
    assert_eq!(c.random_delay_secs, 600);
    assert_eq!(c.max_wait_secs, 3600, "the default wait");
    assert_eq!(c.on_timeout, sundial_engine::domain::ConditionTimeout::Skip);
    let typo = text.replace("ac_power", "on_ac");
    let problems = parse_job_file(&typo, FileFormat::Toml).unwrap_err();
    assert!(
        problems.iter().any(|p| p.to_string().contains("on_ac")),
        "{problems:?}"
    );
}

#[test]
fn a_job_file_needs_only_the_policy_fields_that_differ_from_the_defaults() {
    let text = r#"version = 1
[[jobs]]
name = "nightly"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "0 2 * * *" }
policies = { missed = { mode = "skip" }, retry = { max_attempts = 3 } }
"#;
    let parsed = parse_job_file(text, FileFormat::Toml).unwrap_or_else(|p| panic!("{p:?}"));
    let policies = &parsed.file.jobs[0].policies;
    let defaults = sundial_engine::domain::Policies::default();
    assert_eq!(
        policies.missed.mode,
        sundial_engine::domain::MissedRunMode::Skip
    );
    assert_eq!(policies.missed.max_catch_up, defaults.missed.max_catch_up);
    assert_eq!(policies.missed.grace_secs, defaults.missed.grace_secs);
    assert_eq!(policies.retry.max_attempts, 3);
    assert_eq!(
        policies.retry.initial_delay_secs,
        defaults.retry.initial_delay_secs
    );
    // An unknown field is still refused, by name.
    let typo = text.replace("max_attempts", "max_attempt");
    let problems = parse_job_file(&typo, FileFormat::Toml).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("max_attempt")),
        "{problems:?}"
    );
}
