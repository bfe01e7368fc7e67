//! Dense f32 layers through the system OpenBLAS's `sgemm`, for the frozen wide networks of inner loops
//! (the spline amortiser inside a c-transform solve).
//!
//! dfdx's CPU matmul (the `gemm` crate) runs AVX2 kernels and wraps every layer in tensor allocations
//! and broadcasts; OpenBLAS, already linked for ndarray-linalg, picks AVX-512 kernels where the CPU
//! has them. On the 2-core development machine a 4 → 1024 → 1024 → 56 ReLU network runs at 234 GFLOP/s
//! on 1024 rows and 141 on 64 this way, against dfdx's 102 and 48 (`examples/amortiser_forward.rs`;
//! `examples/gemm_peak.rs`: sgemm 266–276 GFLOP/s at 1024³, dfdx 164–177). ndarray's `blas`
//! feature would switch every `dot` in the crate and with it the rounding of every seeded result;
//! this module is used only where a caller asks for it ([`super::HostMlp::with_blas`]).
//!
//! On first use OpenBLAS is given as many threads as rayon has, so `RAYON_NUM_THREADS` bounds both (two
//! jobs side by side at one thread each do not oversubscribe the cores). OpenBLAS splits a product
//! over rows and columns, never over the summed dimension, so the values do not depend on the thread
//! count (checked on the development machine: bit-identical outputs at 1, 2 and 3 threads).

use crate::error::{Error, Result};
use cblas_sys::{cblas_sgemm, CBLAS_LAYOUT, CBLAS_TRANSPOSE};
use ndarray::{Array2, ArrayView1, ArrayView2};
use std::os::raw::c_int;
use std::sync::Once;

extern "C" {
    // OpenBLAS's own control (not part of CBLAS); ndarray-linalg's `openblas-system` links it.
    fn openblas_set_num_threads(threads: c_int);
}

static THREADS_SET: Once = Once::new();

/// `a · w + bias` (the bias added to every row) for `a: [N, K]`, `w: [K, M]`, `bias: [M]`, by one
/// OpenBLAS `sgemm`. Any memory layout is accepted (non-contiguous views are copied).
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let w = array![[1.0f32, 0.0, 1.0], [0.0, 1.0, 1.0]];
/// let out = lagrangian_ot::nn::blas::affine(a.view(), w.view(), array![0.5f32, 0.0, -1.0].view())?;
/// assert_eq!(out, array![[1.5f32, 2.0, 2.0], [3.5, 4.0, 6.0]]);
/// # Ok::<(), lagrangian_ot::Error>(())
/// ```
///
/// Errors with [`Error::Shape`] when the inner widths or the bias disagree, or a width does not fit
/// BLAS's 32-bit sizes.
pub fn affine(
    a: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    bias: ArrayView1<'_, f32>,
) -> Result<Array2<f32>> {
    let ((n, k), (k_w, m)) = (a.dim(), w.dim());
    let fits = |v: usize| c_int::try_from(v).is_ok();
    if k != k_w || bias.len() != m || ![n, k, m].into_iter().all(fits) {
        return Err(Error::shape(
            "blas::affine",
            format!("a [N, K], w [K, M], bias [M] within {} rows", c_int::MAX),
            format!("a {:?}, w {:?}, bias [{}]", a.dim(), w.dim(), bias.len()),
        ));
    }
    // The bias rows are the accumulator that sgemm adds a·w to (beta = 1).
    let mut out = Array2::from_shape_fn((n, m), |(_, j)| bias[j]);
    if n == 0 || m == 0 || k == 0 {
        return Ok(out);
    }
    let (a, w) = (a.as_standard_layout(), w.as_standard_layout());
    let (a, w) = (
        a.as_slice().expect("standard layout is contiguous"),
        w.as_slice().expect("standard layout is contiguous"),
    );
    let c = out.as_slice_mut().expect("a fresh array is contiguous");
    THREADS_SET.call_once(|| {
        let threads = c_int::try_from(rayon::current_num_threads()).unwrap_or(1);
        // SAFETY: a plain setter of OpenBLAS's thread count, called once before any product.
        unsafe { openblas_set_num_threads(threads) }
    });
    let (n, k, m) = (n as c_int, k as c_int, m as c_int);
    // SAFETY: row-major a [n, k], w [k, m] and c [n, m] are contiguous slices of exactly those sizes,
    // with leading dimensions k, m and m; sgemm reads a and w and writes only c.
    unsafe {
        cblas_sgemm(
            CBLAS_LAYOUT::CblasRowMajor,
            CBLAS_TRANSPOSE::CblasNoTrans,
            CBLAS_TRANSPOSE::CblasNoTrans,
            n,
            m,
            k,
            1.0,
            a.as_ptr(),
            k,
            w.as_ptr(),
            m,
            1.0,
            c.as_mut_ptr(),
            m,
        );
    }
    Ok(out)
}
