//! The jobs folder never destroys history: renames, moves, checkouts and deletions of real
//! files keep each job's id and runs; writes that do not change a job file cause no sync.

mod files_support;

use std::path::Path;
use std::time::Duration;

use files_support::*;
use sundial_engine::Engine;
use sundial_engine::domain::{JobId, RunId};
use sundial_engine::files::folder::SETTLE;
use sundial_engine::files::{FolderEvent, JobsFolder};
use sundial_engine::store::RunFilter;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

const LIMIT: Duration = Duration::from_secs(10);

fn job_file(name: &str, body: &str) -> String {
    format!(
        "version = 1\n\n[[jobs]]\nname = \"{name}\"\nkind = {{ type = \"command\", program = {{ mode = \"script\", interpreter = \"sh\", body = \"{body}\" }} }}\ntrigger = {{ type = \"cron\", expr = \"0 6 * * *\", timezone = \"UTC\" }}\n"
    )
}

fn job_file_with_id(id: JobId, name: &str, body: &str) -> String {
    job_file(name, body).replace("[[jobs]]\n", &format!("[[jobs]]\nid = \"{id}\"\n"))
}

async fn next_event(
    rx: &mut Receiver<FolderEvent>,
    what: &str,
    mut matches: impl FnMut(&FolderEvent) -> bool,
) -> FolderEvent {
    within(what, LIMIT, async {
        loop {
            let event = rx.recv().await.expect("folder events");
            if matches(&event) {
                return event;
            }
        }
    })
    .await
}

/// Every event that arrives within `window` (the sync must stay quiet, or not archive, for
/// that long: a bounded watch, not a wait for something to happen).
async fn events_within(rx: &mut Receiver<FolderEvent>, window: Duration) -> Vec<FolderEvent> {
    let end = Instant::now() + window;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(end, rx.recv()).await {
            Ok(Ok(event)) => seen.push(event),
            Ok(Err(RecvError::Lagged(n))) => panic!("{n} folder events lost"),
            Ok(Err(RecvError::Closed)) | Err(_) => return seen,
        }
    }
}

