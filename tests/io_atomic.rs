//! Atomic writes leave either the old or the new file, never a temp file.

use lagrangian_ot::io::write_atomic;

#[test]
fn write_atomic_replaces_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    write_atomic(&path, b"first").unwrap();
    write_atomic(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn write_atomic_into_a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(write_atomic(&dir.path().join("missing/a.json"), b"x").is_err());
}
