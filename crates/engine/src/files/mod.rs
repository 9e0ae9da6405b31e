//! Jobs as files: the versioned job file format (export/import), a live jobs folder, crontab
//! import, translation to systemd timers and Kubernetes CronJobs, and `transfer`: import as a
//! preview then an apply that checks again, and export, shared by the window and the CLI.

pub mod crontab;
pub mod folder;
pub mod jobfile;
pub mod transfer;
pub mod translate;

pub use crontab::{CrontabFlavor, CrontabImport, CrontabOptions, parse_crontab};
pub use folder::{FolderEvent, JobsFolder};
pub use jobfile::{
    ExportOptions, FileFormat, FileJob, ImportOptions, ImportProblem, ImportReport,
    JOB_FILE_VERSION, JobFile, OnConflict, export_jobs, import_jobs, parse_job_file,
};
pub use translate::{KubernetesOptions, Translation, Untranslatable, to_kubernetes, to_systemd};