/// Runs the job once, to its end, and returns the run.
async fn run_once(engine: &Engine, id: JobId) -> RunId {
    let run = engine.run_now(id).await.unwrap().id;
    within("the run to finish", LIMIT, async {
        while !engine.get_run(run).await.unwrap().status.is_terminal() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    run
}

async fn runs_of(engine: &Engine, id: JobId) -> Vec<RunId> {
    let filter = RunFilter {
        job_id: Some(id),
        limit: 1000,
        ..RunFilter::default()
    };
    engine
        .list_runs(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// The engine, a folder watched with one job file `a.toml` defining `nightly`, and the job
/// with one finished run.
struct Setup {
    _data: tempfile::TempDir,
    root: tempfile::TempDir,
    engine: Engine,
    folder: JobsFolder,
    events: Receiver<FolderEvent>,
    job: JobId,
    run: RunId,
}

impl Setup {
    async fn new() -> Setup {
        let data = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("jobs")).unwrap();
        std::fs::create_dir(root.path().join("elsewhere")).unwrap();
        let engine = passive_engine(data.path()).await;
        std::fs::write(
            root.path().join("jobs/a.toml"),
            job_file("nightly", "echo one"),
        )
        .unwrap();
        let (folder, initial) = JobsFolder::start(engine.clone(), root.path().join("jobs"))
            .await
            .unwrap();
        assert!(
            matches!(&initial[..], [FolderEvent::Synced { created, .. }] if created == &["nightly"]),
            "{initial:?}"
        );
        let job = engine
            .store()
            .find_job_by_name("nightly")
            .await
            .unwrap()
            .unwrap()
            .job
            .id;
        let run = run_once(&engine, job).await;
        let events = folder.subscribe();
        Setup {
            _data: data,
            root,
            engine,
            folder,
            events,
            job,
            run,
        }
    }

    fn jobs(&self, name: &str) -> std::path::PathBuf {
        self.root.path().join("jobs").join(name)
    }

    /// The job is still there, enabled, with its first run among its runs.
    async fn assert_kept(&self) {
        let job = self.engine.get_job(self.job).await.unwrap();
        assert!(job.spec.enabled, "{job:?}");
        assert!(runs_of(&self.engine, self.job).await.contains(&self.run));
        assert_eq!(self.engine.list_jobs().await.unwrap().len(), 1);
    }

    /// Nothing is archived (or reported missing) until well after the settle window.
    async fn assert_nothing_archived(&mut self) {
        let seen = events_within(&mut self.events, SETTLE + Duration::from_millis(700)).await;
        assert!(
            !seen.iter().any(|e| matches!(
                e,
                FolderEvent::Archived { .. } | FolderEvent::Removed { .. }
            )),
            "{seen:?}"
        );
    }

    async fn finish(self) {
        self.folder.stop().await;
        self.engine.shutdown(false).await;
    }
}

#[tokio::test]
async fn a_renamed_file_keeps_its_jobs_with_their_ids_and_runs() {
    let mut s = Setup::new().await;
    std::fs::rename(s.jobs("a.toml"), s.jobs("b.toml")).unwrap();
    next_event(&mut s.events, "b.toml taking the job over", |e| {
        matches!(e, FolderEvent::Synced { file, taken_over, unchanged, .. }
            if file == "b.toml" && taken_over == &["nightly"] && unchanged == &["nightly"])
    })
    .await;
    s.assert_kept().await;
    s.assert_nothing_archived().await;
    s.assert_kept().await;
    let second = run_once(&s.engine, s.job).await;

    // The job now belongs to b.toml: an edit of b.toml updates it in place.
    std::fs::write(s.jobs("b.toml"), job_file("nightly", "echo two")).unwrap();
    next_event(&mut s.events, "the edit of b.toml", |e| {
        matches!(e, FolderEvent::Synced { file, updated, .. } if file == "b.toml" && updated == &["nightly"])
    })
    .await;
    s.assert_kept().await;
    assert!(runs_of(&s.engine, s.job).await.contains(&second));
    s.finish().await;
}

#[tokio::test]
async fn a_file_moved_out_and_back_within_a_second_loses_nothing() {
    let mut s = Setup::new().await;
    let away = s.root.path().join("elsewhere/a.toml");
    std::fs::rename(s.jobs("a.toml"), &away).unwrap();
    next_event(&mut s.events, "a.toml reported missing", |e| {
        matches!(e, FolderEvent::Missing { file, jobs } if file == "a.toml" && jobs == &["nightly"])
    })
    .await;
    // Still the job as it was while the file is away.
    s.assert_kept().await;
    std::fs::rename(&away, s.jobs("a.toml")).unwrap();
    next_event(&mut s.events, "a.toml back", |e| {
        matches!(e, FolderEvent::Synced { file, unchanged, .. } if file == "a.toml" && unchanged == &["nightly"])
    })
    .await;
    s.assert_nothing_archived().await;
    s.assert_kept().await;
    s.finish().await;
}

#[tokio::test]
async fn a_file_deleted_for_good_archives_its_jobs_and_a_file_defining_them_again_restores_them() {
    let mut s = Setup::new().await;
    let started = Instant::now();
    std::fs::remove_file(s.jobs("a.toml")).unwrap();
    next_event(&mut s.events, "a.toml archived", |e| {
        matches!(e, FolderEvent::Archived { file, archived } if file == "a.toml" && archived == &["nightly"])
    })
    .await;
    assert!(
        started.elapsed() >= SETTLE,
        "archived before the settle window"
    );
    let job = s.engine.get_job(s.job).await.unwrap();
    assert!(!job.spec.enabled, "an archived job is disabled");
    assert!(runs_of(&s.engine, s.job).await.contains(&s.run));

    // Another file defining a job of that name takes it back, enabled as the file says.
    std::fs::write(s.jobs("c.toml"), job_file("nightly", "echo again")).unwrap();
    next_event(&mut s.events, "c.toml restoring the job", |e| {
        matches!(e, FolderEvent::Synced { file, taken_over, updated, .. }
            if file == "c.toml" && taken_over == &["nightly"] && updated == &["nightly"])
    })
    .await;
    s.assert_kept().await;
    assert_eq!(
        s.engine.get_job(s.job).await.unwrap().spec.kind,
        command("echo again")
    );
    s.finish().await;
}

#[tokio::test]
async fn a_file_deleted_while_not_watching_is_archived_at_the_next_start() {
    let s = Setup::new().await;
    let (engine, job, run) = (s.engine.clone(), s.job, s.run);
    s.folder.stop().await;
    std::fs::remove_file(s.root.path().join("jobs/a.toml")).unwrap();
    let (folder, initial) = JobsFolder::start(engine.clone(), s.root.path().join("jobs"))
        .await
        .unwrap();
    assert!(
        matches!(&initial[..], [FolderEvent::Archived { archived, .. }] if archived == &["nightly"]),
        "{initial:?}"
    );
    assert!(!engine.get_job(job).await.unwrap().spec.enabled);
    assert!(runs_of(&engine, job).await.contains(&run));
    folder.stop().await;

    // Back under another name while stopped: taken back at the start.
    std::fs::write(
        s.root.path().join("jobs/z.json"),
        r#"{"version": 1, "jobs": [{"name": "NIGHTLY", "kind": {"type": "command", "program": {"mode": "exec", "program": "/bin/true"}}, "trigger": {"type": "manual"}}]}"#,
    )
    .unwrap();
    let (folder, initial) = JobsFolder::start(engine.clone(), s.root.path().join("jobs"))
        .await
        .unwrap();
    assert!(
        matches!(&initial[..], [FolderEvent::Synced { taken_over, .. }] if taken_over == &["NIGHTLY"]),
        "{initial:?}"
    );
    let back = engine.get_job(job).await.unwrap();
    assert!(back.spec.enabled);
    assert!(runs_of(&engine, job).await.contains(&run));
    folder.stop().await;
    engine.shutdown(false).await;
}

#[tokio::test]
async fn a_git_style_checkout_replacing_the_file_keeps_its_jobs() {
    let mut s = Setup::new().await;
    // Written to a temporary name, then renamed over the file (git, editors' atomic save);
    // the new version names the job's id, so renaming the job keeps it too.
    let temp = s.jobs("a.toml.lock");
    std::fs::write(&temp, job_file_with_id(s.job, "nightly report", "echo two")).unwrap();
    std::fs::rename(&temp, s.jobs("a.toml")).unwrap();
    next_event(&mut s.events, "the checked-out a.toml", |e| {
        matches!(e, FolderEvent::Synced { file, updated, .. } if file == "a.toml" && updated == &["nightly report"])
    })
    .await;
    s.assert_kept().await;
    let job = s.engine.get_job(s.job).await.unwrap();
    assert_eq!(job.spec.name, "nightly report");
    assert_eq!(job.spec.kind, command("echo two"));

    // A checkout that unlinks the file and writes it again a moment later.
    std::fs::remove_file(s.jobs("a.toml")).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::write(s.jobs("a.toml"), job_file("nightly report", "echo three")).unwrap();
    next_event(&mut s.events, "the rewritten a.toml", |e| {
        matches!(e, FolderEvent::Synced { file, updated, .. } if file == "a.toml" && updated == &["nightly report"])
    })
    .await;
    s.assert_nothing_archived().await;
    s.assert_kept().await;
    s.finish().await;
}

fn write_many(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("f{i}.toml")),
            job_file(&format!("x{i}"), "x"),
        )
        .unwrap();
        std::fs::write(dir.join(format!("f{i}.log")), "log line\n").unwrap();
    }
}

