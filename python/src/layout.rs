//! Whole models: the vectors of a session (names, shapes, dtypes) and the conversions of
//! a client's input (one array, a dict or a list of arrays) into float vectors and of
//! the decoded sums back into arrays of the original shapes and dtypes.
//!
//! The session binds each vector's name and flattened length (the protocol's vector
//! list, in the session id); the shapes and dtypes are the caller's, used only here to
//! check inputs and shape outputs.

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};

use crate::arrays::{self, Floats};
use crate::errors::misuse;

/// The dtype results come back in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        }
    }

    fn parse(s: &str) -> PyResult<Dtype> {
        match s {
            "float32" => Ok(Dtype::F32),
            "float64" => Ok(Dtype::F64),
            other => Err(PyValueError::new_err(format!(
                "vector dtype must be 'float32' or 'float64', not {other:?}"
            ))),
        }
    }
}

/// One vector of the session.
#[derive(Clone, Debug)]
pub struct VecSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: Dtype,
}

impl VecSpec {
    /// Number of floats (the product of the shape; 1 for a scalar).
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// `dtype:d0xd1x...:name`, the form `Config.to_dict` carries (a string, so that
    /// Flower's `ConfigRecord` accepts it).
    pub fn encode(&self) -> String {
        let shape: Vec<String> = self.shape.iter().map(ToString::to_string).collect();
        format!("{}:{}:{}", self.dtype.name(), shape.join("x"), self.name)
    }

    fn decode(s: &str) -> PyResult<VecSpec> {
        let bad = || {
            PyValueError::new_err(format!(
                "a vector given as a string must read 'dtype:shape:name' (e.g. 'float32:3x4:w'), not {s:?}"
            ))
        };
        let mut parts = s.splitn(3, ':');
        let (dtype, shape, name) = match (parts.next(), parts.next(), parts.next()) {
            (Some(d), Some(sh), Some(n)) => (d, sh, n),
            _ => return Err(bad()),
        };
        let shape = if shape.is_empty() {
            Vec::new()
        } else {
            shape
                .split('x')
                .map(|d| d.parse::<usize>().map_err(|_| bad()))
                .collect::<PyResult<_>>()?
        };
        Ok(VecSpec {
            name: name.to_owned(),
            shape,
            dtype: Dtype::parse(dtype)?,
        })
    }
}

/// The vectors of a session. `named` is false for `Config(n, dim)`: one unnamed vector,
/// inputs of any shape with `dim` elements, a flat `float64` result.
#[derive(Clone, Debug)]
pub struct Layout {
    pub named: bool,
    pub specs: Vec<VecSpec>,
}

/// A shape from an int or a sequence of ints.
fn shape_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    if let Ok(d) = obj.extract::<usize>() {
        return Ok(vec![d]);
    }
    if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
        if let Ok(s) = obj.extract::<Vec<usize>>() {
            return Ok(s);
        }
    }
    Err(PyTypeError::new_err(format!(
        "a vector's shape must be an int, a tuple of ints or a numpy array (a template), not {}",
        type_name(obj)
    )))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown object".to_owned())
}

/// A spec from a shape, a template array or (in a list) the encoded string form.
fn spec_of(name: String, obj: &Bound<'_, PyAny>) -> PyResult<VecSpec> {
    let np = obj.py().import("numpy")?;
    // An array, or a numpy scalar (`np.float32(0)`, shape `()`), is a template.
    if obj.is_instance(&np.getattr("ndarray")?)? || obj.is_instance(&np.getattr("generic")?)? {
        let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
        if kind != "f" {
            return Err(PyTypeError::new_err(format!(
                "a template array for vector {name:?} must have a float dtype, not {}",
                obj.getattr("dtype")?.str()?
            )));
        }
        let is32 = obj
            .getattr("dtype")?
            .getattr("itemsize")?
            .extract::<usize>()?
            == 4;
        return Ok(VecSpec {
            name,
            shape: obj.getattr("shape")?.extract()?,
            dtype: if is32 { Dtype::F32 } else { Dtype::F64 },
        });
    }
    Ok(VecSpec {
        name,
        shape: shape_of(obj)?,
        dtype: Dtype::F64,
    })
}

impl Layout {
    /// One unnamed vector of `dim` floats.
    pub fn flat(dim: usize) -> Layout {
        Layout {
            named: false,
            specs: vec![VecSpec {
                name: String::new(),
                shape: vec![dim],
                dtype: Dtype::F64,
            }],
        }
    }

