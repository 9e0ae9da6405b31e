// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before anything else: it sets an environment variable while there is one thread.
    #[cfg(target_os = "linux")]
    sundial_desktop::webkit::choose_compositing();
    sundial_desktop::run();
}
