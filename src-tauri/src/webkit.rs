//! How WebKitGTK should draw the window on this machine (Linux only).
//!
//! WebKitGTK composites pages with OpenGL. On a machine without a GPU it can use (no DRI
//! render node: virtual machines, remote desktops, Xvfb, or `LIBGL_ALWAYS_SOFTWARE` set),
//! that OpenGL is Mesa's software rasterizer: every shader is compiled on the CPU at each cold
//! start, and GL buffers are held for nothing. WebKit's non-composited mode paints the same
//! page on the CPU directly. Sundial picks it there, and only there; a user's own
//! `WEBKIT_DISABLE_COMPOSITING_MODE` always wins. (Measured in benchmark B7; decisions/0008.)
//!
//! On the same machines GTK's own OpenGL is turned off (`GDK_GL=disable`): GDK opens GLX when
//! it opens the X display, to choose its visuals, which loads Mesa's software rasterizer and
//! LLVM (about 30 MiB resident, and their load time) into a process that, in non-composited
//! mode, never draws with OpenGL. That matters most in the tray (B8), where no window exists.

use std::ffi::OsStr;
use std::path::Path;

/// WebKitGTK's switch for its non-composited mode.
pub const COMPOSITING_ENV: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// GDK's OpenGL flags (GTK 3); `disable` keeps GDK from opening OpenGL at all.
pub const GDK_GL_ENV: &str = "GDK_GL";

/// What this machine offers WebKit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine<'a> {
    /// The user's own value of [`COMPOSITING_ENV`], if set.
    pub compositing_env: Option<&'a OsStr>,
    /// `LIBGL_ALWAYS_SOFTWARE` is set to something other than `0`.
    pub software_gl_forced: bool,
    /// A DRI render node exists (`/dev/dri/renderD*`): a GPU OpenGL can use.
    pub has_render_node: bool,
}

/// Whether Sundial should turn WebKit's compositing off on this machine.
pub fn disable_compositing(machine: &Machine<'_>) -> bool {
    machine.compositing_env.is_none() && (machine.software_gl_forced || !machine.has_render_node)
}

/// The variables Sundial sets for this machine: none where a GPU is used; where compositing is
/// turned off, GDK's OpenGL too, unless the user set `GDK_GL` themselves.
pub fn drawing_environment(
    machine: &Machine<'_>,
    gdk_gl_env: Option<&OsStr>,
) -> Vec<(&'static str, &'static str)> {
    if !disable_compositing(machine) {
        return Vec::new();
    }
    let mut vars = vec![(COMPOSITING_ENV, "1")];
    if gdk_gl_env.is_none() {
        vars.push((GDK_GL_ENV, "disable"));
    }
    vars
}

/// True when `dri` holds a render node.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Applies the choice to this process's environment, which WebKit reads when it starts.
/// Call first thing in `main`, while the process has one thread.
#[cfg(target_os = "linux")]
pub fn choose_compositing() {
    let compositing_env = std::env::var_os(COMPOSITING_ENV);
    let software = std::env::var_os("LIBGL_ALWAYS_SOFTWARE");
    let machine = Machine {
        compositing_env: compositing_env.as_deref(),
        software_gl_forced: software
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "0"),
        has_render_node: has_render_node(Path::new("/dev/dri")),
    };
    let gdk_gl_env = std::env::var_os(GDK_GL_ENV);
    for (name, value) in drawing_environment(&machine, gdk_gl_env.as_deref()) {
        // SAFETY: called at the start of `main`, before any other thread exists, so nothing
        // reads the environment while it changes.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(env: Option<&str>, forced: bool, gpu: bool) -> bool {
        disable_compositing(&Machine {
            compositing_env: env.map(OsStr::new),
            software_gl_forced: forced,
            has_render_node: gpu,
        })
    }

    #[test]
    fn compositing_is_turned_off_only_where_opengl_would_be_software() {
        assert!(!machine(None, false, true), "a GPU keeps WebKit's default");
        assert!(machine(None, false, false), "no render node: software GL");
        assert!(machine(None, true, true), "software GL forced by the user");
        assert!(
            !machine(Some("0"), false, false),
            "the user's own setting wins"
        );
        assert!(!machine(Some("1"), true, false), "and is left as it is");
    }

    #[test]
    fn gdk_opengl_is_turned_off_with_compositing_unless_the_user_chose() {
        let machine = |env: Option<&'static str>, gpu: bool| Machine {
            compositing_env: env.map(OsStr::new),
            software_gl_forced: false,
            has_render_node: gpu,
        };
        assert_eq!(
            drawing_environment(&machine(None, false), None),
            [(COMPOSITING_ENV, "1"), (GDK_GL_ENV, "disable")]
        );
        assert_eq!(
            drawing_environment(&machine(None, false), Some(OsStr::new("always"))),
            [(COMPOSITING_ENV, "1")],
            "the user's own GDK_GL is kept"
        );
        assert!(
            drawing_environment(&machine(None, true), None).is_empty(),
            "a GPU: GTK and WebKit keep OpenGL"
        );
        assert!(
            drawing_environment(&machine(Some("0"), false), None).is_empty(),
            "the user chose compositing: GDK keeps OpenGL for it"
        );
    }

    #[test]
    fn a_render_node_is_found_in_a_real_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_render_node(dir.path()));
        assert!(!has_render_node(&dir.path().join("missing")));
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dir.path()), "a card without a render node");
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dir.path()));
    }
}