#[tokio::test]
async fn writes_that_do_not_change_a_job_file_cause_no_sync() {
    let root = tempfile::tempdir().unwrap();
    let jobs = root.path().join("jobs");
    std::fs::create_dir(&jobs).unwrap();
    // The engine's database and run logs inside the watched folder, as when the jobs folder
    // is the data folder.
    let engine = passive_engine(&jobs.join("state")).await;
    let file = jobs.join("a.toml");
    std::fs::write(&file, job_file("nightly", "echo one")).unwrap();
    let (folder, initial) = JobsFolder::start(engine.clone(), &jobs).await.unwrap();
    assert_eq!(initial.len(), 1, "{initial:?}");
    let mut events = folder.subscribe();
    let job = engine
        .store()
        .find_job_by_name("nightly")
        .await
        .unwrap()
        .unwrap()
        .job
        .id;

    // Runs write the database and the run logs; other files are written in a sibling folder,
    // in a subfolder, and beside the job file; the job file is read, touched and rewritten
    // with the same text.
    for _ in 0..5 {
        run_once(&engine, job).await;
    }
    write_many(&root.path().join("sibling"), 100);
    write_many(&jobs.join("state/runs/extra"), 100);
    write_many(&jobs.join("sub"), 100);
    for i in 0..100 {
        std::fs::write(jobs.join(format!("notes{i}.txt")), "not a job file").unwrap();
    }
    for _ in 0..50 {
        std::fs::read_to_string(&file).unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    std::fs::write(&file, job_file("nightly", "echo one")).unwrap();
    let seen = events_within(&mut events, Duration::from_secs(1)).await;
    assert!(seen.is_empty(), "{seen:?}");

    // The watch is alive: a real change is synced at once, once.
    std::fs::write(&file, job_file("nightly", "echo two")).unwrap();
    next_event(
        &mut events,
        "the real change",
        |e| matches!(e, FolderEvent::Synced { updated, .. } if updated == &["nightly"]),
    )
    .await;
    let seen = events_within(&mut events, Duration::from_millis(500)).await;
    assert!(seen.is_empty(), "synced again: {seen:?}");
    folder.stop().await;
    engine.shutdown(false).await;
}

#[tokio::test]
async fn a_job_taken_out_of_a_file_is_archived_and_comes_back_when_the_file_has_it_again() {
    let mut s = Setup::new().await;
    let two = format!(
        "{}{}",
        job_file("nightly", "echo one"),
        job_file("weekly", "echo w").replace("version = 1\n", "")
    );
    std::fs::write(s.jobs("a.toml"), &two).unwrap();
    next_event(
        &mut s.events,
        "weekly added",
        |e| matches!(e, FolderEvent::Synced { created, .. } if created == &["weekly"]),
    )
    .await;
    std::fs::write(s.jobs("a.toml"), job_file("weekly", "echo w")).unwrap();
    next_event(&mut s.events, "nightly taken out", |e| {
        matches!(e, FolderEvent::Synced { archived, unchanged, .. } if archived == &["nightly"] && unchanged == &["weekly"])
    })
    .await;
    let job = s.engine.get_job(s.job).await.unwrap();
    assert!(!job.spec.enabled);
    assert!(runs_of(&s.engine, s.job).await.contains(&s.run));
    std::fs::write(s.jobs("a.toml"), &two).unwrap();
    next_event(
        &mut s.events,
        "nightly back",
        |e| matches!(e, FolderEvent::Synced { taken_over, .. } if taken_over == &["nightly"]),
    )
    .await;
    let job = s.engine.get_job(s.job).await.unwrap();
    assert!(job.spec.enabled);
    assert!(runs_of(&s.engine, s.job).await.contains(&s.run));
    s.finish().await;
}
