//! Python bindings for secagg: the `secagg._secagg` extension module.
//!
//! The Python package `secagg` (python/secagg/__init__.py) re-exports everything here;
//! the type stubs in python/secagg/_secagg.pyi document the Python-facing API.

use pyo3::prelude::*;

/// A Python `dict` from `key => value` pairs (each value converted as `set_item` does);
/// `?` on each insertion, so it is used inside a function returning `PyResult`.
macro_rules! py_dict {
    ($py:expr; $($key:literal => $value:expr),* $(,)?) => {{
        let d = pyo3::types::PyDict::new($py);
        $(pyo3::types::PyDictMethods::set_item(&d, $key, $value)?;)*
        d
    }};
}

mod accountant;
mod arrays;
mod bench;
mod config;
mod dp;
mod errors;
mod layout;
mod params;
mod quant;
mod session;
mod sim;

/// The native module.
#[pymodule]
fn _secagg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<quant::Quantizer>()?;
    m.add_class::<quant::Aggregate>()?;
    m.add_function(wrap_pyfunction!(quant::min_ring_bits, m)?)?;
    m.add_function(wrap_pyfunction!(quant::max_quant_bits, m)?)?;
    m.add_function(wrap_pyfunction!(params::find_params, m)?)?;
    m.add_function(wrap_pyfunction!(params::check_params, m)?)?;
    m.add_class::<config::Config>()?;
    m.add_class::<dp::DistributedDP>()?;
    m.add_function(wrap_pyfunction!(dp::dp_noise, m)?)?;
    accountant::register(m)?;
    m.add_class::<session::Client>()?;
    m.add_class::<session::Server>()?;
    m.add_class::<sim::Simulation>()?;
    m.add_function(wrap_pyfunction!(config::signing_keypair, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(bench::_drive_in_rust, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
