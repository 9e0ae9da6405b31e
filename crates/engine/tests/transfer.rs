//! Import as a preview, then an apply that checks again (files/transfer.rs, decisions/0018):
//! every crontab line in the report, nothing written by the preview, the jobs written in one
//! transaction, a stale plan refused, and `create_jobs` all or none. Real SQLite files; the
//! "other process" is a second engine on the same database.

mod files_support;

use files_support::*;
use sundial_engine::EngineError;
use sundial_engine::domain::Trigger;
use sundial_engine::files::crontab::SkipKind;
use sundial_engine::files::jobfile::OnConflict;
use sundial_engine::files::transfer::{
    self, ApplyError, EntryOutcome, ExportFormat, ExportSettings, ImportFormat, ImportPlan,
    ImportSource,
};

const CRONTAB: &str = "# nightly jobs\nMAILTO=me@example.com\n0 2 * * * /usr/bin/backup --all\n61 * * * * echo never\n*/15 * * * * echo ping\n";

fn crontab(text: &str) -> ImportSource {
    ImportSource {
        text: text.into(),
        format: ImportFormat::Crontab,
        origin: "crontab".into(),
        timezone: Some("Europe/Paris".into()),
        on_conflict: OnConflict::Error,
    }
}

fn jobs_to_create(plan: &ImportPlan) -> Vec<(u32, String)> {
    plan.entries
        .iter()
        .filter_map(|e| match &e.outcome {
            EntryOutcome::Create { name, .. } => Some((e.line.unwrap(), name.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_crontab_preview_lists_every_line_with_a_job_or_a_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let plan = transfer::preview(&engine, &crontab(CRONTAB)).await.unwrap();

    assert_eq!(plan.entries.len(), 5, "{plan:#?}");
    let lines: Vec<u32> = plan.entries.iter().map(|e| e.line.unwrap()).collect();
    assert_eq!(lines, [1, 2, 3, 4, 5]);
    assert!(matches!(
        plan.entries[0].outcome,
        EntryOutcome::NotAJob {
            kind: SkipKind::Comment,
            ..
        }
    ));
    match &plan.entries[1].outcome {
        EntryOutcome::NotAJob { kind, reason } => {
            assert_eq!(*kind, SkipKind::Variable);
            assert!(reason.contains("MAILTO"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // The bad line: its text and why.
    assert_eq!(plan.entries[3].text, "61 * * * * echo never");
    match &plan.entries[3].outcome {
        EntryOutcome::NotAJob { kind, reason } => {
            assert_eq!(*kind, SkipKind::Invalid);
            assert!(reason.contains("61"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // The good lines: a job each, with the schedule in words and the command.
    match &plan.entries[2].outcome {
        EntryOutcome::Create {
            name,
            schedule,
            command,
            renamed_from,
        } => {
            assert_eq!(name, "crontab:3 /usr/bin/backup --all");
            assert!(schedule.contains("02:00"), "{schedule}");
            assert!(schedule.contains("Europe/Paris"), "{schedule}");
            assert_eq!(command, "/usr/bin/backup --all");
            assert_eq!(*renamed_from, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(jobs_to_create(&plan).len(), 2);
    // The bad line does not refuse the import (as in `sundialctl import`), and nothing is
    // written until the apply.
    assert!(plan.ready && plan.problems.is_empty(), "{plan:#?}");
    assert_eq!(plan.jobs, 2);
    assert!(engine.list_jobs().await.unwrap().is_empty());
    engine.shutdown(false).await;
}

#[tokio::test]
async fn applying_the_previewed_plan_creates_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let mut events = engine.subscribe();
    let source = crontab(CRONTAB);
    let plan = transfer::preview(&engine, &source).await.unwrap();
    let report = transfer::apply(&engine, &source, &plan).await.unwrap();
    assert_eq!(report.created.len(), 2);
    let jobs = engine.list_jobs().await.unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j.spec.name.as_str()).collect();
    assert_eq!(
        names,
        ["crontab:3 /usr/bin/backup --all", "crontab:5 echo ping"]
    );
    assert_eq!(
        jobs[0].spec.trigger,
        Trigger::Cron {
            expr: "0 2 * * *".into(),
            timezone: Some("Europe/Paris".into())
        }
    );
    // The window hears of each new job.
    let mut changed = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let sundial_engine::EngineEvent::JobChanged { job_id } = e {
            changed.push(job_id);
        }
    }
    for job in &jobs {
        assert!(
            changed.contains(&job.id),
            "no JobChanged for {}",
            job.spec.name
        );
    }
    // The same crontab again: both names are taken, so the plan refuses it as a whole.
    let again = transfer::preview(&engine, &source).await.unwrap();
    assert!(!again.ready);
    assert_eq!(again.problems.len(), 2, "{again:#?}");
    assert!(matches!(
        again.entries[2].outcome,
        EntryOutcome::Refused { .. }
    ));
    let Err(ApplyError::Problems(problems)) = transfer::apply(&engine, &source, &again).await
    else {
        panic!("a refused plan must not apply")
    };
    assert!(
        problems[0].to_string().contains("line 3"),
        "{}",
        problems[0]
    );
    assert_eq!(engine.list_jobs().await.unwrap().len(), 2);
    engine.shutdown(false).await;
}

#[tokio::test]
async fn a_plan_made_stale_by_another_process_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let window = passive_engine(dir.path()).await;
    let cli = passive_engine(dir.path()).await;
    let source = crontab(CRONTAB);
    let plan = transfer::preview(&window, &source).await.unwrap();
    assert!(plan.ready);

    // Between the preview and the confirmation, another process takes one of the names.
    cli.create_job(spec(
        "crontab:5 echo ping",
        command("echo mine"),
        Trigger::Manual,
    ))
    .await
    .unwrap();

    let err = transfer::apply(&window, &source, &plan).await.unwrap_err();
    let ApplyError::Stale { now } = &err else {
        panic!("{err:?}")
    };
    assert!(err.to_string().contains("preview again"), "{err}");
    assert!(!now.ready, "the fresh plan shows the name taken");
    let names: Vec<String> = window
        .list_jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.spec.name)
        .collect();
    assert_eq!(
        names,
        ["crontab:5 echo ping"],
        "the backup job was not created"
    );

    // With rename, the fresh plan can be applied: both jobs, one under a new name.
    let mut renaming = source.clone();
    renaming.on_conflict = OnConflict::Rename;
    let plan = transfer::preview(&window, &renaming).await.unwrap();
    assert_eq!(
        jobs_to_create(&plan),
        [
            (3, "crontab:3 /usr/bin/backup --all".to_string()),
            (5, "crontab:5 echo ping (2)".to_string())
        ]
    );
    transfer::apply(&window, &renaming, &plan).await.unwrap();
    assert_eq!(cli.list_jobs().await.unwrap().len(), 3);
    window.shutdown(false).await;
    cli.shutdown(false).await;
}

#[tokio::test]
async fn a_replace_edited_elsewhere_after_the_preview_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let window = passive_engine(dir.path()).await;
    let cli = passive_engine(dir.path()).await;
    let existing = window
        .create_job(spec(
            "nightly",
            command("echo old"),
            cron("0 1 * * *", None),
        ))
        .await
        .unwrap();
    let file = r#"version = 1

[[jobs]]
name = "nightly"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }
"#;
    let source = ImportSource {
        text: file.into(),
        format: ImportFormat::Toml,
        origin: String::new(),
        timezone: None,
        on_conflict: OnConflict::Replace,
    };
    let plan = transfer::preview(&window, &source).await.unwrap();
    assert_eq!(plan.entries[0].line, Some(3));
    assert!(matches!(
        plan.entries[0].outcome,
        EntryOutcome::Replace { revision: 1, .. }
    ));
    let mut edited = existing.spec.clone();
    edited.description = "edited in the CLI".into();
    cli.update_job(existing.id, edited, 1).await.unwrap();

    assert!(matches!(
        transfer::apply(&window, &source, &plan).await,
        Err(ApplyError::Stale { .. })
    ));
    let stored = window.get_job(existing.id).await.unwrap();
    assert_eq!(stored.spec.description, "edited in the CLI");
    assert_eq!(stored.spec.trigger, cron("0 1 * * *", None));

    // Previewed again, it applies: same id, the file's definition.
    let plan = transfer::preview(&window, &source).await.unwrap();
    let report = transfer::apply(&window, &source, &plan).await.unwrap();
    assert_eq!(report.replaced[0].id, existing.id);
    assert_eq!(
        window.get_job(existing.id).await.unwrap().spec.trigger,
        Trigger::Manual
    );
    window.shutdown(false).await;
    cli.shutdown(false).await;
}

#[tokio::test]
async fn a_file_with_a_bad_job_lists_every_job_and_refuses_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let file = r#"version = 1

[[jobs]]
name = "fine"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }

[[jobs]]
name = "bad cron"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "cron", expr = "61 * * * *" }

[[jobs]]
name = "odd field"
kind = { type = "command", program = { mode = "exec", program = "/bin/true" } }
trigger = { type = "manual" }
priority = 3
"#;
    let source = ImportSource {
        text: file.into(),
        format: ImportFormat::Toml,
        origin: String::new(),
        timezone: None,
        on_conflict: OnConflict::Error,
    };
    let plan = transfer::preview(&engine, &source).await.unwrap();
    let summary: Vec<(Option<u32>, &str, bool)> = plan
        .entries
        .iter()
        .map(|e| {
            (
                e.line,
                e.text.as_str(),
                matches!(e.outcome, EntryOutcome::Refused { .. }),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Some(3), "fine", false),
            (Some(8), "bad cron", true),
            (Some(13), "odd field", true)
        ]
    );
    match &plan.entries[1].outcome {
        EntryOutcome::Refused { problems, .. } => {
            assert!(problems[0].starts_with("trigger.expr: "), "{problems:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!plan.ready);
    assert_eq!(plan.problems.len(), 2);
    assert!(matches!(
        transfer::apply(&engine, &source, &plan).await,
        Err(ApplyError::Problems(_))
    ));
    assert!(engine.list_jobs().await.unwrap().is_empty());
    engine.shutdown(false).await;
}

#[tokio::test]
async fn create_jobs_writes_all_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let a = spec("a", command("echo a"), Trigger::Manual);
    let b = spec("b", command("echo b"), cron("*/5 * * * *", None));

    // The third fails in the write itself (the name is the first one's): none stays.
    let err = engine
        .create_jobs(vec![a.clone(), b.clone(), a.clone()])
        .await
        .unwrap_err();
    let fields = err.field_errors().expect("a field error").clone();
    assert_eq!(fields.0[0].field, "name", "{err}");
    assert!(engine.list_jobs().await.unwrap().is_empty());

    // One invalid among good ones: refused before anything is written, named by its place.
    let mut bad = spec("c", command("echo c"), cron("61 * * * *", None));
    bad.description = String::new();
    let err = engine.create_jobs(vec![a.clone(), bad]).await.unwrap_err();
    let EngineError::Invalid(errors) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.0[0].field, "jobs[1].trigger.expr", "{err}");
    assert!(engine.list_jobs().await.unwrap().is_empty());

    let created = engine.create_jobs(vec![a, b]).await.unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(engine.list_jobs().await.unwrap().len(), 2);
    // They are scheduled like any new job.
    assert!(engine.next_fire(created[1].id).await.unwrap().is_some());
    engine.shutdown(false).await;
}

#[tokio::test]
async fn export_gives_the_files_and_what_did_not_translate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = passive_engine(dir.path()).await;
    let cron_job = engine
        .create_job(spec(
            "ping",
            command("echo ping"),
            cron("*/10 * * * *", Some("UTC")),
        ))
        .await
        .unwrap();
    let manual = engine
        .create_job(spec("by hand", command("echo hi"), Trigger::Manual))
        .await
        .unwrap();
    let settings = ExportSettings::default();
    let toml = transfer::export(&engine, &[cron_job.id], ExportFormat::Toml, &settings)
        .await
        .unwrap();
    assert_eq!(toml.files.len(), 1);
    assert_eq!(toml.files[0].name, "sundial-jobs.toml");
    assert!(toml.files[0].content.contains("name = \"ping\""));
    assert!(!toml.files[0].content.contains("by hand"));

    let k8s = transfer::export(
        &engine,
        &[cron_job.id, manual.id],
        ExportFormat::Kubernetes,
        &settings,
    )
    .await
    .unwrap();
    assert!(k8s.files[0].content.contains("schedule: \"*/10 * * * *\""));
    assert_eq!(k8s.untranslatable[0].job, "by hand");

    let systemd = transfer::export(&engine, &[], ExportFormat::Systemd, &settings)
        .await
        .unwrap();
    let names: Vec<&str> = systemd.files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"sundial-ping.timer"), "{names:?}");
    engine.shutdown(false).await;
}
