//! Saving and restoring the parameters of any [`Trainable`] as a NumPy `.npz` archive.
//!
//! Parameters are stored in [`Trainable::params`] order as `param_000`, `param_001`, … (float32,
//! 2-D), readable from Python with `numpy.load`. Writes go to a temporary file in the target folder
//! that is then renamed, so an interrupted save never leaves a truncated checkpoint behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use dfdx::shapes::HasShape;
use ndarray::{Array2, ArrayD};
use ndarray_npy::{NpzReader, NpzWriter};

use super::{TensorDevice, Trainable};
use crate::error::{Error, Result};

/// The archive name of the `index`-th parameter.
fn param_name(index: usize) -> String {
    format!("param_{index:03}")
}

/// Writes `model`'s parameters to `path` (an `.npz` file), atomically (temp file + rename).
///
/// ```
/// use lagrangian_ot::nn::{Mlp, Trainable};
/// let dev = lagrangian_ot::device::default_device(0);
/// let mlp = Mlp::builder(2).hidden(&[8]).build(&dev)?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("potential.npz");
/// mlp.save(&path)?;
/// let mut copy = Mlp::builder(2).hidden(&[8]).build(&lagrangian_ot::device::default_device(1))?;
/// copy.load(&path)?;
/// assert_eq!(copy.params()[0].as_vec(), mlp.params()[0].as_vec());
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
pub fn save_params<D: TensorDevice<f32>, M: Trainable<D> + ?Sized>(
    model: &M,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    let temp = temporary_sibling(path)?;
    let written =
        write_archive(model, &temp).and_then(|()| std::fs::rename(&temp, path).map_err(Error::from));
    if written.is_err() {
        // Best effort: the temporary file is ours and useless after a failure.
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(|e| match e {
        Error::Checkpoint { .. } => e,
        other => Error::checkpoint(path, other),
    })
}

fn write_archive<D: TensorDevice<f32>, M: Trainable<D> + ?Sized>(model: &M, temp: &Path) -> Result<()> {
    let mut writer = NpzWriter::new(BufWriter::new(File::create(temp)?));
    for (index, param) in model.params().into_iter().enumerate() {
        let array = Array2::from_shape_vec(*param.shape(), param.as_vec())
            .expect("a tensor's element count matches its shape");
        writer
            .add_array(param_name(index), &array)
            .map_err(|e| Error::checkpoint(temp, e))?;
    }
    let file = writer.finish().map_err(|e| Error::checkpoint(temp, e))?;
    let file = file
        .into_inner()
        .map_err(|e| Error::checkpoint(temp, e.error()))?;
    file.sync_all()?;
    Ok(())
}

/// `.<name>.tmp-<pid>` next to `path`, so the final rename stays on one file system.
fn temporary_sibling(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::checkpoint(path, "the path does not name a file"))?
        .to_string_lossy();
    Ok(path.with_file_name(format!(".{name}.tmp-{}", std::process::id())))
}

/// Replaces `model`'s parameters by those stored in `path`.
///
/// The file must hold exactly one array per parameter with the model's shapes; otherwise this is
/// an [`Error::Checkpoint`] naming the first mismatch, and the model is left untouched.
pub fn load_params<D: TensorDevice<f32>, M: Trainable<D> + ?Sized>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::checkpoint(path, e))?;
    let mut reader = NpzReader::new(file).map_err(|e| Error::checkpoint(path, e))?;
    let stored = reader.len();
    let mut params = model.params_mut();
    if stored != params.len() {
        return Err(Error::checkpoint(
            path,
            format!(
                "the file holds {stored} arrays but the model has {} parameters",
                params.len()
            ),
        ));
    }
    let mut arrays = Vec::with_capacity(params.len());
    for (index, param) in params.iter().enumerate() {
        let name = param_name(index);
        let array: ArrayD<f32> = reader
            .by_name(&name)
            .map_err(|e| Error::checkpoint(path, format!("{name}: {e}")))?;
        let (rows, cols) = *param.shape();
        if array.shape() != [rows, cols] {
            return Err(Error::checkpoint(
                path,
                format!(
                    "{name} has shape {:?} but the model expects [{rows}, {cols}]",
                    array.shape()
                ),
            ));
        }
        if !array.iter().all(|v| v.is_finite()) {
            return Err(Error::checkpoint(
                path,
                format!("{name} holds NaN or infinite values"),
            ));
        }
        arrays.push(array);
    }
    for (param, array) in params.iter_mut().zip(arrays) {
        param.copy_from(&array.as_standard_layout().iter().copied().collect::<Vec<_>>());
    }
    Ok(())
}
