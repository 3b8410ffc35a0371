//! Rust errors as Python exceptions: one class per [`ErrorKind`], all under `SecAggError`.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;
use secagg::dp::DpError;
use secagg::{Error, ErrorKind};

create_exception!(
    secagg,
    SecAggError,
    PyException,
    "Base class of every error raised by secagg's Rust core.\n\n\
     Attributes: ``kind`` (the category: 'encoding', 'crypto', 'peer-misbehaved', \
     'threshold' or 'misuse'), ``variant`` (the Rust error variant, e.g. \
     'RingTooNarrow') and ``name`` (the same stable name). ``str(e)`` is the Rust \
     error's message."
);
create_exception!(
    secagg,
    EncodingError,
    SecAggError,
    "Bytes from another party did not decode (length, version, canonical form)."
);
create_exception!(
    secagg,
    CryptoError,
    SecAggError,
    "A cryptographic check failed (authentication, non-contributory key agreement)."
);
create_exception!(
    secagg,
    PeerMisbehavedError,
    SecAggError,
    "Another party sent something well-formed that the protocol forbids."
);
create_exception!(
    secagg,
    ThresholdError,
    SecAggError,
    "Too few parties or shares remain for the threshold."
);
create_exception!(
    secagg,
    MisuseError,
    SecAggError,
    "The caller used the API in a way it does not allow (wrong state, bad configuration)."
);

create_exception!(
    secagg,
    DPError,
    MisuseError,
    "Distributed differential privacy refused a parameter or a step (``kind`` 'misuse'; \
     ``name`` one of 'InvalidEpsilon', 'InvalidDelta', 'InvalidParameter', \
     'NoiseBelowTarget', 'RingTooNarrowForNoise', 'Unreachable', 'Overflow', \
     'RoundingFailed', 'BudgetExhausted'): raised by ``Config(..., dp=...)``, \
     :class:`Accountant` and :class:`Budget`."
);
create_exception!(
    secagg,
    BudgetExhaustedError,
    DPError,
    "A privacy budget would be exceeded (``name`` 'BudgetExhausted'): \
     :meth:`Accountant.step` with ``budget=`` spent nothing. Attributes ``epsilon`` (what \
     the run would reach), ``budget`` (the budget's epsilon), ``delta`` and ``rounds`` \
     (the rounds spent so far)."
);
create_exception!(
    secagg,
    ClipError,
    MisuseError,
    "A client's input had elements outside ``[-clip, clip]`` and the client was created \
     with ``on_clip='raise'`` (``kind`` 'misuse', ``name`` 'Clipped'). The input was \
     refused; the client is as it was before."
);
create_exception!(
    secagg,
    ClipWarning,
    PyUserWarning,
    "Issued (``warnings.warn``) when a client created with ``on_clip='warn'`` clipped \
     elements of its input to ``[-clip, clip]``. Filter it with \
     ``warnings.simplefilter('error', secagg.ClipWarning)`` and the like."
);

/// A [`ClipError`] with `kind = "misuse"` and `name = variant = "Clipped"`.
pub fn clip_error(msg: String) -> PyErr {
    let err = ClipError::new_err(msg);
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("kind", ErrorKind::Misuse.to_string());
        let _ = value.setattr("variant", "Clipped");
        let _ = value.setattr("name", "Clipped");
    });
    err
}

/// Converts a Rust error into the Python exception of its kind, with `kind` (from
/// [`Error::kind`]) and `variant` and `name` (both [`Error::name`]) attributes set.
pub fn to_py(e: Error) -> PyErr {
    let kind = e.kind();
    let msg = e.to_string();
    let err = match kind {
        ErrorKind::Encoding => EncodingError::new_err(msg),
        ErrorKind::Crypto => CryptoError::new_err(msg),
        ErrorKind::PeerMisbehaved => PeerMisbehavedError::new_err(msg),
        ErrorKind::Threshold => ThresholdError::new_err(msg),
        ErrorKind::Misuse => match &e {
            Error::Dp(DpError::BudgetExhausted { .. }) => BudgetExhaustedError::new_err(msg),
            Error::Dp(_) => DPError::new_err(msg),
            _ => MisuseError::new_err(msg),
        },
        _ => SecAggError::new_err(msg),
    };
    Python::attach(|py| {
        let value = err.value(py);
        if let Error::Dp(DpError::BudgetExhausted { epsilon, budget }) = &e {
            let _ = value.setattr("epsilon", epsilon.0);
            let _ = value.setattr("budget", budget.0);
        }
        // Setting attributes on a fresh exception instance cannot fail in practice; if it
        // did, the exception would still carry its class and message.
        let _ = value.setattr("kind", kind.to_string());
        let _ = value.setattr("variant", e.name());
        let _ = value.setattr("name", e.name());
    });
    err
}

/// A `MisuseError` raised by the bindings themselves (no Rust error behind it), with
/// `kind = "misuse"` and the given `variant` (also its `name`).
pub fn misuse(variant: &str, msg: String) -> PyErr {
    let err = MisuseError::new_err(msg);
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("kind", ErrorKind::Misuse.to_string());
        let _ = value.setattr("variant", variant);
        let _ = value.setattr("name", variant);
    });
    err
}

/// `?`-friendly conversion for results from the Rust core.
pub trait IntoPy<T> {
    /// Maps the error with [`to_py`].
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for secagg::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SecAggError", py.get_type::<SecAggError>())?;
    m.add("EncodingError", py.get_type::<EncodingError>())?;
    m.add("CryptoError", py.get_type::<CryptoError>())?;
    m.add("PeerMisbehavedError", py.get_type::<PeerMisbehavedError>())?;
    m.add("ThresholdError", py.get_type::<ThresholdError>())?;
    m.add("MisuseError", py.get_type::<MisuseError>())?;
    m.add("DPError", py.get_type::<DPError>())?;
    m.add(
        "BudgetExhaustedError",
        py.get_type::<BudgetExhaustedError>(),
    )?;
    m.add("ClipError", py.get_type::<ClipError>())?;
    m.add("ClipWarning", py.get_type::<ClipWarning>())?;
    Ok(())
}
