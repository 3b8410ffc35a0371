//! numpy arrays in and out.

use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A float vector copied out of a numpy array (any shape, flattened in C order).
///
/// It is copied, not borrowed, so that work on it can release the GIL without another
/// Python thread mutating the buffer underneath. The copy is a client's plaintext
/// update: it is wiped when dropped.
pub enum Floats {
    /// From a `float32` array.
    F32(Vec<f32>),
    /// From a `float64` array.
    F64(Vec<f64>),
}

impl Drop for Floats {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            Floats::F32(v) => v.zeroize(),
            Floats::F64(v) => v.zeroize(),
        }
    }
}

/// The elements in C order as one slice, for a C-contiguous array (`as_slice` alone
/// also takes a Fortran-ordered array, whose memory order is not C order).
fn c_slice<'a, T: numpy::Element>(a: &'a PyReadonlyArrayDyn<'_, T>) -> Option<&'a [T]> {
    if a.is_c_contiguous() {
        a.as_slice().ok()
    } else {
        None
    }
}

fn copy_out<T: numpy::Element + Copy>(a: &PyReadonlyArrayDyn<'_, T>) -> Vec<T> {
    match c_slice(a) {
        Some(s) => s.to_vec(),
        // Not C-contiguous: walk it in logical (C) order.
        None => a.as_array().iter().copied().collect(),
    }
}

/// Reads a numpy `float32` or `float64` array of any shape.
///
/// # Errors
/// `TypeError` for anything else (other dtypes, lists): convert with
/// `numpy.asarray(x, dtype=numpy.float32)` first.
pub fn floats(obj: &Bound<'_, PyAny>) -> PyResult<Floats> {
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        return Ok(Floats::F32(copy_out(&a)));
    }
    if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        return Ok(Floats::F64(copy_out(&a)));
    }
    Err(PyTypeError::new_err(format!(
        "expected a numpy float32 or float64 array, got {}",
        describe(obj)
    )))
}

/// Reads a numpy `uint64` array of any shape, flattened.
///
/// # Errors
/// `TypeError` for anything else.
pub fn words(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    match obj.extract::<PyReadonlyArrayDyn<'_, u64>>() {
        Ok(a) => Ok(copy_out(&a)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a numpy uint64 array, got {}",
            describe(obj)
        ))),
    }
}

/// `numpy.ndarray of dtype X` or the Python type name, for error messages.
fn describe(obj: &Bound<'_, PyAny>) -> String {
    if let Ok(a) = obj.cast::<numpy::PyUntypedArray>() {
        return format!("a numpy array of dtype {}", a.dtype());
    }
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown object".to_owned())
}