    /// Parses `Config(vectors=...)`: a dict `name -> shape | template array`, or a list
    /// of shapes or templates (named `"0"`, `"1"`, ...) or of `'dtype:shape:name'`
    /// strings (what `to_dict` returns).
    pub fn parse(obj: &Bound<'_, PyAny>) -> PyResult<Layout> {
        let mut specs = Vec::new();
        if let Ok(d) = obj.cast::<PyDict>() {
            for (k, v) in d.iter() {
                let name: String = k.extract().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "vector names must be strings, not {}",
                        type_name(&k)
                    ))
                })?;
                specs.push(spec_of(name, &v)?);
            }
        } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            for (i, v) in obj.try_iter()?.enumerate() {
                let v = v?;
                if let Ok(s) = v.cast::<PyString>() {
                    specs.push(VecSpec::decode(&s.extract::<String>()?)?);
                } else {
                    specs.push(spec_of(i.to_string(), &v)?);
                }
            }
        } else {
            return Err(PyTypeError::new_err(format!(
                "vectors must be a dict (name -> shape or template array) or a list, not {}",
                type_name(obj)
            )));
        }
        if specs.is_empty() {
            return Err(PyValueError::new_err(
                "vectors must name at least one vector",
            ));
        }
        if let Some(s) = specs.iter().find(|s| s.size() == 0) {
            return Err(PyValueError::new_err(format!(
                "vector {:?} has shape {:?}: it must have at least one element",
                s.name, s.shape
            )));
        }
        Ok(Layout { named: true, specs })
    }

    /// `[(name, shape, dtype)]` for `Config.vectors`.
    pub fn describe<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.specs
            .iter()
            .map(|s| {
                let shape = PyTuple::new(py, &s.shape)?;
                PyTuple::new(
                    py,
                    [
                        s.name.clone().into_pyobject(py)?.into_any(),
                        shape.into_any(),
                        s.dtype.name().into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect()
    }

    /// Reads one client's input: one array (the single vector), a dict `name -> array`
    /// (exactly the session's names) or a list of arrays in order.
    ///
    /// # Errors
    /// `MisuseError` (`InputNames`, `InputCount`, `InputShape`) for an input that does
    /// not fit the session; `TypeError` for something that is not floats.
    pub fn read_input(&self, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Floats>> {
        if !self.named {
            // Any shape with `dim` elements (the core checks the length).
            return Ok(vec![floats(obj)?]);
        }
        let arrays: Vec<Bound<'_, PyAny>> = if let Ok(d) = obj.cast::<PyDict>() {
            let mut missing = Vec::new();
            let mut got = Vec::with_capacity(self.specs.len());
            for s in &self.specs {
                match d.get_item(&s.name)? {
                    Some(a) => got.push(a),
                    None => missing.push(s.name.clone()),
                }
            }
            let extra: Vec<String> = d
                .keys()
                .iter()
                .map(|k| k.str().map(|s| s.to_string()))
                .collect::<PyResult<Vec<_>>>()?
                .into_iter()
                .filter(|k| !self.specs.iter().any(|s| &s.name == k))
                .collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Err(misuse(
                    "InputNames",
                    format!(
                        "the input's names do not match the session's vectors: missing {missing:?}, unexpected {extra:?}"
                    ),
                ));
            }
            got
        } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
            if items.len() != self.specs.len() {
                return Err(misuse(
                    "InputCount",
                    format!(
                        "the input has {} arrays, the session has {} vectors",
                        items.len(),
                        self.specs.len()
                    ),
                ));
            }
            items
        } else if self.specs.len() == 1 {
            vec![obj.clone()]
        } else {
            return Err(PyTypeError::new_err(format!(
                "this session has {} vectors: give a dict (name -> array) or a list of arrays, not {}",
                self.specs.len(),
                type_name(obj)
            )));
        };
        arrays
            .iter()
            .zip(&self.specs)
            .map(|(a, s)| {
                let arr = as_float_array(a)?;
                let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
                if shape != s.shape {
                    return Err(misuse(
                        "InputShape",
                        format!(
                            "vector {:?} has shape {:?}, the session's is {:?}",
                            s.name, shape, s.shape
                        ),
                    ));
                }
                extract(&arr)
            })
            .collect()
    }

    /// The decoded sums as the caller gave the vectors: a flat `float64` array for an
    /// unnamed session, else a dict `name -> array` of the original shape and dtype.
    pub fn output<'py>(&self, py: Python<'py>, sums: &[Vec<f64>]) -> PyResult<Bound<'py, PyAny>> {
        if !self.named {
            let first = sums.first().cloned().unwrap_or_default();
            return Ok(first.into_pyarray(py).into_any());
        }
        let d = PyDict::new(py);
        for (s, sum) in self.specs.iter().zip(sums) {
            let a: Bound<'py, PyArray1<f64>> = sum.clone().into_pyarray(py);
            let mut a = a.call_method1("reshape", (PyTuple::new(py, &s.shape)?,))?;
            if s.dtype == Dtype::F32 {
                a = a.call_method1("astype", ("float32",))?;
            }
            d.set_item(&s.name, a)?;
        }
        Ok(d.into_any())
    }
}

/// Any float array-like as a numpy array: numpy arrays as they are; `bytes`,
/// `bytearray` and byte-formatted `memoryview`s as `float64` buffers; other buffers and
/// sequences through `numpy.asarray`; float dtypes other than float32/float64
/// (float16, longdouble) cast to float64.
///
/// # Errors
/// `TypeError` for integer, boolean, complex or object data.
pub fn as_float_array<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = if obj.is_instance(&np.getattr("ndarray")?)? {
        obj.clone()
    } else if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        np.call_method1("frombuffer", (obj, "float64"))?
    } else if let Ok(mv) = obj.cast::<PyMemoryView>() {
        let format: String = mv.getattr("format")?.extract()?;
        if matches!(format.as_str(), "B" | "b" | "c") {
            np.call_method1("frombuffer", (mv, "float64"))?
        } else {
            np.call_method1("asarray", (mv,))?
        }
    } else {
        np.call_method1("asarray", (obj,))?
    };
    let dtype = arr.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if kind != "f" {
        return Err(PyTypeError::new_err(format!(
            "expected floats (a float array, a sequence of floats or a float64 buffer), got {} of dtype {}",
            type_name(obj),
            dtype.str()?
        )));
    }
    Ok(arr)
}

/// Copies a float array out: float32 and float64 in native byte order as they are,
/// any other float array (float16, longdouble, another byte order) cast to float64.
fn extract(arr: &Bound<'_, PyAny>) -> PyResult<Floats> {
    match arrays::floats(arr) {
        Ok(f) => Ok(f),
        Err(_) => arrays::floats(&arr.call_method1("astype", ("float64",))?),
    }
}

/// [`as_float_array`] then copied out ([`extract`]).
pub fn floats(obj: &Bound<'_, PyAny>) -> PyResult<Floats> {
    extract(&as_float_array(obj)?)
}
