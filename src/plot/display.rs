//! The evcxr rich-output wire format, kept in plain functions returning `String` so the exact
//! bytes a notebook receives can be tested.
//!
//! evcxr reads blocks `EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT` from the cell's stdout;
//! a `text/plain` block next to the SVG keeps terminals and diffs readable.

use std::io::Write;

/// One `text/plain` block followed by one `image/svg+xml` block. Trailing whitespace of both
/// parts is trimmed so each block ends with exactly one newline before its end marker.
///
/// ```
/// use lagrangian_ot::plot::evcxr_bundle;
/// assert_eq!(
///     evcxr_bundle("one panel", "<svg></svg>\n"),
///     "EVCXR_BEGIN_CONTENT text/plain\none panel\nEVCXR_END_CONTENT\n\
///      EVCXR_BEGIN_CONTENT image/svg+xml\n<svg></svg>\nEVCXR_END_CONTENT\n"
/// );
/// ```
pub fn evcxr_bundle(text: &str, svg: &str) -> String {
    format!(
        "{}{}",
        evcxr_block("text/plain", text),
        evcxr_block("image/svg+xml", svg)
    )
}

/// A single `text/plain` block (used for messages such as "figure not drawn: ...").
pub fn evcxr_text(text: &str) -> String {
    evcxr_block("text/plain", text)
}

fn evcxr_block(mime: &str, content: &str) -> String {
    format!(
        "EVCXR_BEGIN_CONTENT {mime}\n{}\nEVCXR_END_CONTENT\n",
        content.trim_end()
    )
}

/// Writes `output` to stdout in one locked write, so no other thread's output lands inside an
/// EVCXR block.
pub fn print_locked(output: &str) {
    let stdout = std::io::stdout();
    let mut handle = stdout.lock();
    // Display is best effort: a closed stdout must not abort the user's cell.
    let _ = handle.write_all(output.as_bytes());
    let _ = handle.flush();
}
